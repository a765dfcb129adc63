package amp

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestScaler_Update(t *testing.T) {
	s := NewScaler()
	s.GrowthInterval = 3
	if s.Scale() != 65536 {
		t.Fatalf("initial scale %v", s.Scale())
	}
	steps := []struct {
		sumsq float64
		step  bool
		scale float32
	}{
		{1.0, true, 65536},
		{2.0, true, 65536},
		{3.0, true, 131072}, // third clean step: grow
		{math.Inf(1), false, 65536},
		{math.NaN(), false, 32768}, // consecutive overflows keep backing off
		{1.0, true, 32768},
		{1.0, true, 32768},
		{math.Inf(-1), false, 16384}, // the clean count restarts
		{1.0, true, 16384},
		{1.0, true, 16384},
		{1.0, true, 32768},
	}
	for i, st := range steps {
		if got := s.Update(st.sumsq); got != st.step || s.Scale() != st.scale {
			t.Fatalf("step %d (sumsq %v): step=%v scale=%v, want step=%v scale=%v", i, st.sumsq, got, s.Scale(), st.step, st.scale)
		}
	}
	if s.Skipped() != 3 || s.InvScale() != 1/s.Scale() {
		t.Fatalf("skipped %d, inv %v", s.Skipped(), s.InvScale())
	}
}

func TestScaler_Bounds(t *testing.T) {
	s := NewScaler()
	for range 100 {
		s.Update(math.NaN())
	}
	if s.Scale() != float32(s.MinScale) {
		t.Fatalf("scale fell to %v, below MinScale %v", s.Scale(), s.MinScale)
	}
	s = NewScaler()
	s.GrowthInterval = 1
	for range 100 {
		s.Update(1)
	}
	if s.Scale() != float32(s.MaxScale) {
		t.Fatalf("scale grew to %v, above MaxScale", s.Scale())
	}
}

func TestBFloat16(t *testing.T) {
	cases := map[float32]uint16{1: 0x3f80, -2: 0xc000, 0: 0, 1.00390625: 0x3f80 /* tie → even */, 1.01171875: 0x3f82 /* tie → even up */}
	for f, want := range cases {
		if got := ToBFloat16(f); got != want {
			t.Errorf("ToBFloat16(%v) = %#x, want %#x", f, got, want)
		}
	}
	if v := FromBFloat16(ToBFloat16(float32(math.NaN()))); !math.IsNaN(float64(v)) {
		t.Error("NaN did not survive")
	}
	if v := FromBFloat16(ToBFloat16(float32(math.Inf(1)))); !math.IsInf(float64(v), 1) {
		t.Error("Inf did not survive")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		f := float32(r.NormFloat64() * 100)
		got := FromBFloat16(ToBFloat16(f))
		if rel := math.Abs(float64(got-f)) / math.Abs(float64(f)); rel > 1.0/256 {
			t.Fatalf("bf16 round trip of %v = %v: relative error %g > 2^-8", f, got, rel)
		}
	}
}

// TestFloat16 checks every binary16 value round-trips and that rounding
// picks the nearest representable value.
func TestFloat16(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := FromFloat16(uint16(h))
		if math.IsNaN(float64(f)) {
			if back := ToFloat16(f); back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#x → %#x", h, back)
			}
			continue
		}
		if back := ToFloat16(f); back != uint16(h) {
			t.Fatalf("%#x → %v → %#x", h, f, back)
		}
	}
	cases := map[float32]uint16{65504: 0x7bff, 65520: 0x7c00 /* rounds to Inf */, 1e-8: 0, 5.960464477539063e-08: 1,
		1.00048828125: 0x3c00 /* tie → even */, 1.00146484375: 0x3c02 /* tie → even up */}
	for f, want := range cases {
		if got := ToFloat16(f); got != want {
			t.Errorf("ToFloat16(%v) = %#x, want %#x", f, got, want)
		}
	}
}

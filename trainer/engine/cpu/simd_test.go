package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The assembly kernels must give the scalar loops' results: bit for bit,
// except moments, whose float64 sums differ in order only.

// withScalar runs f with the assembly kernels switched off.
func withScalar(t *testing.T, f func()) {
	t.Helper()
	if !hasAVX2 {
		t.Skip("no AVX2 kernels on this machine")
	}
	hasAVX2 = false
	defer func() { hasAVX2 = true }()
	f()
}

// simdData returns n values, a quarter of them rounded to few levels so
// that windows hold ties and all-negative windows occur.
func simdData(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		if i%4 == 0 {
			x[i] = float32(math.Round(float64(x[i])))
		}
	}
	return x
}

func TestSIMD_BatchNormPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, hw := range [][2]int{{8, 8}, {4, 8}, {12, 8}, {6, 8}, {16, 16}, {26, 26}, {32, 32}, {34, 34}} {
		g := poolGeom{h: hw[0], w: hw[1], p: hw[0] / 2, q: hw[1] / 2}
		xs := simdData(r, hw[0]*hw[1])
		for _, ss := range [][2]float32{{1.3, 0.1}, {-0.7, 0.2}, {0, 0.5}, {0, -1}} {
			py, idx := make([]float32, g.p*g.q), make([]int32, g.p*g.q)
			bnPool2x2(g, xs, py, idx, ss[0], ss[1])
			wpy, widx := make([]float32, g.p*g.q), make([]int32, g.p*g.q)
			withScalar(t, func() { bnPool2x2(g, xs, wpy, widx, ss[0], ss[1]) })
			for i := range py {
				if math.Float32bits(py[i]) != math.Float32bits(wpy[i]) || idx[i] != widx[i] {
					t.Fatalf("%dx%d scale %v shift %v window %d: (%v, %d), scalar (%v, %d)",
						hw[0], hw[1], ss[0], ss[1], i, py[i], idx[i], wpy[i], widx[i])
				}
			}
		}
	}
}

func TestSIMD_Elementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 3, 8, 13, 64, 1027} {
		x, d := simdData(r, n), simdData(r, n)
		got, want := append([]float32(nil), d...), append([]float32(nil), d...)
		addTo(got, x)
		withScalar(t, func() { addTo(want, x) })
		bitsEqual(t, "addTo", got, want)

		bnBackAffine(x, got, 0.3, -1.7, 2.9)
		withScalar(t, func() { bnBackAffine(x, want, 0.3, -1.7, 2.9) })
		bitsEqual(t, "bnBackAffine", got, want)

		s, ss := moments(x, 0.25)
		var ws, wss float64
		withScalar(t, func() { ws, wss = moments(x, 0.25) })
		if math.Abs(s-ws) > 1e-12*(1+math.Abs(ws)) || math.Abs(ss-wss) > 1e-12*(1+wss) {
			t.Errorf("moments of %d: (%v, %v), scalar (%v, %v)", n, s, ss, ws, wss)
		}
	}
}

func TestSIMD_PoolSums(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, hw := range []int{4, 8, 16, 26, 32} {
		g := poolGeom{h: hw, w: hw, p: hw / 2, q: hw / 2}
		xs := simdData(r, hw*hw)
		py, idx := make([]float32, g.p*g.q), make([]int32, g.p*g.q)
		bnPool2x2(g, xs, py, idx, 1.1, -0.2)
		pdy := simdData(r, len(py))
		s1, s2 := poolSums(xs, py, pdy, idx, 0.3)
		var w1, w2 float32
		withScalar(t, func() { w1, w2 = poolSums(xs, py, pdy, idx, 0.3) })
		if d1, d2 := math.Abs(float64(s1-w1)), math.Abs(float64(s2-w2)); d1 > 1e-4*(1+math.Abs(float64(w1))) || d2 > 1e-4*(1+math.Abs(float64(w2))) {
			t.Errorf("%dx%d: (%v, %v), scalar (%v, %v)", hw, hw, s1, s2, w1, w2)
		}
		if hw >= 16 && (s1 == 0 || s2 == 0) {
			t.Errorf("%dx%d: sums (%v, %v) should not vanish", hw, hw, s1, s2)
		}
	}
}

func TestSIMD_BatchNormPoolGrad2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, hw := range []int{8, 16, 26, 32, 34} {
		g := poolGeom{h: hw, w: hw, p: hw / 2, q: hw / 2}
		xs := simdData(r, hw*hw)
		py, idx := make([]float32, g.p*g.q), make([]int32, g.p*g.q)
		bnPool2x2(g, xs, py, idx, 0.9, -0.1)
		pdy := simdData(r, len(py))
		got, want := make([]float32, len(xs)), make([]float32, len(xs))
		bnPoolGrad2x2(g, xs, got, py, pdy, idx, 0.2, -0.4, 1.7, -2.3)
		withScalar(t, func() {
			bnBackAffine(xs, want, 0.2, -0.4, 1.7)
			poolScatter(want, py, pdy, idx, -2.3)
		})
		bitsEqual(t, "bnPoolGrad2x2", got, want)
	}
}

func TestSIMD_BatchNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{5, 8, 64, 1027} {
		x, dy := simdData(r, n), simdData(r, n)
		x[0] = float32(math.NaN())
		for _, relu := range []bool{false, true} {
			k := bnTask{gamma: []float32{1.3}, beta: []float32{-0.2}, relu: relu}
			got, want := make([]float32, n), make([]float32, n)
			k.apply(0, 0.1, 0.9, x, got)
			withScalar(t, func() { k.apply(0, 0.1, 0.9, x, want) })
			bitsEqual(t, "apply", got, want)
		}
		y := make([]float32, n)
		for i, v := range simdData(r, n) {
			y[i] = max(v, 0)
		}
		x[0] = 0.5
		for _, ys := range [][]float32{nil, y} {
			got, want := make([]float32, n), make([]float32, n)
			bnBackDX(x, dy, ys, got, 0.1, 1.7, -0.3, 0.8)
			withScalar(t, func() { bnBackDX(x, dy, ys, want, 0.1, 1.7, -0.3, 0.8) })
			bitsEqual(t, "bnBackDX", got, want)
			s1, s2 := bnBackSums(x, dy, ys, 0.1)
			var w1, w2 float32
			withScalar(t, func() { w1, w2 = bnBackSums(x, dy, ys, 0.1) })
			if d1, d2 := math.Abs(float64(s1-w1)), math.Abs(float64(s2-w2)); d1 > 1e-4*(1+math.Abs(float64(w1))) || d2 > 1e-4*(1+math.Abs(float64(w2))) {
				t.Errorf("bnBackSums of %d (masked %v): (%v, %v), scalar (%v, %v)", n, ys != nil, s1, s2, w1, w2)
			}
		}
	}
}

func bitsEqual(t *testing.T, op string, got, want []float32) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s of %d: element %d is %v, scalar %v", op, len(got), i, got[i], want[i])
		}
	}
}

package cpu

import (
	"math"
	"testing"

	"sweep/trainer/engine"
)

// TestNormCDF_Range checks the fast Φ, φ and e^v behind GELU against
// float64 over the whole useful range, tails included: the backend
// conformance suite only sees N(0,1) inputs.
func TestNormCDF_Range(t *testing.T) {
	var worstCDF, worstPDF, worstExp float64
	for i := -4000; i <= 4000; i++ {
		x := float32(i) / 200 // −20 … 20
		xv := float64(x)
		cdf, pdf := normCDF(x)
		wantCDF := 0.5 * math.Erfc(-xv/math.Sqrt2)
		wantPDF := math.Exp(-xv*xv/2) / math.Sqrt(2*math.Pi)
		worstCDF = max(worstCDF, math.Abs(float64(cdf)-wantCDF))
		worstPDF = max(worstPDF, math.Abs(float64(pdf)-wantPDF))
		if v := float32(-xv * xv / 8); v >= -87 {
			want := math.Exp(float64(v))
			worstExp = max(worstExp, math.Abs(float64(expNeg(v))-want)/want)
		}
	}
	t.Logf("max |Φ err| %.2g  max |φ err| %.2g  max rel e^v err %.2g", worstCDF, worstPDF, worstExp)
	if worstCDF > 2e-7 || worstPDF > 1e-7 || worstExp > 3e-7 {
		t.Fatalf("Φ err %g (want ≤ 2e-7), φ err %g (≤ 1e-7), e^v rel err %g (≤ 3e-7)", worstCDF, worstPDF, worstExp)
	}
	if c, p := normCDF(-30); c != 0 || p != 0 {
		t.Fatalf("Φ(−30), φ(−30) = %g, %g, want 0, 0 (underflow, not NaN)", c, p)
	}
}

// BenchmarkAct compares GELU's forward and backward with ReLU's on one
// thread, over fastnet's stage-1 activation of one image (64×15×15):
//
//	go test -run '^$' -bench 'Act' ./trainer/engine/cpu/
func BenchmarkAct(b *testing.B) {
	const n = 64 * 15 * 15
	x, y, dy, dx := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i%97)/24 - 2
		dy[i] = 1
	}
	for _, act := range []engine.Act{engine.ReLU, engine.GELU} {
		b.Run(act.String()+"/forward", func(b *testing.B) {
			b.SetBytes(4 * n)
			for range b.N {
				actForward(act, x, y)
			}
		})
		b.Run(act.String()+"/backward", func(b *testing.B) {
			b.SetBytes(4 * n)
			for range b.N {
				actBackward(act, x, y, dy, dx)
			}
		})
	}
}

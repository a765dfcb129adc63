package cpu

import (
	"math"
	"math/rand/v2"
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
// thread, over fastnet's stage-1 activation of one image (64×15×15), and
// with gelu-go, the scalar Go loop the assembly kernels replace:
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
	b.Run("gelu-go/forward", func(b *testing.B) {
		b.SetBytes(4 * n)
		for range b.N {
			for i, v := range x {
				c, _ := normCDF(v)
				y[i] = v * c
			}
		}
	})
	b.Run("gelu-go/backward", func(b *testing.B) {
		b.SetBytes(4 * n)
		for range b.N {
			for i, v := range x {
				c, d := normCDF(v)
				dx[i] = dy[i] * (c + v*d)
			}
		}
	})
}

// geluInputs returns n inputs mixing N(0,1) activations, the −20…20 range,
// random bit patterns (huge, subnormal, NaN payloads) and the edge values
// where a kernel could part from the scalar path: ±0, ±Inf, NaN, the
// extremes, and the neighbourhood of |x| ≈ 13.19, where −x²/2 crosses −87
// and e^(−x²/2) flushes to zero.
func geluInputs(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	edge := []float32{0, float32(math.Copysign(0, -1)), inf, -inf, nan, -nan,
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		1e-30, -1e-30, 1, -1, 20, -20, 1e4, -1e4, 1e20, -1e20}
	for _, b := range []float32{13.190906, 13.190907} {
		for d := float32(-4); d <= 4; d++ {
			v := math.Nextafter32(b, inf)
			for range int(d + 4) {
				v = math.Nextafter32(v, inf)
			}
			edge = append(edge, v, -v)
		}
	}
	x := make([]float32, n)
	for i := range x {
		switch {
		case i < len(edge):
			x[i] = edge[i]
		case i%3 == 0:
			x[i] = float32(r.NormFloat64())
		case i%3 == 1:
			x[i] = float32(r.Float64()*40 - 20)
		default:
			x[i] = math.Float32frombits(r.Uint32())
		}
	}
	r.Shuffle(len(x), func(i, j int) { x[i], x[j] = x[j], x[i] })
	return x
}

// geluScalar is gelu.go's scalar loop, the reference for the kernels.
func geluScalar(x, dy, y, dx []float32) {
	for i, v := range x {
		c, d := normCDF(v)
		y[i] = v * c
		dx[i] = dy[i] * (c + v*d)
	}
}

// geluClose reports whether a kernel's result matches the scalar one:
// both NaN, or the same bits when the scalar path is compiled as written.
// A build that fuses its multiply-adds (GOAMD64=v3 may) moves Φ by a few
// float32 ulps of 0.5 (Φ's error is absolute), so there the bound is
// 8·2⁻²⁴ times scale, the size of the factor Φ is multiplied by: |x| for
// y, |dy|·max(1, |x|) for dx.
func geluClose(got, want, scale float32, fused bool) bool {
	if got != got || want != want {
		return got != got && want != want
	}
	if !fused {
		return math.Float32bits(got) == math.Float32bits(want)
	}
	if math.IsInf(float64(want), 0) {
		return got == want
	}
	return math.Abs(float64(got)-float64(want)) <= 8*0x1p-24*float64(scale)
}

// mulAdd is a·b + c as Go compiles it, not inlined, so a test can see
// whether this build fuses it into one rounding.
//
//go:noinline
func mulAdd(a, b, c float32) float32 { return a*b + c }

// scalarFused reports whether this build fuses float32 multiply-adds:
// (1+2⁻¹²)² rounds to 1+2⁻¹¹ unfused, and the fused result keeps 2⁻²⁴.
func scalarFused() bool {
	const a = 1 + 0x1p-12
	return mulAdd(a, a, -(1+0x1p-11)) != 0
}

// TestGELU_Kernels checks every GELU path this CPU can run (AVX-512,
// AVX2, and the dispatching geluForward/geluBackward with their scalar
// tails, at lengths 0-100 and unaligned starts) against the scalar loop on
// random and edge inputs, forward and backward.
func TestGELU_Kernels(t *testing.T) {
	const n = 1 << 16
	x := geluInputs(n, 7)
	dy := geluInputs(n, 8)
	for i := range dy {
		if i%2 == 0 { // half ordinary gradients, half anything
			dy[i] = float32(i%13) - 6
		}
	}
	wantY, wantDX := make([]float32, n), make([]float32, n)
	geluScalar(x, dy, wantY, wantDX)
	if scalarFused() {
		t.Log("this build fuses the scalar path's multiply-adds: checking within 8·2⁻²⁴ of Φ's factor")
	} else {
		t.Log("checking the kernels bit for bit against the scalar path")
	}

	type path struct {
		name     string
		ok       bool
		fwd, bwd func(x, dy, y, dx []float32)
	}
	paths := []path{
		{"AVX512", hasAVX512,
			func(x, _, y, _ []float32) { geluForwardAVX512(&x[0], &y[0], len(x)) },
			func(x, dy, _, dx []float32) { geluBackwardAVX512(&x[0], &dy[0], &dx[0], len(x)) }},
		{"AVX2", hasAVX2,
			func(x, _, y, _ []float32) { geluForwardAVX2(&x[0], &y[0], len(x)) },
			func(x, dy, _, dx []float32) { geluBackwardAVX2(&x[0], &dy[0], &dx[0], len(x)) }},
		{"Dispatch", true,
			func(x, _, y, _ []float32) { geluForward(x, y) },
			func(x, dy, _, dx []float32) { geluBackward(x, dy, dx) }},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			if !p.ok {
				t.Skipf("CPU lacks %s", p.name)
			}
			y, dx := make([]float32, n), make([]float32, n)
			p.fwd(x, dy, y, dx)
			p.bwd(x, dy, y, dx)
			checkGELU(t, x, dy, y, dx, wantY, wantDX)
			if p.name != "Dispatch" {
				return
			}
			for l := range 101 { // tails and unaligned starts
				lo := (l * 7) % 13
				y, dx := make([]float32, l), make([]float32, l)
				p.fwd(x[lo:lo+l], dy[lo:lo+l], y, dx)
				p.bwd(x[lo:lo+l], dy[lo:lo+l], y, dx)
				checkGELU(t, x[lo:lo+l], dy[lo:lo+l], y, dx, wantY[lo:lo+l], wantDX[lo:lo+l])
			}
		})
	}
}

func checkGELU(t *testing.T, x, dy, y, dx, wantY, wantDX []float32) {
	t.Helper()
	fused := scalarFused()
	bad := 0
	for i := range x {
		ax := float32(math.Abs(float64(x[i])))
		if !geluClose(y[i], wantY[i], ax, fused) || !geluClose(dx[i], wantDX[i], float32(math.Abs(float64(dy[i])))*max(1, ax), fused) {
			if bad++; bad <= 5 {
				t.Errorf("x=%g (%#08x) dy=%g: y=%g dx=%g, scalar y=%g dx=%g", x[i], math.Float32bits(x[i]), dy[i],
					y[i], dx[i], wantY[i], wantDX[i])
			}
		}
	}
	if bad > 5 {
		t.Errorf("%d of %d elements differ", bad, len(x))
	}
}

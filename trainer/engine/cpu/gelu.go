package cpu

import "math"

// GELU on the CPU: y = x·Φ(x) and dy/dx = Φ(x) + x·φ(x), with Φ and φ the
// standard normal CDF and density (the exact, erf-based GELU of PyTorch's
// nn.GELU default). Φ comes from Abramowitz & Stegun 7.1.26, an erfc
// approximation with absolute error ≤ 1.5e-7 that needs one exponential,
// e^(−x²/2), which is also φ's: forward and backward each cost one fast
// float32 exp instead of a float64 math.Erf and math.Exp per element
// (fastnet applies GELU to ~80k values per image, forward and backward).
//
// On amd64 the assembly kernels of gelu_amd64.s run the same float32
// operations in the same order on 16 (AVX-512) or 8 (AVX2) lanes: no FMA
// and a true division, so every path gives bit-identical results and a
// model's numbers do not depend on the CPU it trained on. Scalar Go, 20×
// slower, does the tails and other CPUs. Backend.ActForward/ActBackward
// already split the work over the goroutine pool (ewise.go).

// Constants of A&S 7.1.26: erfc(z) ≈ t·(a1 + t·(a2 + t·(a3 + t·(a4 +
// t·a5))))·e^(−z²), t = 1/(1 + p·z), z ≥ 0.
const (
	asP  = 0.3275911
	asA1 = 0.254829592
	asA2 = -0.284496736
	asA3 = 1.421413741
	asA4 = -1.453152027
	asA5 = 1.061405429

	invSqrt2   = 0.70710678118654752440
	invSqrt2Pi = 0.39894228040143267794
)

// normCDF returns Φ(x) and φ(x). It is branch-free in the sign of x
// (activations have random signs, and a mispredicted branch costs more than
// the arithmetic): Φ(x) = ½ + sign(x)·(½ − Φ(−|x|)).
func normCDF(x float32) (cdf, pdf float32) {
	const sign = 1 << 31
	bits := math.Float32bits(x)
	z := math.Float32frombits(bits&^sign) * invSqrt2 // |x|/√2
	e := expNeg(-0.5 * x * x)
	t := 1 / (1 + asP*z)
	tail := 0.5 * t * (asA1 + t*(asA2+t*(asA3+t*(asA4+t*asA5)))) * e // Φ(−|x|)
	half := math.Float32frombits(math.Float32bits(0.5-tail) | bits&sign)
	return 0.5 + half, e * invSqrt2Pi
}

// expNeg returns e^v for v ≤ 0 with float32 accuracy (relative error
// ~1e-7): v = n·ln2 + r with |r| ≤ ln2/2, e^r by its degree-6 Taylor
// polynomial, 2^n by the exponent bits. Below −87 (where e^v leaves the
// normal float32 range) it returns 0.
func expNeg(v float32) float32 {
	const (
		log2e = 1.44269504088896340736
		ln2hi = 0.693145751953125
		ln2lo = 1.428606765330187045e-06
	)
	if v < -87 {
		return 0
	}
	n := int32(v*log2e - 0.5) // round to nearest for v ≤ 0
	fn := float32(n)
	r := v - fn*ln2hi - fn*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return p * math.Float32frombits(uint32(n+127)<<23)
}

// geluVector returns how many leading elements of an n-element slice the
// GELU assembly kernels handle (a multiple of their width) and whether they
// are the 16-lane ones; the scalar loops do the rest. Both kernels compute
// bit-identical results to the scalar path.
func geluVector(n int) (m int, wide bool) {
	switch {
	case hasAVX512 && n >= 16:
		return n &^ 15, true
	case hasAVX2 && n >= 8:
		return n &^ 7, false
	}
	return 0, false
}

func geluForward(x, y []float32) {
	y = y[:len(x)]
	m, wide := geluVector(len(x))
	switch {
	case m > 0 && wide:
		geluForwardAVX512(&x[0], &y[0], m)
	case m > 0:
		geluForwardAVX2(&x[0], &y[0], m)
	}
	for i := m; i < len(x); i++ {
		c, _ := normCDF(x[i])
		y[i] = x[i] * c
	}
}

func geluBackward(x, dy, dx []float32) {
	dx, x = dx[:len(dy)], x[:len(dy)]
	m, wide := geluVector(len(dy))
	switch {
	case m > 0 && wide:
		geluBackwardAVX512(&x[0], &dy[0], &dx[0], m)
	case m > 0:
		geluBackwardAVX2(&x[0], &dy[0], &dx[0], m)
	}
	for i := m; i < len(dy); i++ {
		c, d := normCDF(x[i])
		dx[i] = dy[i] * (c + x[i]*d)
	}
}

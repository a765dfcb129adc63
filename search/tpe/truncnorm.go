package tpe

import (
	"math"
	"math/rand/v2"
)

// Standard normal helpers. Kernel means always lie inside their truncation
// interval, so standardised bounds satisfy a ≤ 0 ≤ b and b − a ≥ 1: the
// acceptance mass Φ(b) − Φ(a) is at least Φ(1) − Φ(0) ≈ 0.34 and can be
// computed directly without log-space tricks.

const (
	invSqrt2   = 0.7071067811865476
	logSqrt2Pi = 0.9189385332046728 // log √(2π)
)

// normCDF returns Φ(z), accurate in the left tail (via erfc).
func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z*invSqrt2) }

// normPPF returns Φ⁻¹(p) for p in (0, 1).
func normPPF(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// logGaussMass returns log(Φ(b) − Φ(a)) for a < b, computed on the side of
// zero where the CDF difference does not cancel.
func logGaussMass(a, b float64) float64 {
	switch {
	case b <= 0:
		return math.Log(normCDF(b) - normCDF(a))
	case a >= 0:
		return math.Log(normCDF(-a) - normCDF(-b))
	default:
		return math.Log1p(-normCDF(a) - normCDF(-b))
	}
}

// sampleTruncNorm draws from N(mu, sigma²) truncated to [low, high] by
// inverting the CDF. mu must lie in [low, high].
func sampleTruncNorm(rng *rand.Rand, mu, sigma, low, high float64) float64 {
	a, b := (low-mu)/sigma, (high-mu)/sigma
	pa, pb := normCDF(a), normCDF(b)
	z := normPPF(pa + rng.Float64()*(pb-pa))
	switch {
	case math.IsNaN(z):
		z = 0
	case z < a:
		z = a
	case z > b:
		z = b
	}
	return math.Min(math.Max(mu+sigma*z, low), high)
}

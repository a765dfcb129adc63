package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/c-bata/goptuna"
)

// Bounds describes a numeric goptuna distribution in one common form: the
// closed interval [Low, High] of internal values, whether it is searched on a
// log scale, and its grid Step (0 for continuous). Categorical distributions
// have N > 0 choices and no interval.
type Bounds struct {
	Low, High float64
	Log       bool
	Step      float64
	N         int // number of categories; 0 for numeric distributions
}

// Categorical reports whether b describes a categorical distribution.
func (b Bounds) Categorical() bool { return b.N > 0 }

// BoundsOf converts a goptuna distribution (value or pointer) to Bounds.
func BoundsOf(dist any) (Bounds, error) {
	switch d := dist.(type) {
	case goptuna.UniformDistribution:
		return Bounds{Low: d.Low, High: d.High}, nil
	case *goptuna.UniformDistribution:
		return Bounds{Low: d.Low, High: d.High}, nil
	case goptuna.LogUniformDistribution:
		return Bounds{Low: d.Low, High: d.High, Log: true}, nil
	case *goptuna.LogUniformDistribution:
		return Bounds{Low: d.Low, High: d.High, Log: true}, nil
	case goptuna.IntUniformDistribution:
		return Bounds{Low: float64(d.Low), High: float64(d.High), Step: 1}, nil
	case *goptuna.IntUniformDistribution:
		return Bounds{Low: float64(d.Low), High: float64(d.High), Step: 1}, nil
	case goptuna.StepIntUniformDistribution:
		return stepInt(d.Low, d.High, d.Step)
	case *goptuna.StepIntUniformDistribution:
		return stepInt(d.Low, d.High, d.Step)
	case goptuna.DiscreteUniformDistribution:
		return discrete(d.Low, d.High, d.Q)
	case *goptuna.DiscreteUniformDistribution:
		return discrete(d.Low, d.High, d.Q)
	case goptuna.CategoricalDistribution:
		return categorical(len(d.Choices))
	case *goptuna.CategoricalDistribution:
		return categorical(len(d.Choices))
	}
	return Bounds{}, fmt.Errorf("sampler: unsupported distribution %T", dist)
}

func stepInt(low, high, step int) (Bounds, error) {
	if step <= 0 {
		return Bounds{}, fmt.Errorf("sampler: step %d of int distribution must be positive", step)
	}
	// The largest grid point not above high is the real upper bound.
	top := low + (high-low)/step*step
	return Bounds{Low: float64(low), High: float64(top), Step: float64(step)}, nil
}

func discrete(low, high, q float64) (Bounds, error) {
	if !(q > 0) {
		return Bounds{}, fmt.Errorf("sampler: step %g of float distribution must be positive", q)
	}
	top := low + math.Floor((high-low)/q+1e-9)*q
	return Bounds{Low: low, High: top, Step: q}, nil
}

func categorical(n int) (Bounds, error) {
	if n == 0 {
		return Bounds{}, fmt.Errorf("sampler: categorical distribution has no choices")
	}
	return Bounds{N: n}, nil
}

// Single reports whether b admits exactly one value.
func (b Bounds) Single() bool {
	if b.Categorical() {
		return b.N == 1
	}
	return b.High <= b.Low
}

// Uniform draws one internal value uniformly: categories and grid points with
// equal probability (both bounds included), continuous values uniformly on
// the linear or log scale.
func (b Bounds) Uniform(rng *rand.Rand) float64 {
	switch {
	case b.Single():
		return b.Low // 0 for a one-choice categorical
	case b.Categorical():
		return float64(rng.IntN(b.N))
	case b.Step > 0:
		n := b.Points()
		return b.Snap(b.Low + float64(rng.IntN(n))*b.Step)
	case b.Log:
		lo, hi := math.Log(b.Low), math.Log(b.High)
		return clamp(math.Exp(lo+rng.Float64()*(hi-lo)), b.Low, b.High)
	default:
		return clamp(b.Low+rng.Float64()*(b.High-b.Low), b.Low, b.High)
	}
}

// Points returns the number of grid points of a stepped distribution
// (bounds included), or 0 for a continuous one.
func (b Bounds) Points() int {
	if b.Categorical() {
		return b.N
	}
	if b.Step <= 0 {
		return 0
	}
	return int(math.Floor((b.High-b.Low)/b.Step+1e-9)) + 1
}

// Snap rounds x to the nearest grid point inside the bounds (stepped
// distributions) or clamps it (continuous ones).
func (b Bounds) Snap(x float64) float64 {
	if b.Step > 0 {
		k := math.Round((x - b.Low) / b.Step)
		x = b.Low + k*b.Step
		if b.Step == math.Trunc(b.Step) && b.Low == math.Trunc(b.Low) {
			x = math.Round(x)
		}
	}
	return clamp(x, b.Low, b.High)
}

func clamp(x, lo, hi float64) float64 {
	return math.Min(math.Max(x, lo), hi)
}

package tpe

import (
	"math/rand/v2"

	"sweep/search/sampler"
)

// SampleWeighted runs one univariate TPE step for a param with bounds b,
// as Optuna's univariate TPE does, except that the caller weighs the
// "below" observations: l(x) is the Parzen estimator of below (internal
// values) with weights wBelow, g(x) that of above with DefaultWeights, and
// of count candidates drawn from l(x) the one with the largest
// log l(x) − log g(x) is returned as an internal value. MOTPE (search/mo)
// is built on it: Optuna weighs its below trials by their hypervolume
// contribution, and otherwise uses this estimator unchanged.
func SampleWeighted(rng *rand.Rand, b sampler.Bounds, below, wBelow, above []float64, count int) float64 {
	d := newDim(b)
	dims := []dim{d}
	p := estimatorParams{priorWeight: 1, considerPrior: true, magicClip: true}
	pl, pg := p, p
	pl.weights = func(int) []float64 { return wBelow }
	pg.weights = DefaultWeights
	l := newEstimator(dims, [][]float64{transformAll(d, below)}, nil, pl)
	g := newEstimator(dims, [][]float64{transformAll(d, above)}, nil, pg)
	cands := l.sample(rng, count)
	best, _ := bestCandidate(l, g, cands, nil)
	return d.untransform(cands[0][best])
}

func transformAll(d dim, xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = d.transform(x)
	}
	return out
}

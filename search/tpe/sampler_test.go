package tpe_test

import (
	"math"
	"slices"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
	"sweep/search/searchtest"
	"sweep/search/tpe"
)

func TestSampler_Conformance(t *testing.T) {
	for _, mode := range []struct {
		name string
		opt  tpe.Options
	}{
		{"Univariate", tpe.Options{StartupTrials: 5}},
		{"Multivariate", tpe.Options{StartupTrials: 5, Multivariate: true}},
		{"Group", tpe.Options{StartupTrials: 5, Group: true}},
		{"ConstantLiar", tpe.Options{StartupTrials: 5, Multivariate: true, ConstantLiar: true}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			searchtest.TestSampler(t, func(seed uint64) (goptuna.Sampler, goptuna.RelativeSampler) {
				o := mode.opt
				o.Seed = seed
				return tpe.New(o), nil
			})
		})
	}
}

// bestAfter runs n trials of a 4-dimensional sphere centred at 0.2 and
// returns the best value.
func bestAfter(t *testing.T, s goptuna.Sampler, rs goptuna.RelativeSampler, n int) float64 {
	t.Helper()
	study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, s, rs, nil)
	names := []string{"a", "b", "c", "d"}
	space := map[string]any{}
	for _, nm := range names {
		space[nm] = goptuna.UniformDistribution{Low: -1, High: 1}
	}
	best := math.Inf(1)
	for range n {
		id, v, err := searchtest.Suggest(study, names, space)
		if err != nil {
			t.Fatal(err)
		}
		f := 0.0
		for _, nm := range names {
			f += (v[nm] - 0.2) * (v[nm] - 0.2)
		}
		best = math.Min(best, f)
		searchtest.Finish(study, id, f, goptuna.TrialStateComplete)
	}
	return best
}

func TestSampler_BeatsRandom(t *testing.T) {
	// Median over seeds of the best value after 60 trials: TPE must be
	// clearly better than random search on a smooth bowl.
	var rnd, uni, mv []float64
	for seed := range uint64(7) {
		rnd = append(rnd, bestAfter(t, sampler.NewRandom(seed), nil, 60))
		uni = append(uni, bestAfter(t, tpe.New(tpe.Options{Seed: seed}), nil, 60))
		mv = append(mv, bestAfter(t, tpe.New(tpe.Options{Seed: seed, Multivariate: true}), nil, 60))
	}
	med := func(x []float64) float64 { slices.Sort(x); return x[len(x)/2] }
	r, u, m := med(rnd), med(uni), med(mv)
	t.Logf("median best after 60: random %.4f, univariate %.4f, multivariate %.4f", r, u, m)
	if u > r/2 || m > r/2 {
		t.Fatalf("TPE not clearly better than random: random %.4f, univariate %.4f, multivariate %.4f", r, u, m)
	}
}

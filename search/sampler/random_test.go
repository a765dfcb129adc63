package sampler_test

import (
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
	"sweep/search/searchtest"
)

func TestRandom_Sample(t *testing.T) {
	r := sampler.NewRandom(42)
	t.Run("IntBoundsInclusive", func(t *testing.T) {
		seen := map[float64]int{}
		for n := 0; n < 1000; n++ {
			v, err := r.Sample(nil, goptuna.FrozenTrial{Number: n}, "x", goptuna.IntUniformDistribution{Low: 0, High: 1})
			if err != nil {
				t.Fatal(err)
			}
			seen[v]++
		}
		if seen[0] < 400 || seen[1] < 400 || len(seen) != 2 {
			t.Fatalf("SuggestInt(0,1) counts = %v, want both near 500", seen)
		}
	})
	t.Run("StepIntOnGrid", func(t *testing.T) {
		seen := map[float64]bool{}
		for n := 0; n < 500; n++ {
			v, _ := r.Sample(nil, goptuna.FrozenTrial{Number: n}, "x", goptuna.StepIntUniformDistribution{Low: 2, High: 11, Step: 3})
			seen[v] = true
		}
		for v := range seen {
			if v != 2 && v != 5 && v != 8 && v != 11 {
				t.Fatalf("value %g off the grid 2,5,8,11", v)
			}
		}
		if len(seen) != 4 {
			t.Fatalf("saw %v, want all of 2,5,8,11", seen)
		}
	})
	t.Run("LogUniformInLogSpace", func(t *testing.T) {
		below := 0
		for n := 0; n < 2000; n++ {
			v, _ := r.Sample(nil, goptuna.FrozenTrial{Number: n}, "lr", goptuna.LogUniformDistribution{Low: 1e-5, High: 1e-1})
			if v < 1e-5 || v > 1e-1 {
				t.Fatalf("value %g outside [1e-5, 1e-1]", v)
			}
			if v < 1e-3 {
				below++
			}
		}
		if below < 850 || below > 1150 {
			t.Fatalf("%d of 2000 below 1e-3, want about half", below)
		}
	})
	t.Run("Reproducible", func(t *testing.T) {
		d := goptuna.UniformDistribution{Low: -1, High: 1}
		a, _ := sampler.NewRandom(7).Sample(nil, goptuna.FrozenTrial{Number: 3}, "x", d)
		b, _ := sampler.NewRandom(7).Sample(nil, goptuna.FrozenTrial{Number: 3}, "x", d)
		c, _ := sampler.NewRandom(8).Sample(nil, goptuna.FrozenTrial{Number: 3}, "x", d)
		if a != b || a == c {
			t.Fatalf("seed 7 gave %g and %g, seed 8 gave %g", a, b, c)
		}
	})
	t.Run("CategoricalAllChoices", func(t *testing.T) {
		seen := map[float64]bool{}
		for n := 0; n < 200; n++ {
			v, _ := r.Sample(nil, goptuna.FrozenTrial{Number: n}, "c", goptuna.CategoricalDistribution{Choices: []string{"a", "b", "c"}})
			seen[v] = true
		}
		if len(seen) != 3 {
			t.Fatalf("saw %v, want 0,1,2", seen)
		}
	})
}

func TestRandom_Conformance(t *testing.T) {
	searchtest.TestSampler(t, func(seed uint64) (goptuna.Sampler, goptuna.RelativeSampler) {
		return sampler.NewRandom(seed), nil
	})
}

func TestCMAES_SampleRelative(t *testing.T) {
	// CMA-ES over two floats must suggest in-bounds values and improve on
	// its start-up trials on a bowl.
	c := sampler.NewCMAES(5, 0)
	study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, sampler.NewRandom(5), c, nil)
	names := []string{"a", "b"}
	space := map[string]any{"a": goptuna.UniformDistribution{Low: -5, High: 5}, "b": goptuna.UniformDistribution{Low: -5, High: 5}}
	first, last := 0.0, 0.0
	for n := range 120 {
		id, v, err := searchtest.Suggest(study, names, space)
		if err != nil {
			t.Fatal(err)
		}
		f := (v["a"]-1)*(v["a"]-1) + (v["b"]+2)*(v["b"]+2)
		if n < 20 {
			first += f / 20
		} else if n >= 100 {
			last += f / 20
		}
		searchtest.Finish(study, id, f, goptuna.TrialStateComplete)
	}
	if last > first/4 {
		t.Fatalf("mean value of trials 100-119 %.3f, of trials 0-19 %.3f: CMA-ES did not converge", last, first)
	}
}

package mo_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search/mo"
	"sweep/search/searchtest"
)

func TestNSGA2_Conformance(t *testing.T) {
	searchtest.TestSampler(t, func(seed uint64) (goptuna.Sampler, goptuna.RelativeSampler) {
		return mo.NewNSGA2(mo.NSGA2Options{Seed: seed, Directions: []mo.Direction{mo.Minimize}, PopulationSize: 8, Crossover: "sbx"}), nil
	})
}

func TestMOTPE_Conformance(t *testing.T) {
	searchtest.TestSampler(t, func(seed uint64) (goptuna.Sampler, goptuna.RelativeSampler) {
		return mo.NewMOTPE(mo.MOTPEOptions{Seed: seed, Directions: []mo.Direction{mo.Minimize}, StartupTrials: 5}), nil
	})
}

// run optimises p for n trials with s and returns the hypervolume of the
// values found. Values go where the study loop puts them: mo.ValuesAttr.
func run(tb testing.TB, p mo.Problem, s goptuna.Sampler, n int) float64 {
	tb.Helper()
	study := searchtest.NewStudy(tb, goptuna.StudyDirectionMinimize, s, nil, nil)
	names := make([]string, p.Dims)
	space := map[string]any{}
	for i := range names {
		names[i] = fmt.Sprintf("x%d", i)
		space[names[i]] = goptuna.UniformDistribution{Low: 0, High: 1}
	}
	var points [][]float64
	for range n {
		id, vals, err := searchtest.Suggest(study, names, space)
		if err != nil {
			tb.Fatal(err)
		}
		x := make([]float64, p.Dims)
		for i, name := range names {
			x[i] = vals[name]
		}
		f := p.Eval(x)
		points = append(points, f)
		if err := study.Storage.SetTrialSystemAttr(id, mo.ValuesAttr, mo.FormatValues(f)); err != nil {
			tb.Fatal(err)
		}
		if err := searchtest.Finish(study, id, f[0], goptuna.TrialStateComplete); err != nil {
			tb.Fatal(err)
		}
	}
	return mo.Hypervolume(points, p.Ref)
}

// TestSamplers_BeatRandom checks that on ZDT1 both samplers find a front
// with more hypervolume than random search, on average over seeds.
func TestSamplers_BeatRandom(t *testing.T) {
	p := mo.ZDT1(4)
	dirs := []mo.Direction{mo.Minimize, mo.Minimize}
	const seeds, trials = 3, 100
	mean := func(build func(seed uint64) goptuna.Sampler) float64 {
		sum := 0.0
		for seed := range uint64(seeds) {
			sum += run(t, p, build(seed+1), trials)
		}
		return sum / seeds
	}
	random := mean(func(seed uint64) goptuna.Sampler {
		return mo.NewMOTPE(mo.MOTPEOptions{Seed: seed, Directions: dirs, StartupTrials: trials})
	})
	nsga := mean(func(seed uint64) goptuna.Sampler {
		return mo.NewNSGA2(mo.NSGA2Options{Seed: seed, Directions: dirs, PopulationSize: 20})
	})
	motpe := mean(func(seed uint64) goptuna.Sampler { return mo.NewMOTPE(mo.MOTPEOptions{Seed: seed, Directions: dirs}) })
	t.Logf("ZDT1, %d trials, mean hypervolume over %d seeds: random %.4f, NSGA-II %.4f, MOTPE %.4f", trials, seeds, random, nsga, motpe)
	if !(nsga > random) || !(motpe > random) {
		t.Fatalf("hypervolume random %.4f, NSGA-II %.4f, MOTPE %.4f: want both samplers above random", random, nsga, motpe)
	}
}

func TestNSGA2_Generations(t *testing.T) {
	dirs := []mo.Direction{mo.Minimize, mo.Minimize}
	s := mo.NewNSGA2(mo.NSGA2Options{Seed: 3, Directions: dirs, PopulationSize: 5})
	obs := runObserve(t, s, 17, dirs)
	gens := map[int]int{}
	for _, o := range obs {
		gens[o.Generation]++
	}
	if gens[0] != 5 || gens[1] != 5 || gens[2] != 5 || gens[3] != 2 {
		t.Fatalf("trials per generation = %v, want 5, 5, 5, 2", gens)
	}
}

// runObserve runs n sequential trials of ZDT1 and returns the history.
func runObserve(t *testing.T, s goptuna.Sampler, n int, dirs []mo.Direction) []mo.Observation {
	t.Helper()
	study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, s, nil, nil)
	space := map[string]any{"a": goptuna.UniformDistribution{Low: 0, High: 1}, "b": goptuna.UniformDistribution{Low: 0, High: 1}}
	for range n {
		id, vals, err := searchtest.Suggest(study, []string{"a", "b"}, space)
		if err != nil {
			t.Fatal(err)
		}
		f := mo.ZDT1(2).Eval([]float64{vals["a"], vals["b"]})
		study.Storage.SetTrialSystemAttr(id, mo.ValuesAttr, mo.FormatValues(f))
		searchtest.Finish(study, id, f[0], goptuna.TrialStateComplete)
	}
	obs, err := mo.Observe(study, dirs)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func TestSplitBelow(t *testing.T) {
	obs := []mo.Observation{
		{Number: 0, Losses: []float64{1, 3}}, {Number: 1, Losses: []float64{2, 2}}, {Number: 2, Losses: []float64{3, 1}},
		{Number: 3, Losses: []float64{4, 4}}, {Number: 4, Losses: []float64{0, 0}, Violation: 1},
	}
	below, above := mo.SplitBelow(obs, 2)
	// The front (0, 1, 2) is too big: (2,2) adds the most hypervolume, then
	// (1,3) and (3,1) tie and the older wins. The infeasible (0,0) ranks last.
	if len(below) != 2 || below[0].Number != 0 || below[1].Number != 1 || len(above) != 3 {
		t.Fatalf("below %v above %v", below, above)
	}
	w := mo.BelowWeights([]mo.Observation{obs[0], obs[1], obs[2], obs[4]})
	// Reference (3.3, 3.3): (2,2) alone covers [2,3]², 1.0; (1,3) and
	// (3,1) each 0.3 × 1. Divided by the largest; the infeasible one ~0.
	want := []float64{0.3, 1, 0.3, 0}
	for i := range want {
		if math.Abs(w[i]-want[i]) > 1e-9 {
			t.Fatalf("BelowWeights = %v, want %v", w, want)
		}
	}
}

func TestValues_RoundTrip(t *testing.T) {
	in := []float64{0.91, math.NaN(), math.Inf(1), -3}
	out, err := mo.ParseValues(mo.FormatValues(in))
	if err != nil || len(out) != 4 || out[0] != 0.91 || !math.IsNaN(out[1]) || !math.IsInf(out[2], 1) || out[3] != -3 {
		t.Fatalf("round trip of %v = %v, %v", in, out, err)
	}
	if _, err := mo.ParseValues("0.5"); err == nil {
		t.Fatal("ParseValues accepted a bare number")
	}
}

package search_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search"
	"sweep/search/prune"
	"sweep/search/searchtest"
	"sweep/search/tpe"
)

func TestNewSampler(t *testing.T) {
	params := []search.Param{{Name: "x", Type: search.Float, Low: 0, High: 1}}
	t.Run("Unknown", func(t *testing.T) {
		_, _, err := search.NewSampler(search.SamplerSpec{Type: "annealing"}, params, "s", 0)
		if !errors.Is(err, search.ErrUnknownSampler) {
			t.Fatalf("err = %v, want ErrUnknownSampler", err)
		}
	})
	t.Run("Types", func(t *testing.T) {
		for _, typ := range []string{"", "tpe", "random", "cmaes"} {
			s, _, err := search.NewSampler(search.SamplerSpec{Type: typ}, params, "s", 0)
			if err != nil || s == nil {
				t.Fatalf("type %q: sampler %v, err %v", typ, s, err)
			}
		}
		_, rs, _ := search.NewSampler(search.SamplerSpec{Type: "cmaes"}, params, "s", 0)
		if rs == nil {
			t.Fatal("cmaes: no relative sampler")
		}
	})
	t.Run("Negative", func(t *testing.T) {
		if _, _, err := search.NewSampler(search.SamplerSpec{EICandidates: -1}, params, "s", 0); err == nil {
			t.Fatal("ei_candidates -1 accepted")
		}
	})
	t.Run("CMAESRejectsCategorical", func(t *testing.T) {
		ps := append(params, search.Param{Name: "opt", Type: search.Categorical, Choices: []any{"sgd", "adam"}, Line: 7})
		_, _, err := search.NewSampler(search.SamplerSpec{Type: "cmaes"}, ps, "s", 0)
		if !errors.Is(err, search.ErrUnsupportedSpace) {
			t.Fatalf("err = %v, want ErrUnsupportedSpace", err)
		}
	})
	t.Run("GridRejectsContinuous", func(t *testing.T) {
		_, _, err := search.NewSampler(search.SamplerSpec{Type: "grid"}, params, "s", 0)
		if !errors.Is(err, search.ErrUnsupportedSpace) {
			t.Fatalf("err = %v, want ErrUnsupportedSpace", err)
		}
	})
}

func TestNewSampler_WorkersNeverCollide(t *testing.T) {
	// Two workers share one study with the same spec seed; each uses its
	// own sampler. Their start-up suggestions must all differ.
	seed := int64(11)
	spec := search.SamplerSpec{Type: "tpe", Seed: &seed}
	params := []search.Param{{Name: "x", Type: search.Float, Low: 0, High: 1}}
	var samplers []goptuna.Sampler
	for w := range 2 {
		s, _, err := search.NewSampler(spec, params, "study", w)
		if err != nil {
			t.Fatal(err)
		}
		samplers = append(samplers, s)
	}
	study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, samplers[0], nil, nil)
	seen := map[float64]int{}
	space := map[string]any{"x": goptuna.UniformDistribution{Low: 0, High: 1}}
	for n := range 10 {
		study.Sampler = samplers[n%2]
		id, v, err := searchtest.Suggest(study, []string{"x"}, space)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[v["x"]]; ok {
			t.Fatalf("trials %d and %d got the same x %g", prev, n, v["x"])
		}
		seen[v["x"]] = n
		searchtest.Finish(study, id, v["x"], goptuna.TrialStateComplete)
	}
}

func TestWorkerSeed(t *testing.T) {
	seed := int64(3)
	withSeed := search.SamplerSpec{Seed: &seed}
	if search.WorkerSeed(withSeed, "a", 0) != search.WorkerSeed(withSeed, "b", 0) {
		t.Fatal("explicit seed: study name changed the seed")
	}
	if search.WorkerSeed(withSeed, "a", 0) == search.WorkerSeed(withSeed, "a", 1) {
		t.Fatal("workers 0 and 1 share a seed")
	}
	if search.WorkerSeed(search.SamplerSpec{}, "a", 0) == search.WorkerSeed(search.SamplerSpec{}, "b", 0) {
		t.Fatal("no seed: studies a and b share a seed")
	}
}

func TestGridPoints(t *testing.T) {
	params := []search.Param{
		{Name: "opt", Type: search.Categorical, Choices: []any{"sgd", "adam"}, Conditional: map[string][]search.Param{
			"sgd": {{Name: "momentum", Type: search.Float, Low: 0.8, High: 0.9, Step: 0.1}},
		}},
		{Name: "depth", Type: search.Int, Low: 1, High: 3},
	}
	pts, err := search.GridPoints(params)
	if err != nil {
		t.Fatal(err)
	}
	// sgd × 2 momenta + adam = 3 branches, × 3 depths.
	if len(pts) != 9 {
		t.Fatalf("%d points, want 9: %v", len(pts), pts)
	}
	seen := map[[3]float64]bool{}
	for _, p := range pts {
		m, has := p["momentum"]
		if has != (p["opt"] == 0) {
			t.Fatalf("point %v: momentum present = %v for opt %g", p, has, p["opt"])
		}
		k := [3]float64{p["opt"], m, p["depth"]}
		if seen[k] {
			t.Fatalf("duplicate point %v", p)
		}
		seen[k] = true
	}
	s, _, err := search.NewSampler(search.SamplerSpec{Type: "grid"}, params, "s", 3)
	if err != nil {
		t.Fatal(err)
	}
	study, err := goptuna.CreateStudy("s", goptuna.StudyOptionSampler(s), goptuna.StudyOptionLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	var id int
	for range 11 { // trials 0..10, none a retry
		if id, err = study.Storage.CreateNewTrial(study.ID); err != nil {
			t.Fatal(err)
		}
	}
	trial, _ := study.Storage.GetTrial(id)
	v, err := s.Sample(study, trial, "depth", goptuna.IntUniformDistribution{Low: 1, High: 3})
	if err != nil || v != pts[1]["depth"] {
		t.Fatalf("trial 10 depth = %g, %v; want point 10 mod 9 = %g", v, err, pts[1]["depth"])
	}
}

func TestNewPruner(t *testing.T) {
	if p, err := search.NewPruner(search.PrunerSpec{}); p != nil || err != nil {
		t.Fatalf("none: got %v, %v; want nil, nil", p, err)
	}
	if _, err := search.NewPruner(search.PrunerSpec{Type: "oracle"}); !errors.Is(err, search.ErrUnknownPruner) {
		t.Fatalf("err = %v, want ErrUnknownPruner", err)
	}
	for _, typ := range []string{"median", "percentile", "asha", "hyperband"} {
		p, err := search.NewPruner(search.PrunerSpec{Type: typ})
		if err != nil || p == nil {
			t.Fatalf("%s: %v, %v", typ, p, err)
		}
	}
	p, err := search.NewPruner(search.PrunerSpec{Type: "asha", ReductionFactor: 1})
	if err == nil || p != nil {
		t.Fatalf("reduction_factor 1: got %v, %v; want nil pruner and an error", p, err)
	}
}

// specParams is a space with every kind of param the spec offers.
func specParams() []search.Param {
	return []search.Param{
		{Name: "lr", Type: search.Float, Low: 1e-5, High: 1, Log: true},
		{Name: "dropout", Type: search.Float, Low: 0, High: 0.5, Step: 0.1},
		{Name: "width", Type: search.Int, Low: 16, High: 128, Step: 16},
		{Name: "batch", Type: search.Int, Low: 16, High: 512, Log: true},
		{Name: "depth", Type: search.Int, Low: 1, High: 4},
		{Name: "opt", Type: search.Categorical, Choices: []any{"sgd", "adamw"}, Conditional: map[string][]search.Param{
			"sgd": {{Name: "momentum", Type: search.Float, Low: 0.5, High: 0.99}},
		}},
	}
}

func TestNewSampler_SuggestsSpecSpace(t *testing.T) {
	seed, five, off := int64(1), 5, false
	for _, spec := range []search.SamplerSpec{
		{Type: "tpe", StartupTrials: &five},
		{Type: "tpe", StartupTrials: &five, Multivariate: &off, ConstantLiar: &off},
		{Type: "tpe", StartupTrials: &five, Group: true},
		{Type: "random"},
	} {
		spec.Seed = &seed
		s, rs, err := search.NewSampler(spec, specParams(), "study", 0)
		if err != nil {
			t.Fatal(err)
		}
		study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, s, rs, nil)
		for n := range 25 {
			id, err := study.Storage.CreateNewTrial(study.ID)
			if err != nil {
				t.Fatal(err)
			}
			tr := goptuna.Trial{Study: study, ID: id}
			if err := tr.CallRelativeSampler(); err != nil {
				t.Fatal(err)
			}
			vals, err := search.Suggest(&tr, specParams())
			if err != nil {
				t.Fatalf("%+v trial %d: %v", spec, n, err)
			}
			_, hasMom := vals["momentum"]
			if hasMom != (vals["opt"] == "sgd") {
				t.Fatalf("%+v trial %d: momentum present %v with opt %v", spec, n, hasMom, vals["opt"])
			}
			if b := vals["batch"].(int); b < 16 || b > 512 {
				t.Fatalf("batch %d outside [16, 512]", b)
			}
			if w := vals["width"].(int); w%16 != 0 || w < 16 || w > 128 {
				t.Fatalf("width %d not in 16, 32, ..., 128", w)
			}
			f := vals["dropout"].(float64) + float64(vals["depth"].(int))
			searchtest.Finish(study, id, f, goptuna.TrialStateComplete)
		}
	}
}

func TestGridPoints_FloatStepStaysInBounds(t *testing.T) {
	// 0.1·3 is 0.30000000000000004 in float64: the last point must still
	// lie inside [0, 0.3].
	pts, err := search.GridPoints([]search.Param{{Name: "x", Type: search.Float, Low: 0, High: 0.3, Step: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 4 || pts[3]["x"] > 0.3 {
		t.Fatalf("points %v, want 4 inside [0, 0.3]", pts)
	}
}

// An explicit 0 is a setting, not "use the default": startup_trials: 0
// prunes from the first completed trial, percentile: 0 keeps only trials
// as good as the best; absent keys take Optuna's defaults (5, 25).
func TestNewPruner_ZeroIsNotDefault(t *testing.T) {
	for _, tc := range []struct {
		yaml       string
		startup    int
		percentile float64
		ok         bool
	}{
		{"{type: percentile}", 5, 25, true},
		{"{type: percentile, startup_trials: 0, percentile: 0}", 0, 0, true},
		{"{type: median, startup_trials: 0}", 0, 50, true},
		{"{type: percentile, startup_trials: 3, percentile: 10}", 3, 10, true},
	} {
		raw := "study: s\ndirection: minimize\ntrials: 3\nobjective: {type: synthetic}\nparams:\n  x: {type: float, low: 0, high: 1}\npruner: " + tc.yaml + "\n"
		spec, err := search.ParseSpec("s.yaml", []byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		p, err := search.NewPruner(spec.Pruner)
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		got := p.(*prune.Percentile)
		if got.StartupTrials != tc.startup || got.Percentile != tc.percentile {
			t.Errorf("%s: startup %d percentile %g, want %d and %g", tc.yaml, got.StartupTrials, got.Percentile, tc.startup, tc.percentile)
		}
	}
}

// sampler startup_trials: 0 makes TPE model from the first trial: with one
// completed trial at x = 0.9, a TPE without start-up trials samples near
// it far more often than the 10 random start-up draws would.
func TestNewSampler_StartupZero(t *testing.T) {
	near := func(startup *int) int {
		seed := int64(3)
		s, _, err := search.NewSampler(search.SamplerSpec{Type: "tpe", Seed: &seed, StartupTrials: startup},
			[]search.Param{{Name: "x", Type: search.Float, Low: 0, High: 1}}, "s", 0)
		if err != nil {
			t.Fatal(err)
		}
		study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, s, nil, nil)
		d := goptuna.UniformDistribution{Low: 0, High: 1}
		for i, x := range []float64{0.9, 0.1} {
			id, _ := study.Storage.CreateNewTrial(study.ID)
			study.Storage.SetTrialParam(id, "x", x, d)
			study.Storage.SetTrialValue(id, float64(i))
			study.Storage.SetTrialState(id, goptuna.TrialStateComplete)
		}
		n := 0
		for range 40 {
			id, _ := study.Storage.CreateNewTrial(study.ID)
			tr, _ := study.Storage.GetTrial(id)
			v, err := s.Sample(study, tr, "x", d)
			if err != nil {
				t.Fatal(err)
			}
			if v > 0.7 {
				n++
			}
			study.Storage.SetTrialState(id, goptuna.TrialStateFail)
		}
		return n
	}
	zero := 0
	withZero, byDefault := near(&zero), near(nil)
	if withZero < 30 || byDefault > 20 {
		t.Errorf("draws near the best: %d of 40 with startup_trials 0, %d with the default 10; want most with 0, about 30%% by default", withZero, byDefault)
	}
}

// An absent sampler.multivariate / constant_liar means multivariate TPE with
// the liar (Optuna 4+'s default): the same suggestions as setting both true,
// different ones from multivariate: false.
func TestNewSampler_DefaultIsMultivariate(t *testing.T) {
	seed, five, on, off := int64(1), 5, true, false
	run := func(spec search.SamplerSpec) []string {
		spec.Seed, spec.StartupTrials = &seed, &five
		s, rs, err := search.NewSampler(spec, specParams(), "study", 0)
		if err != nil {
			t.Fatal(err)
		}
		study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, s, rs, nil)
		var out []string
		for range 15 {
			id, err := study.Storage.CreateNewTrial(study.ID)
			if err != nil {
				t.Fatal(err)
			}
			tr := goptuna.Trial{Study: study, ID: id}
			vals, err := search.Suggest(&tr, specParams())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals))
			searchtest.Finish(study, id, vals["dropout"].(float64)+float64(vals["depth"].(int)), goptuna.TrialStateComplete)
		}
		return out
	}
	def := run(search.SamplerSpec{Type: "tpe"})
	if explicit := run(search.SamplerSpec{Type: "tpe", Multivariate: &on, ConstantLiar: &on}); !slices.Equal(def, explicit) {
		t.Fatalf("default spec suggests\n%v\nmultivariate + liar suggests\n%v", def, explicit)
	}
	if slices.Equal(def, run(search.SamplerSpec{Type: "tpe", Multivariate: &off})) {
		t.Fatal("multivariate: false suggests the same as the default")
	}
}

func TestNewStudySampler(t *testing.T) {
	parse := func(t *testing.T, extra string) *search.Spec {
		t.Helper()
		s, err := search.ParseSpec("s.yaml", []byte("study: s\ndirections: [maximize, minimize]\nmetrics: [a, b]\ntrials: 5\n"+
			"objective: {type: synthetic}\nparams:\n  x: {type: float, low: 0, high: 1}\n"+extra))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct{ extra, want string }{
		{"", "*mo.MOTPE"},
		{"sampler: {type: nsga2}\n", "*mo.NSGA2"},
		{"sampler: {type: motpe}\n", "*mo.MOTPE"},
		{"sampler: {type: random}\n", "*sampler.Random"},
	} {
		s, rs, err := search.NewStudySampler(parse(t, tc.extra), 0)
		if err != nil || rs != nil || fmt.Sprintf("%T", s) != tc.want {
			t.Errorf("%q: sampler %T, relative %v, err %v; want %s", tc.extra, s, rs, err, tc.want)
		}
	}
	single, err := search.ParseSpec("s.yaml", []byte("study: s\ndirection: minimize\ntrials: 5\nobjective: {type: synthetic}\nparams:\n  x: {type: float, low: 0, high: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s, _, err := search.NewStudySampler(single, 0); err != nil || fmt.Sprintf("%T", s) != "*tpe.Sampler" {
		t.Errorf("single-objective default: %T, %v; want *tpe.Sampler", s, err)
	}
}

// categorical_prior_weight and ei_candidates reach the TPE sampler: with
// Optuna's values the spec's sampler suggests what tpe.New with those
// options does, and without them something else.
func TestNewSampler_TPESettings(t *testing.T) {
	seed := int64(5)
	optuna := search.SamplerSpec{Type: "tpe", Seed: &seed, EICandidates: 24, CategoricalPriorWeight: 1}
	suggest := func(s goptuna.Sampler) map[string]float64 {
		study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, s, nil, nil)
		if err := searchtest.FillHistory(study, 60, 2); err != nil {
			t.Fatal(err)
		}
		_, v, err := searchtest.Suggest(study, searchtest.EightNames, searchtest.EightSpace)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	fromSpec := func(spec search.SamplerSpec) map[string]float64 {
		s, _, err := search.NewSampler(spec, nil, "s", 0)
		if err != nil {
			t.Fatal(err)
		}
		return suggest(s)
	}
	want := suggest(tpe.New(tpe.Options{Seed: search.WorkerSeed(optuna, "s", 0), Multivariate: true, ConstantLiar: true,
		EICandidates: 24, CategoricalPriorWeight: 1}))
	if got := fromSpec(optuna); !maps.Equal(got, want) {
		t.Errorf("spec with Optuna's settings suggested %v, tpe.New %v", got, want)
	}
	def := optuna
	def.CategoricalPriorWeight = 0
	if got := fromSpec(def); maps.Equal(got, want) {
		t.Errorf("default categorical weight suggested Optuna's %v", got)
	}
}

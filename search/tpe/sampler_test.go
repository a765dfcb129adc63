package tpe_test

import (
	"maps"
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

func TestSampler_ConditionalGroups(t *testing.T) {
	// opt=sgd has momentum, opt=adam has beta; with Group every param is
	// drawn jointly within its group and stays inside its distribution.
	s := tpe.New(tpe.Options{Seed: 3, Group: true, StartupTrials: 5})
	study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, s, nil, nil)
	opt := goptuna.CategoricalDistribution{Choices: []string{"sgd", "adam"}}
	lr := goptuna.LogUniformDistribution{Low: 1e-4, High: 1}
	mom := goptuna.UniformDistribution{Low: 0.5, High: 0.99}
	beta := goptuna.UniformDistribution{Low: 0.8, High: 0.999}
	sgd := 0
	for n := range 40 {
		id, v, err := searchtest.Suggest(study, []string{"opt", "lr"}, map[string]any{"opt": opt, "lr": lr})
		if err != nil {
			t.Fatal(err)
		}
		tr := goptuna.Trial{Study: study, ID: id}
		f := math.Pow(math.Log10(v["lr"])+2, 2)
		if v["opt"] == 0 {
			m, err := searchtest.SuggestOne(&tr, "momentum", mom)
			if err != nil || !searchtest.Contains(mom, m) {
				t.Fatalf("trial %d: momentum %g, %v", n, m, err)
			}
			f += (m - 0.9) * (m - 0.9)
			if n >= 20 {
				sgd++
			}
		} else {
			b, err := searchtest.SuggestOne(&tr, "beta", beta)
			if err != nil || !searchtest.Contains(beta, b) {
				t.Fatalf("trial %d: beta %g, %v", n, b, err)
			}
			f += 1 // adam is worse
		}
		searchtest.Finish(study, id, f, goptuna.TrialStateComplete)
	}
	if sgd < 12 {
		t.Fatalf("only %d of the last 20 trials chose the better optimizer", sgd)
	}
}

func TestSampler_ConstantLiarSpreadsWorkers(t *testing.T) {
	// After 20 finished trials on a 1-D bowl, four workers each suggest a
	// trial while the others are still running. With the constant liar the
	// in-flight suggestions spread out; without it they pile up at the
	// current optimum.
	spread := func(liar bool, seed uint64) float64 {
		var ws []*tpe.Sampler
		for w := range 4 {
			ws = append(ws, tpe.New(tpe.Options{Seed: seed*10 + uint64(w), ConstantLiar: liar}))
		}
		study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, ws[0], nil, nil)
		space := map[string]any{"x": goptuna.UniformDistribution{Low: 0, High: 1}}
		for range 20 {
			id, v, _ := searchtest.Suggest(study, []string{"x"}, space)
			searchtest.Finish(study, id, (v["x"]-0.3)*(v["x"]-0.3), goptuna.TrialStateComplete)
		}
		var xs []float64
		for _, w := range ws {
			study.Sampler = w
			_, v, err := searchtest.Suggest(study, []string{"x"}, space)
			if err != nil {
				t.Fatal(err)
			}
			xs = append(xs, v["x"])
		}
		return slices.Max(xs) - slices.Min(xs)
	}
	var with, without []float64
	for seed := range uint64(9) {
		with = append(with, spread(true, seed))
		without = append(without, spread(false, seed))
	}
	slices.Sort(with)
	slices.Sort(without)
	t.Logf("median spread of 4 in-flight suggestions: liar %.4f, no liar %.4f", with[4], without[4])
	if with[4] <= without[4] {
		t.Fatalf("constant liar did not spread workers: %.4f vs %.4f", with[4], without[4])
	}
}

func TestSampler_ConcurrentUse(t *testing.T) {
	// One sampler serving several trial slots at once (run with -race).
	for _, o := range []tpe.Options{{Seed: 1, StartupTrials: 3}, {Seed: 1, StartupTrials: 3, Group: true, ConstantLiar: true}} {
		s := tpe.New(o)
		study, err := searchtest.NewStudyErr(searchtest.NewSafeStorage(goptuna.NewInMemoryStorage()),
			goptuna.StudyDirectionMinimize, s, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		for g := range 4 {
			go func() {
				for range 15 {
					id, v, err := searchtest.Suggest(study, searchtest.SpaceNames, searchtest.Space)
					if err != nil {
						done <- err
						return
					}
					searchtest.Finish(study, id, searchtest.Score(v)+float64(g), goptuna.TrialStateComplete)
				}
				done <- nil
			}()
		}
		for range 4 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestAutoCandidates(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, 24}, {10, 24}, {12, 24}, {13, 26}, {50, 100}, {99, 198}, {100, 200},
		{150, 133}, {500, 40}, {833, 24}, {1000, 24}, {5000, 24},
	} {
		if got := tpe.AutoCandidates(c.n); got != c.want {
			t.Errorf("AutoCandidates(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// suggestAfter fills a study with n random trials of the eight-param space
// and returns the sampler's suggestion for the next trial.
func suggestAfter(t *testing.T, opt tpe.Options, n int) map[string]float64 {
	t.Helper()
	s := tpe.New(opt)
	study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, s, nil, nil)
	if err := searchtest.FillHistory(study, n, 3); err != nil {
		t.Fatal(err)
	}
	_, v, err := searchtest.Suggest(study, searchtest.EightNames, searchtest.EightSpace)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The default draws AutoCandidates(n) candidates in multivariate mode and
// Optuna's 24 in univariate mode: the same seed and history give the same
// suggestion as the explicit count, and another count gives another one.
func TestSampler_DefaultCandidates(t *testing.T) {
	const n = 60 // AutoCandidates(60) = 120
	for _, c := range []struct {
		name        string
		multi       bool
		same, other int
	}{
		{"Multivariate", true, tpe.AutoCandidates(n), tpe.UnivariateCandidates},
		{"Univariate", false, tpe.UnivariateCandidates, tpe.AutoCandidates(n)},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := tpe.Options{Seed: 7, Multivariate: c.multi}
			def := suggestAfter(t, opt, n)
			opt.EICandidates = c.same
			if got := suggestAfter(t, opt, n); !maps.Equal(got, def) {
				t.Errorf("default %v, EICandidates %d %v: want the same", def, c.same, got)
			}
			opt.EICandidates = c.other
			if got := suggestAfter(t, opt, n); maps.Equal(got, def) {
				t.Errorf("EICandidates %d gave the default's suggestion %v", c.other, got)
			}
		})
	}
}

// A joint draw of fewer than AutoCandidatesMinDims params keeps Optuna's 24
// candidates.
func TestSampler_DefaultCandidates2D(t *testing.T) {
	names := []string{"a", "b"}
	space := map[string]any{"a": goptuna.UniformDistribution{Low: -1, High: 1}, "b": goptuna.UniformDistribution{Low: 0, High: 5}}
	const n = 40
	suggest := func(opt tpe.Options) map[string]float64 {
		study := searchtest.NewStudy(t, goptuna.StudyDirectionMinimize, sampler.NewRandom(9), nil, nil)
		for range n {
			id, v, err := searchtest.Suggest(study, names, space)
			if err != nil {
				t.Fatal(err)
			}
			searchtest.Finish(study, id, v["a"]*v["a"]+(v["b"]-1)*(v["b"]-1), goptuna.TrialStateComplete)
		}
		study.Sampler = tpe.New(opt)
		_, v, err := searchtest.Suggest(study, names, space)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	def := suggest(tpe.Options{Seed: 4, Multivariate: true})
	if got := suggest(tpe.Options{Seed: 4, Multivariate: true, EICandidates: tpe.UnivariateCandidates}); !maps.Equal(got, def) {
		t.Errorf("2-D default %v, 24 candidates %v: want the same", def, got)
	}
	if got := suggest(tpe.Options{Seed: 4, Multivariate: true, EICandidates: tpe.AutoCandidates(n)}); maps.Equal(got, def) {
		t.Errorf("2-D default drew AutoCandidates(%d) candidates", n)
	}
}

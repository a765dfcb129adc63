package bench

import (
	"fmt"
	"math"

	"github.com/c-bata/goptuna"
	gtpe "github.com/c-bata/goptuna/tpe"

	"sweep/search/sampler"
	"sweep/search/searchtest"
	"sweep/search/tpe"
)

// Method is a search method under comparison. New returns the sampler of
// one simulated worker.
type Method struct {
	Name    string
	Workers int // trials in flight at once (1 = sequential)
	New     func(seed uint64, worker int) goptuna.Sampler
	// SeedOffset shifts the study seeds: a method run again on other seeds
	// shows how far the medians move by chance.
	SeedOffset int
}

// Methods returns the compared methods: random search, goptuna's shipped
// TPE, and ours in univariate mode, in multivariate mode with the constant
// liar (Optuna 4+'s default; the liar only matters with parallel workers),
// the same with Optuna's settings where sweep's defaults differ (24 EI
// candidates, categorical prior weight 1), with group decomposition, and in parallel with and without the liar. Parallel runs keep 4 trials in flight: each new trial is suggested
// while the 3 before it are still RUNNING.
func Methods() []Method {
	ours := newTPE
	return []Method{
		{Name: "random", Workers: 1, New: func(seed uint64, _ int) goptuna.Sampler { return sampler.NewRandom(seed) }},
		{Name: "goptuna TPE", Workers: 1, New: func(seed uint64, _ int) goptuna.Sampler {
			return gtpe.NewSampler(gtpe.SamplerOptionSeed(int64(seed >> 1)))
		}},
		{Name: "ours univariate", Workers: 1, New: ours(tpe.Options{})},
		{Name: "ours multivariate", Workers: 1, New: ours(tpe.Options{Multivariate: true, ConstantLiar: true})},
		{Name: OptunaSettingsMethod, Workers: 1, New: ours(optunaSettings(tpe.Options{Multivariate: true, ConstantLiar: true}))},
		{Name: "ours multivariate, seeds 1000+", Workers: 1, New: ours(tpe.Options{Multivariate: true, ConstantLiar: true}), SeedOffset: 1000},
		{Name: "ours multivariate, Optuna 3.x bandwidths", Workers: 1, New: ours(tpe.Options{Multivariate: true, ConstantLiar: true, LegacyBandwidth: true})},
		{Name: "ours multivariate, group", Workers: 1, New: ours(tpe.Options{Multivariate: true, Group: true, ConstantLiar: true})},
		{Name: "ours multivariate, 4 workers", Workers: 4, New: ours(tpe.Options{Multivariate: true})},
		{Name: "ours multivariate + liar, 4 workers", Workers: 4, New: ours(tpe.Options{Multivariate: true, ConstantLiar: true})},
	}
}

// newTPE returns a Method.New for our TPE with options o: each worker's
// sampler is seeded from the study seed and its index.
func newTPE(o tpe.Options) func(seed uint64, worker int) goptuna.Sampler {
	return func(seed uint64, w int) goptuna.Sampler {
		o.Seed = sampler.Mix(seed, uint64(w))
		return tpe.New(o)
	}
}

// optunaSettings returns o with Optuna's values where sweep's TPE defaults
// differ: 24 EI candidates and categorical prior weight 1.
func optunaSettings(o tpe.Options) tpe.Options {
	o.EICandidates, o.CategoricalPriorWeight = tpe.UnivariateCandidates, 1
	return o
}

// DefaultMethod names the row of sweep's default sampler (multivariate TPE
// with the constant liar, automatic EI candidates).
const DefaultMethod = "ours multivariate"

// OptunaSettingsMethod names the row of the same sampler with Optuna's
// settings where sweep's defaults differ: an exact copy of Optuna 4+'s
// default algorithm.
const OptunaSettingsMethod = "ours multivariate, Optuna's settings"

func defaultMethod() Method {
	for _, m := range Methods() {
		if m.Name == DefaultMethod {
			return m
		}
	}
	panic("bench: no method " + DefaultMethod)
}

// trialFunc runs one trial's objective: it reports intermediate values
// through the study as it goes and returns the final value and state.
type trialFunc func(study *goptuna.Study, id int, params map[string]float64) (float64, goptuna.TrialState, error)

// RunStudy runs n trials of p with method m and returns each trial's value
// in trial-number order.
func RunStudy(p Problem, m Method, seed uint64, n int) ([]float64, error) {
	run := func(_ *goptuna.Study, _ int, params map[string]float64) (float64, goptuna.TrialState, error) {
		return p.Eval(params), goptuna.TrialStateComplete, nil
	}
	vals, _, err := runTrials(p, m, nil, seed, n, run)
	return vals, err
}

// runTrials is the study loop shared by the regret and pruning benchmarks.
// With m.Workers > 1 a trial is only finished once Workers trials have been
// started after it began, simulating parallel workers deterministically.
// It returns values and states in trial-number order.
func runTrials(p Problem, m Method, pruner goptuna.Pruner, seed uint64, n int, run trialFunc) ([]float64, []goptuna.TrialState, error) {
	workers := make([]goptuna.Sampler, m.Workers)
	for w := range workers {
		workers[w] = m.New(seed, w)
	}
	study, err := searchtest.NewStudyErr(goptuna.NewInMemoryStorage(), goptuna.StudyDirectionMinimize, workers[0], nil, pruner)
	if err != nil {
		return nil, nil, err
	}
	type pending struct {
		id     int
		params map[string]float64
	}
	vals := make([]float64, n)
	states := make([]goptuna.TrialState, n)
	var queue []pending
	finish := func(q pending) error {
		v, st, err := run(study, q.id, q.params)
		if err != nil {
			return err
		}
		vals[q.id], states[q.id] = v, st
		return searchtest.Finish(study, q.id, v, st)
	}
	for i := range n {
		study.Sampler = workers[i%len(workers)]
		id, err := study.Storage.CreateNewTrial(study.ID)
		if err != nil {
			return nil, nil, err
		}
		tr := goptuna.Trial{Study: study, ID: id}
		params, err := p.Ask(func(name string, dist any) (float64, error) { return searchtest.SuggestOne(&tr, name, dist) })
		if err != nil {
			return nil, nil, fmt.Errorf("trial %d: %w", i, err)
		}
		queue = append(queue, pending{id, params})
		if len(queue) == len(workers) {
			if err := finish(queue[0]); err != nil {
				return nil, nil, err
			}
			queue = queue[1:]
		}
	}
	for _, q := range queue {
		if err := finish(q); err != nil {
			return nil, nil, err
		}
	}
	return vals, states, nil
}

// bestSoFar returns the best value among the first k entries for each k in
// at (NaN when there is none).
func bestSoFar(vals []float64, ok func(i int) bool, at []int) []float64 {
	out := make([]float64, len(at))
	best := math.Inf(1)
	j := 0
	for i, v := range vals {
		if ok == nil || ok(i) {
			best = math.Min(best, v)
		}
		for j < len(at) && at[j] == i+1 {
			out[j] = best
			j++
		}
	}
	return out
}

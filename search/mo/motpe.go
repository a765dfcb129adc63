package mo

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
	"sweep/search/tpe"
)

var _ goptuna.Sampler = (*MOTPE)(nil)

// MOTPEOptions configures a MOTPE sampler. Zero values mean Optuna's
// defaults.
type MOTPEOptions struct {
	Seed          uint64
	Directions    []Direction // one per objective, in the spec's metric order
	StartupTrials int         // random trials first; 0 means 10, a negative value none
	EICandidates  int         // candidates drawn from l(x) per param; default 24
}

// MOTPE is Optuna's multi-objective TPE (Ozaki et al. 2020, as Optuna's
// TPESampler runs it on several objectives). COMPLETE trials are split
// into the γ(n) = min(⌈n/10⌉, 25) "below" trials — whole non-domination
// ranks (with constraint domination) while they fit, the rest of the
// last rank chosen greedily by hypervolume contribution — and the others.
// Below trials are weighted by their hypervolume contribution (infeasible
// ones almost not at all), above trials by Optuna's default ramp; each
// param gets a univariate Parzen estimator per side, and the candidate
// from l(x) with the best log l(x) − log g(x) wins. That step is
// tpe.SampleWeighted: the estimator single-objective TPE uses and
// TestMatchesOptuna checks, given these weights.
//
// It is safe for concurrent use; draws come from streams derived from
// Seed, the trial number and the param name.
type MOTPE struct {
	opt    MOTPEOptions
	random *sampler.Random

	mu    sync.Mutex
	snaps map[int]*split // by trial ID: the history its first param saw
	ids   []int
}

// split is a history divided for one trial.
type split struct {
	n            int // COMPLETE trials with values
	below, above []Observation
	wBelow       []float64 // weight of each below trial
}

// NewMOTPE returns a MOTPE sampler.
func NewMOTPE(opt MOTPEOptions) *MOTPE {
	switch {
	case opt.StartupTrials == 0:
		opt.StartupTrials = 10
	case opt.StartupTrials < 0:
		opt.StartupTrials = 0
	}
	if opt.EICandidates == 0 {
		opt.EICandidates = 24
	}
	return &MOTPE{opt: opt, random: sampler.NewRandom(opt.Seed), snaps: map[int]*split{}}
}

// Sample implements goptuna.Sampler.
func (s *MOTPE) Sample(study *goptuna.Study, trial goptuna.FrozenTrial, name string, dist any) (float64, error) {
	b, err := sampler.BoundsOf(dist)
	if err != nil {
		return 0, err
	}
	if b.Single() {
		return b.Low, nil
	}
	sp, err := s.history(study, trial)
	if err != nil {
		return 0, err
	}
	if sp.n < s.opt.StartupTrials || len(sp.below) == 0 {
		return s.random.Sample(study, trial, name, dist)
	}
	xsB, wB := paramObs(sp.below, sp.wBelow, name, b)
	xsA, _ := paramObs(sp.above, nil, name, b)
	rng := sampler.TrialRand(s.opt.Seed, trial.Number, "motpe/"+name)
	return tpe.SampleWeighted(rng, b, xsB, wB, xsA, s.opt.EICandidates), nil
}

// paramObs picks the observations that have param name inside b, with
// their weights (nil weights: none returned).
func paramObs(obs []Observation, weights []float64, name string, b sampler.Bounds) (xs, ws []float64) {
	for i, o := range obs {
		v, ok := o.Params[name]
		if !ok || o.Bounds[name] != b {
			continue
		}
		xs = append(xs, v)
		if weights != nil {
			ws = append(ws, weights[i])
		}
	}
	return xs, ws
}

// history reads and splits the study once per trial.
func (s *MOTPE) history(study *goptuna.Study, trial goptuna.FrozenTrial) (*split, error) {
	s.mu.Lock()
	sp, ok := s.snaps[trial.ID]
	s.mu.Unlock()
	if ok {
		return sp, nil
	}
	obs, err := Observe(study, s.opt.Directions)
	if err != nil {
		return nil, fmt.Errorf("motpe: %w", err)
	}
	sp = &split{n: len(obs)}
	if len(obs) >= s.opt.StartupTrials {
		sp.below, sp.above = SplitBelow(obs, tpe.DefaultGamma(len(obs)))
		sp.wBelow = BelowWeights(sp.below)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snaps[trial.ID] = sp
	s.ids = append(s.ids, trial.ID)
	for len(s.ids) > maxChildren {
		delete(s.snaps, s.ids[0])
		s.ids = s.ids[1:]
	}
	return sp, nil
}

// SplitBelow divides observations (in trial-number order) into the nBelow
// best and the rest, both kept in trial-number order: whole
// non-domination ranks (constraint domination) while they fit, then the
// members of the next rank that add the most hypervolume, picked greedily
// against Optuna's reference point of that rank.
func SplitBelow(obs []Observation, nBelow int) (below, above []Observation) {
	if nBelow <= 0 {
		return nil, obs
	}
	points, violations := losses(obs)
	ranks := Ranks(points, violations)
	in := make([]bool, len(obs))
	taken := 0
	for r := 0; taken < nBelow; r++ {
		var front []int
		for i, rk := range ranks {
			if rk == r {
				front = append(front, i)
			}
		}
		if len(front) == 0 {
			break
		}
		if taken+len(front) <= nBelow {
			for _, i := range front {
				in[i] = true
			}
			taken += len(front)
			continue
		}
		fp := make([][]float64, len(front))
		for k, i := range front {
			fp[k] = points[i]
		}
		for _, k := range SelectByHypervolume(fp, nBelow-taken, Reference(fp)) {
			in[front[k]] = true
		}
		taken = nBelow
	}
	for i, o := range obs {
		if in[i] {
			below = append(below, o)
		} else {
			above = append(above, o)
		}
	}
	return below, above
}

// BelowWeights is Optuna's weighting of the below trials of several
// objectives: each feasible trial's hypervolume contribution among the
// feasible ones, divided by the largest (at least eps); infeasible trials
// get eps. With at most one feasible trial, feasible ones get 1.
func BelowWeights(below []Observation) []float64 {
	w := make([]float64, len(below))
	var feasible [][]float64
	var idx []int
	for i, o := range below {
		w[i] = eps
		if o.Violation == 0 {
			w[i] = 1
			feasible = append(feasible, o.Losses)
			idx = append(idx, i)
		}
	}
	if len(feasible) <= 1 {
		return w
	}
	contrib := Contributions(feasible, Reference(feasible))
	top := math.Max(slices.Max(contrib), eps)
	for k, i := range idx {
		w[i] = math.Max(contrib[k]/top, eps)
	}
	return w
}

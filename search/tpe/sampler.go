// Package tpe is sweep's Tree-structured Parzen Estimator, following Optuna's
// current algorithm (Watanabe 2023, "Tree-structured Parzen Estimator:
// Understanding Its Algorithm Components and Why They Work").
//
// Finished trials are split into the best γ(n) ("below") and the rest
// ("above"); each side becomes a mixture of truncated Gaussian / categorical
// kernels, l(x) and g(x); candidates drawn from l(x) are ranked by
// log l(x) − log g(x). The package does not talk to a database beyond
// goptuna's Study, and does not choose seeds: callers pass a per-worker seed.
package tpe

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
)

var (
	_ goptuna.Sampler         = (*Sampler)(nil)
	_ goptuna.RelativeSampler = (*Sampler)(nil)
)

// Options configures a Sampler. The zero value of every field means the
// default, which is Optuna's except for EICandidates and
// CategoricalPriorWeight in joint draws (sweep's two departures, measured
// in docs/search-benchmarks.md); set them to 24 and 1 for Optuna's
// algorithm.
type Options struct {
	Seed          uint64
	StartupTrials int // random trials before TPE starts; 0 means the default 10, NoStartupTrials none
	// EICandidates fixes how many candidates are drawn from l(x) per
	// suggestion. 0 means Optuna's 24 for univariate draws and
	// AutoCandidates for joint (multivariate) draws of at least
	// AutoCandidatesMinDims params.
	EICandidates int
	Multivariate bool // model parameters jointly, drawn at a trial's first Sample call
	Group        bool // multivariate per group of params that co-occur (conditional spaces); implies Multivariate
	// ConstantLiar treats trials RUNNING elsewhere as observations in g(x)
	// (the worst values), so parallel workers spread out.
	ConstantLiar      bool
	PriorWeight       float64 // default 1
	NoPrior           bool    // drop the prior kernel
	NoMagicClip       bool    // no lower bound on bandwidths
	ConsiderEndpoints bool    // let outermost kernels use the gap to the bound
	// LegacyBandwidth restores Optuna 3.x's bandwidths: the prior's centre
	// counts as a neighbour in the gap rule, and multivariate kernels use
	// the Scott-like rule 0.2·n^(−1/(d+4))·range instead of the gap rule.
	// Optuna 4+ dropped both (see docs/search-benchmarks.md).
	LegacyBandwidth bool
	// Gamma maps the number of finished trials to the size of "below";
	// default DefaultGamma.
	Gamma func(n int) int
	// Weights maps a count to per-observation weights, oldest first;
	// default DefaultWeights.
	Weights func(n int) []float64
	// CategoricalPriorWeight is the prior weight in the categorical kernels
	// of joint (multivariate) draws; 0 means DefaultCategoricalPriorWeight.
	// Optuna uses PriorWeight (1) there too; univariate draws do here.
	CategoricalPriorWeight float64
}

// DefaultGamma is Optuna's default: min(⌈0.1·n⌉, 25).
func DefaultGamma(n int) int { return min(int(math.Ceil(0.1*float64(n))), 25) }

// UnivariateCandidates is Optuna's EI candidate count, sweep's default for
// params drawn one at a time.
const UnivariateCandidates = 24

// AutoCandidates is the default EI candidate count of a joint
// (multivariate) draw of at least AutoCandidatesMinDims params after n
// finished trials: two per trial, at least Optuna's 24 and at most 200,
// and at most 20000/n so that a suggestion's kernel evaluations
// (candidates × observations) stay within those at n = 100 (a suggestion
// at 1000 trials draws 24, as Optuna). With more observations and
// dimensions l(x)/g(x) has more structure than 24 candidates resolve
// (docs/search-benchmarks.md, "EI candidates"; docs/search-variants.md).
// Univariate draws keep 24: there each coordinate is ranked on its own 1-D
// ratio, and more candidates made every coordinate greedier and the regret
// worse.
func AutoCandidates(n int) int {
	return max(UnivariateCandidates, min(2*n, 200, 20000/max(n, 1)))
}

// AutoCandidatesMinDims is the fewest params a joint draw needs for
// AutoCandidates; smaller ones keep 24. In one or two dimensions 24
// candidates already find the peaks of l(x)/g(x), and more make every draw
// land on the single best one: on the 2-D hold-out functions with several
// global minima the median regret rose by 1.3-1.5x (`make
// bench-search-variants` at commit c6287f5, before this rule).
const AutoCandidatesMinDims = 3

// DefaultCategoricalPriorWeight is sweep's prior weight for the categorical
// kernels of joint draws, where Optuna uses its prior weight 1. A below
// kernel keeps its own category with probability (1 + w/(n+1)) /
// (1 + c·w/(n+1)) for n kernels and c choices: with w = 1, 10 trials in
// "below" and 5 choices that is 0.80, so once the first good trials share a
// category, l(x) seldom proposes another together with good values of the
// other params, and a study settles on the wrong category. With w = 4 it is
// 0.48. On the benchmark problems with categoricals this lowered the median
// regret over 155 seeds (docs/search-variants.md). Univariate draws keep
// Optuna's weight: there a kernel does not tie its category to the other
// params' values, which is the lock-in the larger weight answers.
const DefaultCategoricalPriorWeight = 4

// DefaultWeights is Optuna's default: equal weights for up to 25
// observations, beyond that a linear ramp from 1/n to 1 on the oldest n − 25
// and weight 1 on the newest 25.
func DefaultWeights(n int) []float64 {
	w := make([]float64, n)
	if n < 25 {
		for i := range w {
			w[i] = 1
		}
		return w
	}
	ramp := n - 25
	for i := range ramp {
		if ramp == 1 {
			w[i] = 1 / float64(n)
		} else {
			w[i] = 1/float64(n) + (1-1/float64(n))*float64(i)/float64(ramp-1)
		}
	}
	for i := ramp; i < n; i++ {
		w[i] = 1
	}
	return w
}

// Sampler is a TPE sampler. It is safe for concurrent use by the trial slots
// of one process. Each suggestion's randomness comes from a stream derived
// from Options.Seed, the trial number and the parameter (or group), so the
// same seed and the same history give the same suggestion.
type Sampler struct {
	opt    Options
	est    estimatorParams
	random *sampler.Random
	hist   history

	mu      sync.Mutex
	pending map[int]map[string]pendingValue // trial ID → jointly drawn values not yet asked for
	order   []int                           // trial IDs in pending, oldest first
	scratch sync.Pool                       // *[]float64 candidates × kernels buffers for logPDF
	snaps   map[int]*snapshot               // trial ID → history seen by its first suggestion
	snapIDs []int                           // trial IDs in snaps, oldest first
}

// snapshot is the history one trial's suggestions are based on: the
// finished trials, and their split into below and above (the latter with the
// constant liar's running trials), all in trial-number order.
type snapshot struct {
	fin, run     []*record
	below, above []*record
	spaces       []map[string]sampler.Bounds // multivariate search spaces (groups or intersection)
}

type pendingValue struct {
	v float64
	b sampler.Bounds
}

// maxPending bounds how many trials' joint samples are kept for later Sample
// calls (conditional params a trial may never ask for).
const maxPending = 256

// NoStartupTrials as Options.StartupTrials makes TPE model from the first
// trial (a zero value means the default 10).
const NoStartupTrials = -1

// New returns a TPE sampler.
func New(opt Options) *Sampler {
	switch {
	case opt.StartupTrials == 0:
		opt.StartupTrials = 10
	case opt.StartupTrials < 0:
		opt.StartupTrials = 0
	}
	if opt.PriorWeight == 0 {
		opt.PriorWeight = 1
	}
	if opt.Gamma == nil {
		opt.Gamma = DefaultGamma
	}
	if opt.Weights == nil {
		opt.Weights = DefaultWeights
	}
	if opt.CategoricalPriorWeight == 0 {
		opt.CategoricalPriorWeight = DefaultCategoricalPriorWeight
	}
	if opt.Group {
		opt.Multivariate = true
	}
	return &Sampler{
		opt:    opt,
		random: sampler.NewRandom(opt.Seed),
		est: estimatorParams{priorWeight: opt.PriorWeight, considerPrior: !opt.NoPrior,
			magicClip: !opt.NoMagicClip, endpoints: opt.ConsiderEndpoints, weights: opt.Weights,
			legacy: opt.LegacyBandwidth, catPriorWeight: opt.CategoricalPriorWeight},
		pending: make(map[int]map[string]pendingValue),
	}
}

// Sample implements goptuna.Sampler. In multivariate mode the first Sample
// call of a trial draws every group jointly (see SampleRelative) and later
// calls return those values; a param outside every group, and every param in
// univariate mode, gets univariate TPE; during start-up, random values.
func (s *Sampler) Sample(study *goptuna.Study, trial goptuna.FrozenTrial, name string, dist any) (float64, error) {
	b, err := sampler.BoundsOf(dist)
	if err != nil {
		return 0, err
	}
	if b.Single() {
		return b.Low, nil // 0 for a one-choice categorical
	}
	if s.opt.Multivariate && !s.drawn(trial.ID) {
		if _, err := s.SampleRelative(study, trial, nil); err != nil {
			return 0, err
		}
	}
	if v, ok := s.takePending(trial.ID, name, b); ok {
		return v, nil
	}
	snap, err := s.snapshot(study, trial)
	if err != nil {
		return 0, err
	}
	if len(snap.fin) < s.opt.StartupTrials {
		return s.random.Sample(study, trial, name, dist)
	}
	v := s.sampleSpace(trial.Number, []string{name}, []sampler.Bounds{b}, snap, false)
	return v[0], nil
}

// SampleRelative implements goptuna.RelativeSampler. In multivariate mode it
// draws all parameters of the inferred search space jointly: the params every
// finished trial has (intersection), or with Group each group of params that
// always occur together. The search space goptuna passes is ignored. The
// values are kept for the trial's Sample calls, so the sampler works without
// being registered as goptuna's RelativeSampler at all (goptuna v0.9.0's
// IntersectionSearchSpace panics on categorical params).
func (s *Sampler) SampleRelative(study *goptuna.Study, trial goptuna.FrozenTrial, _ map[string]any) (map[string]float64, error) {
	if !s.opt.Multivariate {
		return nil, nil
	}
	snap, err := s.snapshot(study, trial)
	if err != nil {
		return nil, err
	}
	fin := snap.fin
	if len(fin) < s.opt.StartupTrials {
		s.putPending(trial.ID, nil, nil)
		return nil, nil
	}
	spaces := snap.spaces
	out := make(map[string]float64)
	for _, sp := range spaces {
		names := make([]string, 0, len(sp))
		for name, b := range sp {
			if !b.Single() {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			continue
		}
		slices.Sort(names)
		bs := make([]sampler.Bounds, len(names))
		for j, name := range names {
			bs[j] = sp[name]
		}
		for j, v := range s.sampleSpace(trial.Number, names, bs, snap, true) {
			out[names[j]] = v
		}
	}
	s.putPending(trial.ID, out, spaces)
	return out, nil
}

// sampleSpace runs one TPE step over the given params and returns their
// internal values.
func (s *Sampler) sampleSpace(number int, names []string, bs []sampler.Bounds, snap *snapshot, multivariate bool) []float64 {
	dims, l, g := s.estimators(names, bs, snap, multivariate)
	purpose := "tpe"
	for _, n := range names {
		purpose += "/" + n
	}
	rng := sampler.TrialRand(s.opt.Seed, number, purpose)
	cands := l.sample(rng, s.candidates(len(snap.fin), len(names), multivariate))
	buf, _ := s.scratch.Get().(*[]float64)
	if buf == nil {
		buf = new([]float64)
	}
	best, scratch := bestCandidate(l, g, cands, *buf)
	*buf = scratch
	s.scratch.Put(buf)
	out := make([]float64, len(names))
	for j, d := range dims {
		out[j] = d.untransform(cands[j][best])
	}
	return out
}

// bestCandidate returns the index of the candidate (cands[dim][candidate],
// transformed space) with the largest log l(x) − log g(x), the first on
// ties, and the scratch buffer for reuse.
func bestCandidate(l, g *estimator, cands [][]float64, scratch []float64) (int, []float64) {
	ll, scratch := l.logPDF(cands, scratch)
	lg, scratch := g.logPDF(cands, scratch)
	best, bestScore := 0, math.Inf(-1)
	for c := range ll {
		if sc := ll[c] - lg[c]; sc > bestScore {
			best, bestScore = c, sc
		}
	}
	return best, scratch
}

// candidates is the EI candidate count of one draw of dims params after n
// finished trials.
func (s *Sampler) candidates(n, dims int, joint bool) int {
	switch {
	case s.opt.EICandidates > 0:
		return s.opt.EICandidates
	case joint && dims >= AutoCandidatesMinDims:
		return AutoCandidates(n)
	}
	return UnivariateCandidates
}

// estimators builds l(x) from the snapshot's below and g(x) from its above
// trials over the given params.
func (s *Sampler) estimators(names []string, bs []sampler.Bounds, snap *snapshot, multivariate bool) (dims []dim, l, g *estimator) {
	dims = make([]dim, len(names))
	for j, b := range bs {
		dims[j] = newDim(b)
	}
	p := s.est
	p.multivariate = multivariate
	ids := s.hist.ids(names)
	obsL, ordL := s.hist.observe(snap.below, ids, dims)
	obsG, ordG := s.hist.observe(snap.above, ids, dims)
	return dims, newEstimator(dims, obsL, ordL, p), newEstimator(dims, obsG, ordG, p)
}

// snapshot returns the history for a trial's suggestions: read from storage
// at its first suggestion and reused for its other params (as Optuna caches
// trials within a trial), which saves a full read of the study per param.
func (s *Sampler) snapshot(study *goptuna.Study, trial goptuna.FrozenTrial) (*snapshot, error) {
	s.mu.Lock()
	snap, ok := s.snaps[trial.ID]
	s.mu.Unlock()
	if ok {
		return snap, nil
	}
	fin, run, err := s.hist.load(study, trial, s.opt.ConstantLiar)
	if err != nil {
		return nil, fmt.Errorf("tpe: %w", err)
	}
	snap = &snapshot{fin: fin, run: run}
	if len(fin) >= s.opt.StartupTrials {
		maximize := study.Direction() == goptuna.StudyDirectionMaximize
		snap.below, snap.above = s.hist.split(fin, s.opt.Gamma(len(fin)), maximize)
		if len(run) > 0 {
			snap.above = append(snap.above, run...)
			slices.SortFunc(snap.above, func(a, b *record) int { return a.number - b.number })
		}
		if s.opt.Multivariate {
			snap.spaces = s.hist.spaces(s.opt.Group)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snaps == nil {
		s.snaps = make(map[int]*snapshot)
	}
	s.snaps[trial.ID] = snap
	s.snapIDs = append(s.snapIDs, trial.ID)
	for len(s.snapIDs) > maxSnapshots {
		delete(s.snaps, s.snapIDs[0])
		s.snapIDs = s.snapIDs[1:]
	}
	return snap, nil
}

// maxSnapshots bounds the trials whose history snapshot is kept: one per
// trial slot running at once is enough.
const maxSnapshots = 64

func (s *Sampler) takePending(id int, name string, b sampler.Bounds) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[id][name]
	if !ok || p.b != b {
		return 0, false
	}
	delete(s.pending[id], name)
	return p.v, true
}

// drawn reports whether the trial's joint sample was already made.
func (s *Sampler) drawn(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.pending[id]
	return ok
}

// putPending stores a trial's joint sample (possibly empty, which marks the
// trial as drawn).
func (s *Sampler) putPending(id int, vals map[string]float64, spaces []map[string]sampler.Bounds) {
	m := make(map[string]pendingValue, len(vals))
	for _, sp := range spaces {
		for name, b := range sp {
			if v, ok := vals[name]; ok {
				m[name] = pendingValue{v, b}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[id]; !ok {
		s.order = append(s.order, id)
	}
	s.pending[id] = m
	for len(s.order) > maxPending {
		delete(s.pending, s.order[0])
		s.order = s.order[1:]
	}
}

package search

import (
	"errors"
	"fmt"

	"github.com/c-bata/goptuna"

	"sweep/search/prune"
	"sweep/search/sampler"
	"sweep/search/tpe"
)

// Sentinel errors of the spec-to-algorithm glue.
var (
	// ErrUnknownSampler means SamplerSpec.Type names no sampler.
	ErrUnknownSampler = errors.New("search: unknown sampler")
	// ErrUnknownPruner means PrunerSpec.Type names no pruner.
	ErrUnknownPruner = errors.New("search: unknown pruner")
)

// WorkerSeed returns the seed of one worker's sampler. The study seed is
// spec.Seed, or a hash of the study name when the spec gives none; the
// worker index (assigned by the store, unique within the study) is mixed in
// so that no two workers share a random stream.
func WorkerSeed(spec SamplerSpec, studyName string, workerIndex int) uint64 {
	base := sampler.HashString("sweep/study:" + studyName)
	if spec.Seed != nil {
		base = uint64(*spec.Seed)
	}
	return sampler.Mix(base, uint64(int64(workerIndex)))
}

// NewSampler builds the sampler a worker uses for a study. studyName and
// workerIndex only matter for the seed (see [WorkerSeed]); params is the
// search space in spec order, needed by the grid sampler.
//
// The independent sampler is never nil. The relative sampler is nil unless
// the algorithm samples parameters jointly (multivariate TPE, CMA-ES); the
// caller passes both to goptuna (StudyOptionSampler and
// StudyOptionRelativeSampler). Both are safe for concurrent use, so one pair
// may serve all trial slots of a process.
func NewSampler(spec SamplerSpec, params []Param, studyName string, workerIndex int) (goptuna.Sampler, goptuna.RelativeSampler, error) {
	seed := WorkerSeed(spec, studyName, workerIndex)
	switch spec.Type {
	case "", "tpe":
		t := tpe.New(tpe.Options{Seed: seed, StartupTrials: spec.StartupTrials, EICandidates: spec.EICandidates,
			Multivariate: spec.Multivariate, Group: spec.Group, ConstantLiar: spec.ConstantLiar})
		if spec.Multivariate || spec.Group {
			return t, t, nil
		}
		return t, nil, nil
	case "random":
		return sampler.NewRandom(seed), nil, nil
	}
	return nil, nil, fmt.Errorf("%w %q (want tpe, random, grid or cmaes)", ErrUnknownSampler, spec.Type)
}

// NewPruner builds the pruner a study's spec asks for. Type "none" (or
// empty) returns a nil Pruner and no error: the caller then never prunes.
// Zero-valued fields take Optuna's defaults (startup 5, warm-up 0, interval
// 1, percentile 25 for the percentile rule).
func NewPruner(spec PrunerSpec) (goptuna.Pruner, error) {
	startup := spec.StartupTrials
	if startup == 0 {
		startup = 5
	}
	interval := spec.Interval
	if interval == 0 {
		interval = 1
	}
	switch spec.Type {
	case "", "none":
		return nil, nil
	case "median":
		return prune.NewMedian(startup, spec.WarmupSteps, interval)
	case "percentile":
		pct := spec.Percentile
		if pct == 0 {
			pct = 25
		}
		return prune.NewPercentile(pct, startup, spec.WarmupSteps, interval)
	}
	return nil, fmt.Errorf("%w %q (want none, median, percentile, asha or hyperband)", ErrUnknownPruner, spec.Type)
}

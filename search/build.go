package search

import (
	"errors"
	"fmt"
	"math"

	"github.com/c-bata/goptuna"

	"sweep/search/mo"
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
	// ErrUnsupportedSpace means the sampler cannot search the given params
	// (CMA-ES with categorical or conditional params, a grid over a
	// continuous float).
	ErrUnsupportedSpace = errors.New("search: search space not supported by sampler")
)

// maxGridPoints bounds the grid a spec may expand to.
const maxGridPoints = 1_000_000

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
// search space in spec order, needed by the grid and CMA-ES samplers.
//
// The independent sampler is never nil. The relative sampler is nil except
// for CMA-ES; the caller passes both to goptuna (StudyOptionSampler and, when
// non-nil, StudyOptionRelativeSampler). Multivariate TPE draws its joint
// sample inside Sample and is deliberately not returned as a relative
// sampler: goptuna v0.9.0's IntersectionSearchSpace panics on categorical
// params. Both are safe for concurrent use, so one pair may serve all trial
// slots of a process.
func NewSampler(spec SamplerSpec, params []Param, studyName string, workerIndex int) (goptuna.Sampler, goptuna.RelativeSampler, error) {
	startup := -1 // unset: the sampler's default
	if spec.StartupTrials != nil {
		startup = *spec.StartupTrials
	}
	if spec.StartupTrials != nil && startup < 0 || spec.EICandidates < 0 {
		// ParseSpec rejects these with file and line; this guards direct callers.
		return nil, nil, fmt.Errorf("search: sampler startup_trials %d and ei_candidates %d must not be negative",
			startup, spec.EICandidates)
	}
	seed := WorkerSeed(spec, studyName, workerIndex)
	switch spec.Type {
	case "", "tpe":
		tpeStartup := 0 // TPE's default
		switch {
		case startup == 0:
			tpeStartup = tpe.NoStartupTrials
		case startup > 0:
			tpeStartup = startup
		}
		on := func(b *bool) bool { return b == nil || *b } // unset: on, as in Optuna 4+
		t := tpe.New(tpe.Options{Seed: seed, StartupTrials: tpeStartup, EICandidates: spec.EICandidates,
			Multivariate: on(spec.Multivariate), Group: spec.Group, ConstantLiar: on(spec.ConstantLiar),
			CategoricalPriorWeight: spec.CategoricalPriorWeight})
		return t, nil, nil
	case "random":
		return sampler.NewRandom(seed), nil, nil
	case "grid":
		points, err := GridPoints(params)
		if err != nil {
			return nil, nil, err
		}
		g, err := sampler.NewGrid(points)
		if err != nil {
			return nil, nil, err
		}
		return g, nil, nil
	case "cmaes":
		if err := numericOnly(params); err != nil {
			return nil, nil, err
		}
		return sampler.NewRandom(seed), sampler.NewCMAES(seed, max(startup, 0)), nil
	}
	return nil, nil, fmt.Errorf("%w %q (want tpe, random, grid or cmaes; nsga2 and motpe need the study's directions, see NewStudySampler)", ErrUnknownSampler, spec.Type)
}

func numericOnly(params []Param) error {
	for _, p := range params {
		if p.Type == Categorical {
			return fmt.Errorf("%w: cmaes cannot search categorical param %q (line %d); use tpe", ErrUnsupportedSpace, p.Name, p.Line)
		}
		if len(p.Conditional) > 0 {
			return fmt.Errorf("%w: cmaes cannot search conditional params under %q (line %d); use tpe with group: true", ErrUnsupportedSpace, p.Name, p.Line)
		}
	}
	return nil
}

// GridPoints expands params into the grid sampler's points, in spec order
// with the last param varying fastest. Categorical params take each choice
// (and, under it, the grid of its conditional params); int params every
// value from Low to High by Step (1 when 0); float params need a Step.
// Values are goptuna internal values (category index for categoricals).
func GridPoints(params []Param) ([]map[string]float64, error) {
	points := []map[string]float64{{}}
	for _, p := range params {
		next := make([]map[string]float64, 0, len(points))
		opts, err := gridValues(p)
		if err != nil {
			return nil, err
		}
		for _, base := range points {
			for _, o := range opts {
				for _, sub := range o.sub {
					pt := make(map[string]float64, len(base)+1+len(sub))
					for k, v := range base {
						pt[k] = v
					}
					for k, v := range sub {
						pt[k] = v
					}
					pt[p.Name] = o.v
					next = append(next, pt)
				}
			}
			if len(next) > maxGridPoints {
				return nil, fmt.Errorf("%w: grid exceeds %d points at param %q (line %d)", ErrUnsupportedSpace, maxGridPoints, p.Name, p.Line)
			}
		}
		points = next
	}
	return points, nil
}

// gridOption is one value of a param with the grid of its conditional params.
type gridOption struct {
	v   float64
	sub []map[string]float64
}

func gridValues(p Param) ([]gridOption, error) {
	empty := []map[string]float64{{}}
	switch p.Type {
	case Categorical:
		var out []gridOption
		for i, c := range p.Choices {
			sub := empty
			if kids := p.Conditional[ChoiceString(c)]; len(kids) > 0 {
				var err error
				if sub, err = GridPoints(kids); err != nil {
					return nil, err
				}
			}
			out = append(out, gridOption{float64(i), sub})
		}
		return out, nil
	case Int, Float:
		step := p.Step
		if step == 0 && p.Type == Int {
			step = 1
		}
		if !(step > 0) {
			return nil, fmt.Errorf("%w: grid needs a step for float param %q (line %d)", ErrUnsupportedSpace, p.Name, p.Line)
		}
		n := int(math.Floor((p.High-p.Low)/step+1e-9)) + 1
		if n > maxGridPoints || n < 1 {
			return nil, fmt.Errorf("%w: param %q (line %d) has %d grid values", ErrUnsupportedSpace, p.Name, p.Line, n)
		}
		out := make([]gridOption, n)
		for i := range out {
			out[i] = gridOption{math.Min(p.Low+float64(i)*step, p.High), empty}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: param %q has unknown type %q", ErrUnsupportedSpace, p.Name, p.Type)
}

// NewPruner builds the pruner a study's spec asks for. Type "none" (or
// empty) returns a nil Pruner and no error: the caller then never prunes.
// Unset fields (nil, or zero for those where 0 is no valid value) take
// Optuna's defaults: startup 5, warm-up 0, interval 1, percentile 25; ASHA
// min_resource auto and reduction_factor 4; Hyperband min_resource 1,
// max_resource auto and reduction_factor 3. An explicit startup 0 or
// percentile 0 is kept.
func NewPruner(spec PrunerSpec) (goptuna.Pruner, error) {
	startup := 5
	if spec.StartupTrials != nil {
		startup = *spec.StartupTrials
	}
	interval := spec.Interval
	if interval == 0 {
		interval = 1
	}
	rf := func(def int) int {
		if spec.ReductionFactor == 0 {
			return def
		}
		return spec.ReductionFactor
	}
	switch spec.Type {
	case "", "none":
		return nil, nil
	case "median":
		return pruner(prune.NewMedian(startup, spec.WarmupSteps, interval))
	case "percentile":
		pct := 25.0
		if spec.Percentile != nil {
			pct = *spec.Percentile
		}
		return pruner(prune.NewPercentile(pct, startup, spec.WarmupSteps, interval))
	case "asha":
		a, err := prune.NewASHA(spec.MinResource, rf(4), spec.MinEarlyStoppingRate)
		if err != nil {
			return nil, err
		}
		a.MaxResource = spec.MaxResource
		return a, nil
	case "hyperband":
		minRes := spec.MinResource
		if minRes == 0 {
			minRes = 1
		}
		return pruner(prune.NewHyperband(minRes, spec.MaxResource, rf(3)))
	}
	return nil, fmt.Errorf("%w %q (want none, median, percentile, asha or hyperband)", ErrUnknownPruner, spec.Type)
}

// pruner converts a constructor's result so that an error never comes with a
// non-nil interface holding a nil pointer.
func pruner[P goptuna.Pruner](p P, err error) (goptuna.Pruner, error) {
	if err != nil {
		return nil, fmt.Errorf("build pruner: %w", err)
	}
	return p, nil
}

// NewStudySampler builds the sampler of a worker for the whole spec: like
// NewSampler, but it also knows the study's objectives, which nsga2 and
// motpe (and tpe or random on several metrics) need. A single-objective
// spec with another sampler type gets exactly NewSampler's sampler.
//
// On several metrics, tpe means MOTPE (as Optuna's TPESampler does) and
// random stays random; nsga2 and motpe also run single-objective studies.
// The samplers read each trial's values from its mo.ValuesAttr, falling
// back to the trial's value when the study has one metric.
func NewStudySampler(spec *Spec, workerIndex int) (goptuna.Sampler, goptuna.RelativeSampler, error) {
	typ := spec.Sampler.Type
	multi := spec.MultiObjective()
	if typ != "nsga2" && typ != "motpe" && !(multi && (typ == "" || typ == "tpe")) {
		if multi && typ == "cmaes" {
			return nil, nil, fmt.Errorf("%w: cmaes optimises one metric, the study has %d", ErrUnsupportedSpace, len(spec.Metrics))
		}
		return NewSampler(spec.Sampler, spec.Params, spec.Study, workerIndex)
	}
	_, names := spec.Objectives()
	dirs := make([]mo.Direction, len(names))
	for i, name := range names {
		d, ok := mo.ParseDirection(name)
		if !ok {
			return nil, nil, fmt.Errorf("search: direction %q of objective %d is not maximize or minimize", name, i)
		}
		dirs[i] = d
	}
	seed := WorkerSeed(spec.Sampler, spec.Study, workerIndex)
	if typ == "nsga2" {
		return mo.NewNSGA2(mo.NSGA2Options{Seed: seed, Directions: dirs, PopulationSize: spec.Sampler.PopulationSize,
			Crossover: spec.Sampler.Crossover}), nil, nil
	}
	startup := 0
	if spec.Sampler.StartupTrials != nil {
		startup = *spec.Sampler.StartupTrials
		if startup == 0 {
			startup = -1 // none, in MOTPEOptions' terms
		}
	}
	return mo.NewMOTPE(mo.MOTPEOptions{Seed: seed, Directions: dirs, StartupTrials: startup, EICandidates: spec.Sampler.EICandidates}), nil, nil
}

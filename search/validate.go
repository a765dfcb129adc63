package search

import (
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// checkSampler validates a decoded sampler mapping; n is its node.
func (d *decoder) checkSampler(n *yaml.Node, s SamplerSpec) {
	if !slices.Contains(samplerTypes, s.Type) {
		d.failf(lookup(n, "type"), "sampler.type", "unknown sampler %q (want %s)%s", clip(s.Type), strings.Join(samplerTypes, ", "),
			DidYouMean(s.Type, samplerTypes))
	}
	if s.StartupTrials != nil {
		d.nonNegative(n, "sampler", "startup_trials", *s.StartupTrials, MaxTrials)
	}
	d.nonNegative(n, "sampler", "ei_candidates", s.EICandidates, 100_000)
	if w := s.CategoricalPriorWeight; !(w >= 0 && w <= 1000) {
		d.failf(lookup(n, "categorical_prior_weight"), "sampler.categorical_prior_weight", "must be between 0 and 1000 (got %g)", w)
	}
	if s.CategoricalPriorWeight != 0 && s.Type != "" && s.Type != "tpe" {
		d.failf(lookup(n, "type"), "sampler.type", "categorical_prior_weight configures tpe only (got type %s)", s.Type)
	}
	if k := lookup(n, "population_size"); k != n && (s.PopulationSize < 2 || s.PopulationSize > 100_000) {
		d.failf(k, "sampler.population_size", "must be between 2 and 100000 (got %d)", s.PopulationSize)
	}
	if s.Crossover != "" && s.Crossover != "uniform" && s.Crossover != "sbx" {
		d.failf(lookup(n, "crossover"), "sampler.crossover", "must be uniform or sbx (got %q)%s", clip(s.Crossover), DidYouMean(s.Crossover, []string{"uniform", "sbx"}))
	}
	if (s.PopulationSize != 0 || s.Crossover != "") && s.Type != "nsga2" {
		d.failf(lookup(n, "type"), "sampler.type", "population_size and crossover configure nsga2 only (got type %s)", s.Type)
	}
}

// checkPruner validates a decoded pruner mapping; n is its node. An
// absent key (lookup returns n itself) means the pruner's default; a
// present one is taken as given, 0 included, so 0 is refused where it
// makes no sense.
func (d *decoder) checkPruner(n *yaml.Node, p PrunerSpec) {
	if !slices.Contains(prunerTypes, p.Type) {
		d.failf(lookup(n, "type"), "pruner.type", "unknown pruner %q (want %s)%s", clip(p.Type), strings.Join(prunerTypes, ", "),
			DidYouMean(p.Type, prunerTypes))
	}
	if p.StartupTrials != nil {
		d.nonNegative(n, "pruner", "startup_trials", *p.StartupTrials, MaxTrials)
	}
	d.nonNegative(n, "pruner", "warmup_steps", p.WarmupSteps, 1_000_000)
	if k := lookup(n, "interval"); k != n && (p.Interval < 1 || p.Interval > 1_000_000) {
		d.failf(k, "pruner.interval", "must be between 1 and 1000000 (got %d)", p.Interval)
	}
	d.nonNegative(n, "pruner", "min_resource", p.MinResource, 1_000_000)
	d.nonNegative(n, "pruner", "max_resource", p.MaxResource, 1_000_000)
	d.nonNegative(n, "pruner", "min_early_stopping_rate", p.MinEarlyStoppingRate, 100)
	if p.Percentile != nil && !(*p.Percentile >= 0 && *p.Percentile < 100) {
		d.failf(lookup(n, "percentile"), "pruner.percentile", "must be between 0 and 100 (got %g)", *p.Percentile)
	}
	if k := lookup(n, "reduction_factor"); k != n && (p.ReductionFactor < 2 || p.ReductionFactor > 100) {
		d.failf(k, "pruner.reduction_factor", "must be between 2 and 100 (got %d)", p.ReductionFactor)
	}
	if p.MaxResource > 0 && p.MinResource > p.MaxResource {
		d.failf(lookup(n, "min_resource"), "pruner.min_resource", "must be ≤ max_resource (got %d > %d)", p.MinResource, p.MaxResource)
	}
}

// nonNegative reports an integer option outside [0, hi].
func (d *decoder) nonNegative(n *yaml.Node, section, key string, v, hi int) {
	if v < 0 || v > hi {
		d.failf(lookup(n, key), section+"."+key, "must be between 0 and %d (got %d)", hi, v)
	}
}

// checkHeartbeat validates heartbeat timing.
func (d *decoder) checkHeartbeat(n *yaml.Node, h HeartbeatSpec) {
	if h.Interval <= 0 || h.Interval > time.Hour {
		d.failf(lookup(n, "interval"), "heartbeat.interval", "must be > 0 and ≤ 1h (got %v)", h.Interval)
	}
	if h.Grace < 0 {
		d.failf(lookup(n, "grace"), "heartbeat.grace", "must be > 0 (got %v)", h.Grace)
	}
}

// checkStop validates the stop conditions; n is the stop mapping. A
// condition that is present must mean something: 0 would read as "stop
// at once" to some and "no limit" to others, so it is refused (omit the
// key for no limit). Values that did not decode are reported once, by the
// decoder.
func (d *decoder) checkStop(n *yaml.Node, s StopSpec) {
	if k := lookup(n, "timeout"); k != n && !d.failed("stop.timeout") && s.Timeout < time.Second {
		d.failf(k, "stop.timeout", "must be at least 1s (omit it for no time limit; got %s)", s.Timeout)
	}
	if k := lookup(n, "max_failed"); k != n && !d.failed("stop.max_failed") && (s.MaxFailed < 1 || s.MaxFailed > MaxTrials) {
		d.failf(k, "stop.max_failed", "must be between 1 and %d (omit it for no limit; got %d)", MaxTrials, s.MaxFailed)
	}
}

// failed reports whether a problem was already recorded for field.
func (d *decoder) failed(field string) bool {
	return slices.ContainsFunc(d.errs, func(e *SpecError) bool { return e.Field == field })
}

// checkGrid refuses a grid sampler over a space with continuous params: a
// grid needs every param to have finitely many values.
func (d *decoder) checkGrid(n *yaml.Node, params []Param) {
	walkParams(params, func(p Param) {
		if p.Type == Float && p.Step == 0 {
			d.failf(lookup(n, "type"), "sampler.type", "grid needs a finite space: params.%s is a continuous float (give it a step or make it categorical)", p.Name)
		}
	})
}

// walkParams calls fn for every param, conditional ones included, depth
// first in file order.
func walkParams(params []Param, fn func(Param)) {
	for _, p := range params {
		fn(p)
		for _, c := range p.Choices {
			walkParams(p.Conditional[ChoiceString(c)], fn)
		}
	}
}

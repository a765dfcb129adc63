package search

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkSampler validates a decoded sampler mapping; n is its node.
func (d *decoder) checkSampler(n *yaml.Node, s SamplerSpec) {
	if !slices.Contains(samplerTypes, s.Type) {
		d.failf(lookup(n, "type"), "sampler.type", "unknown sampler %q (want %s)", clip(s.Type), strings.Join(samplerTypes, ", "))
	}
	d.nonNegative(n, "sampler", "startup_trials", s.StartupTrials, MaxTrials)
	d.nonNegative(n, "sampler", "ei_candidates", s.EICandidates, 100_000)
}

// checkPruner validates a decoded pruner mapping; n is its node. Zero
// values mean "the pruner's default", so only explicit nonsense is refused.
func (d *decoder) checkPruner(n *yaml.Node, p PrunerSpec) {
	if !slices.Contains(prunerTypes, p.Type) {
		d.failf(lookup(n, "type"), "pruner.type", "unknown pruner %q (want %s)", clip(p.Type), strings.Join(prunerTypes, ", "))
	}
	d.nonNegative(n, "pruner", "startup_trials", p.StartupTrials, MaxTrials)
	d.nonNegative(n, "pruner", "warmup_steps", p.WarmupSteps, 1_000_000)
	d.nonNegative(n, "pruner", "interval", p.Interval, 1_000_000)
	d.nonNegative(n, "pruner", "min_resource", p.MinResource, 1_000_000)
	d.nonNegative(n, "pruner", "max_resource", p.MaxResource, 1_000_000)
	d.nonNegative(n, "pruner", "min_early_stopping_rate", p.MinEarlyStoppingRate, 100)
	if p.Percentile < 0 || p.Percentile >= 100 {
		d.failf(lookup(n, "percentile"), "pruner.percentile", "must be between 0 and 100 (got %g)", p.Percentile)
	}
	if p.ReductionFactor == 1 || p.ReductionFactor < 0 || p.ReductionFactor > 100 {
		d.failf(lookup(n, "reduction_factor"), "pruner.reduction_factor", "must be between 2 and 100 (got %d)", p.ReductionFactor)
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

// checkHeartbeat validates heartbeat timing (seconds).
func (d *decoder) checkHeartbeat(n *yaml.Node, h HeartbeatSpec) {
	if h.Interval <= 0 || h.Interval > 3600 {
		d.failf(lookup(n, "interval"), "heartbeat.interval", "must be > 0 and ≤ 3600 seconds (got %g)", h.Interval)
	}
	if h.Grace < 0 {
		d.failf(lookup(n, "grace"), "heartbeat.grace", "must be > 0 seconds (got %g)", h.Grace)
	}
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

// objective decodes the objective mapping: `type` plus free-form options
// kept with their positions for the objective's constructor.
func (d *decoder) objective(k, n *yaml.Node) ObjectiveSpec {
	o := ObjectiveSpec{File: d.file, Line: k.Line, Options: map[string]any{}, Lines: map[string]int{}, nodes: map[string]*yaml.Node{}}
	hasType := false
	d.mapping(n, "objective", func(key string, k, v *yaml.Node) {
		if key == "type" {
			hasType = true
			o.Type, _ = d.name(v, "objective.type")
			return
		}
		if x, ok := d.value(v, "objective."+key); ok {
			o.Options[key] = x
			o.Lines[key] = k.Line
			o.nodes[key] = v
		}
	})
	if !hasType && resolve(n).Kind == yaml.MappingNode {
		d.failf(k, "objective.type", "required (e.g. synthetic)")
	}
	return o
}

// Checker starts validating the objective's options; see [OptionChecker].
func (o ObjectiveSpec) Checker() *OptionChecker {
	return &OptionChecker{o: o, d: &decoder{file: o.File, budget: MaxSpecNodes}, used: map[string]bool{}}
}

// OptionChecker decodes and validates an objective's options, collecting
// problems located at the option's line, as ParseSpec does for the rest of
// the spec. A constructor uses it like this:
//
//	c := spec.Objective.Checker()
//	c.Decode(&cfg) // keys matched to `yaml` tags; absent keys keep defaults
//	c.Check("epochs", cfg.Epochs >= 1, "must be ≥ 1 (got %d)", cfg.Epochs)
//	if err := c.Err(); err != nil { ... } // a SpecErrors
type OptionChecker struct {
	o    ObjectiveSpec
	d    *decoder
	used map[string]bool
}

// Decode fills the struct v points to from the options; each key must match
// a `yaml` tag of the struct (unknown keys are problems).
func (c *OptionChecker) Decode(v any) {
	rv := reflectValue(v)
	names, index := structFields(rv.Type())
	for _, key := range c.keys() {
		i, ok := index[key]
		if !ok {
			c.d.errs = append(c.d.errs, &SpecError{File: c.o.File, Line: c.o.Lines[key], Field: "objective." + key,
				Err: fmt.Errorf("unknown option for objective %s (want one of type, %s)", c.o.Type, strings.Join(names, ", "))})
			continue
		}
		c.used[key] = true
		if n := c.o.nodes[key]; n != nil {
			c.d.set(n, "objective."+key, rv.Field(i))
		} else if x := c.o.Options[key]; x != nil {
			// Options set by code rather than parsed: best-effort assignment.
			if xv := reflectValue(&x).Elem(); xv.Type().AssignableTo(rv.Field(i).Type()) {
				rv.Field(i).Set(xv)
			}
		}
	}
}

// keys returns the option keys in file order.
func (c *OptionChecker) keys() []string {
	keys := make([]string, 0, len(c.o.Options))
	for k := range c.o.Options {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c.o.Lines[a] != c.o.Lines[b] {
			return c.o.Lines[a] - c.o.Lines[b]
		}
		return strings.Compare(a, b)
	})
	return keys
}

// Check records a problem with option key unless ok holds. The problem is
// located at the key's line, or at the objective mapping when the key is
// absent (its default was wrong for the other options).
func (c *OptionChecker) Check(key string, ok bool, format string, args ...any) {
	if ok {
		return
	}
	line, present := c.o.Lines[key]
	if !present {
		line = c.o.Line
	}
	c.d.errs = append(c.d.errs, &SpecError{File: c.o.File, Line: line, Field: "objective." + key, Err: fmt.Errorf(format, args...)})
}

// Err returns the problems found so far as SpecErrors, or nil.
func (c *OptionChecker) Err() error {
	if len(c.d.errs) == 0 {
		return nil
	}
	return c.d.errs.sorted()
}

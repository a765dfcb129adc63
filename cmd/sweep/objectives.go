package main

import (
	"fmt"
	"slices"
	"strings"

	"sweep/objective"
	"sweep/objective/command"
	"sweep/search"
	"sweep/trainer/engine/cuda"
)

// objectiveFactory builds a spec's objective, validating its options with
// spec.Objective.Checker so problems carry file:line like the rest of the
// spec.
type objectiveFactory func(spec *search.Spec, getenv func(string) string) (objective.Objective, error)

// objectives maps the spec's `objective.type` to its constructor. Adding an
// objective is one line here. Constructors read the environment only
// through getenv (the command's env), so tests control it.
func objectives() map[string]objectiveFactory {
	return map[string]objectiveFactory{
		"synthetic": newSyntheticObjective,
		"cifar10": func(s *search.Spec, getenv func(string) string) (objective.Objective, error) {
			o, err := newCIFAR10Objective(s.Objective, s.Study, s.Params, getenv)
			if err != nil {
				return nil, err
			}
			return placeCIFAR10(s, o, cuda.Devices)
		},
		"command": func(s *search.Spec, _ func(string) string) (objective.Objective, error) {
			o, err := newCommandObjective(s)
			if err != nil {
				return nil, err
			}
			return placeCommand(s, o, cuda.Devices), nil
		},
	}
}

// newObjective builds spec's objective through the objectives map.
func newObjective(spec *search.Spec, getenv func(string) string) (objective.Objective, error) {
	all := objectives()
	f, ok := all[spec.Objective.Type]
	if !ok {
		names := make([]string, 0, len(all))
		for k := range all {
			names = append(names, k)
		}
		slices.Sort(names)
		c := spec.Objective.Checker()
		c.Check("type", false, "unknown objective %q (want %s)%s", spec.Objective.Type, strings.Join(names, ", "),
			search.DidYouMean(spec.Objective.Type, names))
		return nil, c.Err()
	}
	return f(spec, getenv)
}

// newSyntheticObjective builds objective `synthetic` over the spec's space.
func newSyntheticObjective(spec *search.Spec, _ func(string) string) (objective.Objective, error) {
	cfg := objective.DefaultSyntheticConfig()
	c := spec.Objective.Checker()
	c.Decode(&cfg)
	c.Check("epochs", cfg.Epochs >= 1 && cfg.Epochs <= 100_000, "must be between 1 and 100000 (got %d)", cfg.Epochs)
	c.Check("epoch_seconds", cfg.EpochSeconds >= 0 && cfg.EpochSeconds <= 3600, "must be between 0 and 3600 (got %g)", cfg.EpochSeconds)
	c.Check("noise", cfg.Noise >= 0 && cfg.Noise <= 1, "must be between 0 and 1 (got %g)", cfg.Noise)
	c.Check("fail_rate", cfg.FailRate >= 0 && cfg.FailRate <= 1, "must be between 0 and 1 (got %g)", cfg.FailRate)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var space []objective.SyntheticParam
	var walk func([]search.Param)
	walk = func(ps []search.Param) {
		for _, p := range ps {
			sp := objective.SyntheticParam{Name: p.Name, Low: p.Low, High: p.High, Log: p.Log}
			for _, ch := range p.Choices {
				sp.Choices = append(sp.Choices, search.ChoiceString(ch))
				walk(p.Conditional[search.ChoiceString(ch)])
			}
			space = append(space, sp)
		}
	}
	walk(spec.Params)
	o, err := objective.NewSynthetic(cfg, space)
	if err != nil {
		return nil, fmt.Errorf("build synthetic objective: %w", err)
	}
	return o, nil
}

// newCommandObjective builds objective `command`: the program the spec's
// argv names, run once per trial. Relative paths are resolved against the
// spec's directory (spec.Dir).
func newCommandObjective(spec *search.Spec) (*command.Objective, error) {
	cfg := command.DefaultConfig()
	c := spec.Objective.Checker()
	c.Decode(&cfg)
	cfg.Dir, cfg.Study, cfg.Metric = spec.Dir, spec.Study, spec.Metric
	var walk func([]search.Param)
	walk = func(ps []search.Param) {
		for _, p := range ps {
			cfg.Params = append(cfg.Params, p.Name)
			for _, sub := range p.Conditional {
				walk(sub)
			}
		}
	}
	walk(spec.Params)
	cfg.Check(c.Check)
	if err := c.Err(); err != nil {
		return nil, err
	}
	o, err := command.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("build command objective: %w", err)
	}
	return o, nil
}

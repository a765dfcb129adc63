package search

import (
	"encoding/json"
	"reflect"
)

// Equivalent reports whether two specs describe the same study: the same
// search space, budget, metric, algorithms and objective options. Workers
// (per process), devices (per machine) and positions in the file are
// ignored, so `sweep start` resumes a study after cosmetic edits or on
// another machine.
func Equivalent(a, b *Spec) bool {
	return reflect.DeepEqual(a.comparable(), b.comparable())
}

// comparable strips what Equivalent ignores and renders the rest as plain
// JSON values, so that e.g. a seed pointer compares by value.
func (s *Spec) comparable() any {
	c := *s
	c.Workers, c.Devices = 0, nil
	c.DevicesCPU, c.TrialsPerDevice, c.TrialMemoryGB, c.CPUFallback = false, 0, 0, false
	c.Objective = ObjectiveSpec{Type: s.Objective.Type, Options: s.Objective.Options}
	c.Params = stripLines(s.Params)
	b, err := json.Marshal(struct {
		Spec
		Params    []Param
		Objective map[string]any
	}{c, c.Params, map[string]any{"type": c.Objective.Type, "options": c.Objective.Options}})
	if err != nil {
		return err.Error()
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err.Error()
	}
	return v
}

// stripLines copies params with their Line fields zeroed.
func stripLines(params []Param) []Param {
	out := make([]Param, len(params))
	for i, p := range params {
		p.Line = 0
		if p.Conditional != nil {
			cond := make(map[string][]Param, len(p.Conditional))
			for k, sub := range p.Conditional {
				cond[k] = stripLines(sub)
			}
			p.Conditional = cond
		}
		out[i] = p
	}
	return out
}

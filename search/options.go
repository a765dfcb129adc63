package search

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

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
				Err: fmt.Errorf("unknown option for objective %s (want one of type, %s)%s", c.o.Type, strings.Join(names, ", "),
					DidYouMean(key, names))})
			continue
		}
		c.used[key] = true
		if n := c.o.nodes[key]; n != nil {
			c.d.set(n, "objective."+key, rv.FieldByIndex(i))
		} else if x := c.o.Options[key]; x != nil {
			// Options set by code rather than parsed: best-effort assignment.
			if xv := reflectValue(&x).Elem(); xv.Type().AssignableTo(rv.FieldByIndex(i).Type()) {
				rv.FieldByIndex(i).Set(xv)
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

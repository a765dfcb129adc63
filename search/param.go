package search

import (
	"math"
	"strings"

	"go.yaml.in/yaml/v3"
)

// paramKeys are the keys a param mapping may have, in the order messages
// list them.
var paramKeys = []string{"type", "low", "high", "log", "step", "choices", "conditional"}

// params decodes a mapping of param name → param definition. seen holds the
// names already declared anywhere in the space (with their lines): names
// must be unique across conditional branches too, because samplers and the
// database know a param only by its name.
func (d *decoder) params(n *yaml.Node, field string, depth int, seen map[string]int) []Param {
	var out []Param
	ok := d.mapping(n, field, func(key string, k, v *yaml.Node) {
		pf := join(field, key)
		if first, dup := seen[key]; dup {
			d.failf(k, pf, "duplicate param name (first at line %d)", first)
			return
		}
		seen[key] = k.Line
		if len(seen) == MaxParams+1 {
			d.failf(k, pf, "too many params (limit %d)", MaxParams)
		}
		if _, good := d.name(k, pf); !good {
			return
		}
		out = append(out, d.param(key, k.Line, v, pf, depth, seen))
	})
	if ok && len(resolve(n).Content) == 0 {
		d.failf(n, field, "must declare at least one param")
	}
	return out
}

// param decodes one param definition.
func (d *decoder) param(name string, line int, n *yaml.Node, field string, depth int, seen map[string]int) Param {
	p := Param{Name: name, Line: line}
	nodes := map[string]*yaml.Node{}
	if !d.mapping(n, field, func(key string, k, v *yaml.Node) {
		for _, known := range paramKeys {
			if key == known {
				nodes[key] = v
				return
			}
		}
		d.failf(k, join(field, key), "unknown key (want one of %s)%s", strings.Join(paramKeys, ", "), DidYouMean(key, paramKeys))
	}) {
		return p
	}
	tn, ok := nodes["type"]
	if !ok {
		d.failf(n, join(field, "type"), "required (float, int or categorical)")
		return p
	}
	typ, ok := d.str(tn, join(field, "type"))
	if !ok {
		return p
	}
	p.Type = ParamType(typ)
	switch p.Type {
	case Float, Int:
		d.only(nodes, field, []string{"choices", "conditional"}, "only for categorical params")
		d.numeric(&p, nodes, n, field)
	case Categorical:
		d.only(nodes, field, []string{"low", "high", "log", "step"}, "only for float and int params")
		d.categorical(&p, nodes, n, field, depth, seen)
	default:
		d.failf(tn, join(field, "type"), "must be float, int or categorical (got %q)%s", clip(typ),
			DidYouMean(typ, []string{string(Float), string(Int), string(Categorical)}))
	}
	return p
}

// only reports keys that do not apply to the param's type.
func (d *decoder) only(nodes map[string]*yaml.Node, field string, keys []string, why string) {
	for _, k := range keys {
		if n, ok := nodes[k]; ok {
			d.failf(n, join(field, k), "%s", why)
		}
	}
}

// numeric decodes and checks low, high, log and step of a float or int.
func (d *decoder) numeric(p *Param, nodes map[string]*yaml.Node, n *yaml.Node, field string) {
	get := d.number
	if p.Type == Int {
		get = func(n *yaml.Node, f string) (float64, bool) {
			i, ok := d.integer(n, f)
			return float64(i), ok
		}
	}
	var lok, hok bool
	for _, key := range []string{"low", "high"} {
		v, present := nodes[key]
		if !present {
			d.failf(n, join(field, key), "required")
			continue
		}
		x, ok := get(v, join(field, key))
		if key == "low" {
			p.Low, lok = x, ok
		} else {
			p.High, hok = x, ok
		}
	}
	if lok && hok && !(p.Low < p.High) {
		d.failf(nodes["low"], join(field, "low"), "must be < high (got %g ≥ %g)", p.Low, p.High)
		lok = false
	}
	if v, ok := nodes["log"]; ok {
		p.Log, _ = d.boolean(v, join(field, "log"))
	}
	if p.Log && lok && p.Low <= 0 {
		d.failf(nodes["low"], join(field, "low"), "must be > 0 when log is true (got %g)", p.Low)
	}
	if p.Type == Int {
		p.Step = 1
	}
	if v, ok := nodes["step"]; ok {
		d.step(p, v, join(field, "step"), get, lok && hok)
	}
}

// step decodes and checks a numeric param's step; bounds tells whether low
// and high are valid, so the step can be checked against them.
func (d *decoder) step(p *Param, v *yaml.Node, sf string, get func(*yaml.Node, string) (float64, bool), bounds bool) {
	step, ok := get(v, sf)
	if !ok {
		return
	}
	p.Step = step
	switch {
	case step <= 0:
		d.failf(v, sf, "must be > 0 (got %g)", step)
	case p.Log && !(p.Type == Int && step == 1):
		d.failf(v, sf, "cannot be combined with log: true")
	case bounds && step > p.High-p.Low:
		d.failf(v, sf, "must be ≤ high - low (got %g > %g)", step, p.High-p.Low)
	case bounds && !isMultiple(p.High-p.Low, step):
		d.failf(v, sf, "high - low (%g) must be a multiple of step (%g)", p.High-p.Low, step)
	}
}

// isMultiple reports whether span is (within rounding) k·step.
func isMultiple(span, step float64) bool {
	k := span / step
	return math.Abs(k-math.Round(k)) < 1e-9*math.Max(1, k)
}

// categorical decodes choices and conditional params.
func (d *decoder) categorical(p *Param, nodes map[string]*yaml.Node, n *yaml.Node, field string, depth int, seen map[string]int) {
	cn, ok := nodes["choices"]
	if !ok {
		d.failf(n, join(field, "choices"), "required (a list of values)")
		return
	}
	cf := join(field, "choices")
	list := resolve(cn)
	if list.Kind != yaml.SequenceNode {
		d.failf(cn, cf, "must be a list (got %s)", describe(cn))
		return
	}
	switch {
	case len(list.Content) == 0:
		d.failf(cn, cf, "must not be empty")
	case len(list.Content) > MaxChoices:
		d.failf(cn, cf, "too many choices (got %d, limit %d)", len(list.Content), MaxChoices)
		return
	}
	index := map[string]int{}
	for i, c := range list.Content {
		v, ok := d.scalar(c, cf)
		if !ok {
			continue
		}
		s := ChoiceString(v)
		if _, dup := index[s]; dup {
			d.failf(c, cf, "duplicate choice %q", clip(s))
			continue
		}
		index[s] = i
		p.Choices = append(p.Choices, v)
	}
	if cond, ok := nodes["conditional"]; ok {
		d.conditional(p, cond, join(field, "conditional"), index, depth, seen)
	}
}

// conditional decodes the choice → params mapping of a categorical param.
func (d *decoder) conditional(p *Param, n *yaml.Node, field string, index map[string]int, depth int, seen map[string]int) {
	if depth+1 > MaxDepth {
		d.failf(n, field, "conditional params nested more than %d deep", MaxDepth)
		return
	}
	p.Conditional = map[string][]Param{}
	d.mapping(n, field, func(key string, k, v *yaml.Node) {
		if _, ok := index[key]; !ok {
			names := make([]string, len(p.Choices))
			for i, c := range p.Choices {
				names[i] = ChoiceString(c)
			}
			d.failf(k, join(field, key), "not among choices (%s)%s", strings.Join(names, ", "), DidYouMean(key, names))
			return
		}
		p.Conditional[key] = d.params(v, join(field, key), depth+1, seen)
	})
}

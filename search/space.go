package search

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/c-bata/goptuna"
)

// ChoiceString is the string form of a categorical choice: goptuna's
// CategoricalDistribution holds strings, and conditional keys name choices
// by it. Strings are themselves; numbers use the shortest exact form (0.5,
// 64); booleans are true/false.
func ChoiceString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// Distribution returns the goptuna distribution of p, as a value (goptuna
// switches on value types):
//
//	float            UniformDistribution
//	float, log       LogUniformDistribution
//	float, step      DiscreteUniformDistribution (Q = step)
//	int              IntUniformDistribution
//	int, step > 1    StepIntUniformDistribution
//	int, log         LogUniformDistribution over [low-0.5, high+0.5]
//	categorical      CategoricalDistribution of ChoiceString forms
//
// goptuna has no log-integer distribution. A log int is therefore drawn
// log-uniformly from [low-0.5, high+0.5] and rounded (see [Param.Value]),
// which gives integer k a mass proportional to log((k+0.5)/(k-0.5)) ≈ 1/k,
// the discrete analogue of log-uniform. Suggest stores the rounded integer
// as the internal value, so the database, the sampler's history and the
// objective all see the same number.
func (p Param) Distribution() any {
	switch p.Type {
	case Float:
		switch {
		case p.Log:
			return goptuna.LogUniformDistribution{Low: p.Low, High: p.High}
		case p.Step > 0:
			return goptuna.DiscreteUniformDistribution{Low: p.Low, High: p.High, Q: p.Step}
		}
		return goptuna.UniformDistribution{Low: p.Low, High: p.High}
	case Int:
		switch {
		case p.Log:
			return goptuna.LogUniformDistribution{Low: p.Low - 0.5, High: p.High + 0.5}
		case p.Step > 1:
			return goptuna.StepIntUniformDistribution{Low: int(p.Low), High: int(p.High), Step: int(p.Step)}
		}
		return goptuna.IntUniformDistribution{Low: int(p.Low), High: int(p.High)}
	case Categorical:
		choices := make([]string, len(p.Choices))
		for i, c := range p.Choices {
			choices[i] = ChoiceString(c)
		}
		return goptuna.CategoricalDistribution{Choices: choices}
	}
	panic(fmt.Sprintf("search: param %q has unknown type %q", p.Name, p.Type))
}

// Value converts an internal (sampler) value of p into the value the
// objective receives: float64 for floats, int for ints, and the choice as
// written in the spec (string, int, float64 or bool) for categoricals.
func (p Param) Value(internal float64) (any, error) {
	switch p.Type {
	case Float:
		if p.Step > 0 && !p.Log {
			v := math.Round((internal-p.Low)/p.Step)*p.Step + p.Low
			return math.Min(math.Max(v, p.Low), p.High), nil
		}
		return internal, nil
	case Int:
		if p.Step > 1 {
			k := math.Round((internal - p.Low) / p.Step)
			return int(math.Min(math.Max(p.Low+k*p.Step, p.Low), p.High)), nil
		}
		return int(math.Min(math.Max(math.Round(internal), p.Low), p.High)), nil
	case Categorical:
		i := int(internal)
		if i < 0 || i >= len(p.Choices) || float64(i) != internal {
			return nil, fmt.Errorf("search: param %s: choice index %v out of range [0, %d)", p.Name, internal, len(p.Choices))
		}
		return p.Choices[i], nil
	}
	return nil, fmt.Errorf("search: param %s: unknown type %q", p.Name, p.Type)
}

// Suggest asks trial's sampler for every param of the space, in spec order,
// and returns the objective-facing values by name (assignable to
// objective.Params; search does not import objective). A conditional param is only
// sampled (and stored) when its parent's drawn choice enables it, so trials
// record exactly the params they used.
//
// Params fixed on the trial (a re-queued WAITING trial's "fixed_params"
// system attr) and params of a relative sampler are honoured by goptuna's
// suggest path.
func Suggest(trial *goptuna.Trial, params []Param) (map[string]any, error) {
	out := map[string]any{}
	if err := suggest(trial, params, out); err != nil {
		return nil, err
	}
	return out, nil
}

func suggest(trial *goptuna.Trial, params []Param, out map[string]any) error {
	for _, p := range params {
		internal, err := suggestOne(trial, p)
		if err != nil {
			return fmt.Errorf("suggest %s: %w", p.Name, err)
		}
		if p.Type == Int && p.Log && internal != math.Round(internal) {
			// Store the integer the objective gets, not the raw draw, so
			// the database and the sampler's history agree with the run.
			internal = math.Min(math.Max(math.Round(internal), p.Low), p.High)
			if err := trial.Study.Storage.SetTrialParam(trial.ID, p.Name, internal, p.Distribution()); err != nil {
				return fmt.Errorf("store rounded %s: %w", p.Name, err)
			}
		}
		v, err := p.Value(internal)
		if err != nil {
			return err
		}
		out[p.Name] = v
		if p.Type == Categorical {
			if sub := p.Conditional[ChoiceString(v)]; len(sub) > 0 {
				if err := suggest(trial, sub, out); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// suggestOne samples one param through goptuna's public Suggest methods and
// returns its internal value.
func suggestOne(t *goptuna.Trial, p Param) (float64, error) {
	switch d := p.Distribution().(type) {
	case goptuna.UniformDistribution:
		return t.SuggestFloat(p.Name, d.Low, d.High)
	case goptuna.LogUniformDistribution:
		return t.SuggestLogFloat(p.Name, d.Low, d.High)
	case goptuna.DiscreteUniformDistribution:
		return t.SuggestDiscreteFloat(p.Name, d.Low, d.High, d.Q)
	case goptuna.IntUniformDistribution:
		v, err := t.SuggestInt(p.Name, d.Low, d.High)
		return float64(v), err
	case goptuna.StepIntUniformDistribution:
		v, err := t.SuggestStepInt(p.Name, d.Low, d.High, d.Step)
		return float64(v), err
	case goptuna.CategoricalDistribution:
		s, err := t.SuggestCategorical(p.Name, d.Choices)
		if err != nil {
			return 0, err
		}
		for i, c := range d.Choices {
			if c == s {
				return float64(i), nil
			}
		}
		return 0, fmt.Errorf("sampler returned %q, not a choice", s)
	}
	return 0, fmt.Errorf("unsupported distribution %T", p.Distribution())
}

// Fixed converts the stored internal values of a re-queued trial into
// objective-facing values without asking the sampler, walking conditional
// params as Suggest does. ok is false when the values do not fit the space
// (a param is missing or out of range, e.g. after --force-update changed
// the space); the caller then falls back to Suggest with FixedParams, which
// samples what is missing.
func Fixed(params []Param, internal map[string]float64) (values map[string]any, ok bool) {
	values = map[string]any{}
	if !fixed(params, internal, values) {
		return nil, false
	}
	return values, true
}

func fixed(params []Param, internal map[string]float64, out map[string]any) bool {
	for _, p := range params {
		x, ok := internal[p.Name]
		if !ok || !contains(p, x) {
			return false
		}
		v, err := p.Value(x)
		if err != nil {
			return false
		}
		out[p.Name] = v
		if p.Type == Categorical && !fixed(p.Conditional[ChoiceString(v)], internal, out) {
			return false
		}
	}
	return true
}

// contains reports whether internal value x lies in p's range (allowing
// for the half-unit margin of log ints).
func contains(p Param, x float64) bool {
	switch p.Type {
	case Categorical:
		return x >= 0 && int(x) < len(p.Choices) && float64(int(x)) == x
	case Int:
		return x >= p.Low-0.5 && x <= p.High+0.5
	}
	return x >= p.Low && x <= p.High
}

// FixedParams encodes internal values as goptuna's "fixed_params" trial
// system attr, which makes goptuna's suggest path reuse them.
func FixedParams(internal map[string]float64) (string, error) {
	b, err := json.Marshal(internal)
	if err != nil {
		return "", fmt.Errorf("encode fixed params: %w", err)
	}
	return string(b), nil
}

// Lookup finds a param by name anywhere in the space, conditional params
// included.
func Lookup(space []Param, name string) (Param, bool) {
	var found Param
	ok := false
	walkParams(space, func(p Param) {
		if !ok && p.Name == name {
			found, ok = p, true
		}
	})
	return found, ok
}

// Assign converts param values given as text by name (`sweep enqueue
// --param lr=0.1`) into the internal values a sampler would have drawn,
// checking each against its param: a number for float and int params,
// within [low, high] and on the step grid, one of the choices for a
// categorical (by its written form, or by value for numeric choices), and
// a conditional param only together with the parent choice that enables
// it. Params left out are for the sampler to draw (see Unassigned). Every
// error names its param.
func Assign(space []Param, given map[string]string) (map[string]float64, error) {
	parents := map[string]condition{}
	var index func(ps []Param, cond condition)
	index = func(ps []Param, cond condition) {
		for _, p := range ps {
			parents[p.Name] = cond
			for choice, sub := range p.Conditional {
				index(sub, condition{parent: p.Name, choice: choice})
			}
		}
	}
	index(space, condition{})
	names := make([]string, 0, len(given))
	for name := range given {
		names = append(names, name)
	}
	sort.Strings(names)
	internal := make(map[string]float64, len(given))
	for _, name := range names {
		p, ok := Lookup(space, name)
		if !ok {
			return nil, fmt.Errorf("param %s: not in the search space (params: %s)", name, strings.Join(spaceNames(space), ", "))
		}
		x, err := assignOne(p, strings.TrimSpace(given[name]))
		if err != nil {
			return nil, fmt.Errorf("param %s: %w", name, err)
		}
		internal[name] = x
	}
	for _, name := range names {
		c := parents[name]
		if c.parent == "" {
			continue
		}
		parent, _ := Lookup(space, c.parent)
		x, ok := internal[c.parent]
		if !ok {
			return nil, fmt.Errorf("param %s: exists only when %s is %s; give %s=%s too", name, c.parent, c.choice, c.parent, c.choice)
		}
		if got := ChoiceString(parent.Choices[int(x)]); got != c.choice {
			return nil, fmt.Errorf("param %s: exists only when %s is %s (got %s=%s)", name, c.parent, c.choice, c.parent, got)
		}
	}
	return internal, nil
}

// condition is the parent choice that enables a conditional param; the
// zero value stands for a top-level param.
type condition struct {
	parent, choice string
}

// assignOne parses one value of p into its internal value.
func assignOne(p Param, text string) (float64, error) {
	if p.Type == Categorical {
		return choiceIndex(p, text)
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a finite number (%s param)", text, p.Type)
	}
	if p.Type == Int && v != math.Trunc(v) {
		return 0, fmt.Errorf("%q is not a whole number (int param)", text)
	}
	if v < p.Low || v > p.High {
		return 0, fmt.Errorf("%s is outside [%g, %g]", text, p.Low, p.High)
	}
	if p.Step > 0 && !p.Log {
		k := (v - p.Low) / p.Step
		if math.Abs(k-math.Round(k)) > 1e-9*math.Max(1, math.Abs(k)) {
			return 0, fmt.Errorf("%s is not on the grid %g, %g, ... %g (step %g)", text, p.Low, p.Low+p.Step, p.High, p.Step)
		}
		// The grid point itself, as a sampler draws it.
		v = math.Min(p.Low+math.Round(k)*p.Step, p.High)
	}
	return v, nil
}

// choiceIndex finds text among p's choices: by written form (ChoiceString),
// else by value, so that 1e-3 finds a choice written 0.001.
func choiceIndex(p Param, text string) (float64, error) {
	for i, c := range p.Choices {
		if ChoiceString(c) == text {
			return float64(i), nil
		}
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil {
		for i, c := range p.Choices {
			switch x := c.(type) {
			case int:
				if float64(x) == f {
					return float64(i), nil
				}
			case float64:
				if x == f {
					return float64(i), nil
				}
			}
		}
	}
	cs := make([]string, len(p.Choices))
	for i, c := range p.Choices {
		cs[i] = ChoiceString(c)
	}
	return 0, fmt.Errorf("%q is not one of its choices (%s)", text, strings.Join(cs, ", "))
}

// Unassigned lists, in spec order, the params a sampler still draws for a
// trial whose given params are internal (from Assign): those not given
// that exist at the top level or under a given parent choice. The params
// under a parent left out are drawn too, with it, and not listed.
func Unassigned(space []Param, internal map[string]float64) []string {
	var out []string
	var walk func(ps []Param)
	walk = func(ps []Param) {
		for _, p := range ps {
			x, ok := internal[p.Name]
			if !ok {
				out = append(out, p.Name)
				continue
			}
			if p.Type == Categorical && int(x) >= 0 && int(x) < len(p.Choices) {
				walk(p.Conditional[ChoiceString(p.Choices[int(x)])])
			}
		}
	}
	walk(space)
	return out
}

// spaceNames lists every param name of the space in spec order.
func spaceNames(space []Param) []string {
	var names []string
	walkParams(space, func(p Param) { names = append(names, p.Name) })
	return names
}

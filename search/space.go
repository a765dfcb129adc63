package search

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

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

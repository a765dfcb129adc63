package optuna

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"sweep/internal/pyjson"
	"sweep/search"
)

// ParamFromDistribution turns Optuna's distribution JSON (3.x names, and
// the 2.x names Optuna still reads) into a sweep param of that name.
func ParamFromDistribution(name string, dist json.RawMessage) (search.Param, error) {
	var d struct {
		Name  string `json:"name"`
		Attrs struct {
			Low, High *float64
			Step, Q   *float64
			Log       bool
			Choices   []any
		} `json:"attributes"`
	}
	if err := json.Unmarshal(pyjson.Quote(dist), &d); err != nil {
		return search.Param{}, fmt.Errorf("param %s: decode distribution: %w", name, err)
	}
	a := d.Attrs
	p := search.Param{Name: name, Log: a.Log}
	if a.Low != nil && a.High != nil {
		p.Low, p.High = *a.Low, *a.High
	}
	step := func(q *float64) float64 {
		if q == nil {
			return 0
		}
		return *q
	}
	switch d.Name {
	case "FloatDistribution":
		p.Type, p.Step = search.Float, step(a.Step)
	case "UniformDistribution":
		p.Type = search.Float
	case "LogUniformDistribution":
		p.Type, p.Log = search.Float, true
	case "DiscreteUniformDistribution":
		p.Type, p.Step = search.Float, step(a.Q)
	case "IntDistribution", "IntUniformDistribution":
		p.Type, p.Step = search.Int, step(a.Step)
	case "IntLogUniformDistribution":
		p.Type, p.Log, p.Step = search.Int, true, 1
	case "CategoricalDistribution":
		p.Type = search.Categorical
		for _, c := range a.Choices {
			switch x := c.(type) {
			case string, bool:
				p.Choices = append(p.Choices, x)
			case float64:
				p.Choices = append(p.Choices, choiceNumber(x, dist, len(p.Choices)))
			default:
				return search.Param{}, fmt.Errorf("param %s: choice %v: sweep takes strings, numbers and booleans", name, c)
			}
		}
	default:
		return search.Param{}, fmt.Errorf("param %s: unknown distribution %q", name, d.Name)
	}
	if p.Type == search.Int && p.Step == 0 {
		p.Step = 1
	}
	return p, nil
}

// choiceNumber keeps a numeric choice's JSON type: 64 is an int, 64.0 a
// float (encoding/json reads both as float64).
func choiceNumber(x float64, dist json.RawMessage, i int) any {
	var d struct {
		Attrs struct {
			Choices []json.RawMessage `json:"choices"`
		} `json:"attributes"`
	}
	if json.Unmarshal(pyjson.Quote(dist), &d) == nil && i < len(d.Attrs.Choices) &&
		!strings.ContainsAny(string(d.Attrs.Choices[i]), ".eE") && x == math.Trunc(x) && math.Abs(x) < 1<<53 {
		return int(x)
	}
	return x
}

// SameParam says whether two params describe the same distribution.
func SameParam(a, b search.Param) bool {
	if a.Type != b.Type || a.Low != b.Low || a.High != b.High || a.Log != b.Log || len(a.Choices) != len(b.Choices) {
		return false
	}
	if a.Type != search.Categorical && effectiveStep(a) != effectiveStep(b) {
		return false
	}
	for i := range a.Choices {
		if a.Choices[i] != b.Choices[i] {
			return false
		}
	}
	return true
}

func effectiveStep(p search.Param) float64 {
	if p.Type == search.Int && (p.Step == 0 || p.Log) {
		return 1
	}
	return p.Step
}

// Space derives a search space from an Optuna study's distributions, in
// the order params first appear. Optuna declares no conditional params:
// every param is unconditional in it. A param whose range differs between
// trials gets the union of the ranges; categorical choices must agree.
func Space(st *Study) ([]search.Param, error) {
	var space []search.Param
	for _, t := range st.Trials {
		for _, name := range t.ParamOrder {
			p, err := ParamFromDistribution(name, t.Dists[name])
			if err != nil {
				return nil, fmt.Errorf("trial %d: %w", t.Number, err)
			}
			i := slices.IndexFunc(space, func(q search.Param) bool { return q.Name == name })
			switch {
			case i < 0:
				space = append(space, p)
			case SameParam(space[i], p):
			case space[i].Type == p.Type && p.Type != search.Categorical && space[i].Log == p.Log && effectiveStep(space[i]) == effectiveStep(p):
				space[i].Low, space[i].High = math.Min(space[i].Low, p.Low), math.Max(space[i].High, p.High)
			default:
				return nil, fmt.Errorf("trial %d: param %s changes distribution between trials", t.Number, name)
			}
		}
	}
	return space, nil
}

// SpecYAML writes a sweep spec for an imported study: its name, direction,
// budget (the trials imported) and space. The objective is a placeholder
// (synthetic) that the user replaces before sweep start continues the
// study; the comment at the top says so.
func SpecYAML(st *Study, space []search.Param) []byte {
	var b strings.Builder
	b.WriteString("# Imported from Optuna by sweep import: params from the study's distributions.\n")
	b.WriteString("# Set the objective and raise trials, then continue with sweep start --force-update.\n")
	fmt.Fprintf(&b, "study: %s\ndirection: %s\ntrials: %d\n", yamlString(st.Name), st.Direction, max(1, len(st.Trials)))
	b.WriteString("sampler: {type: tpe}\nobjective: {type: synthetic}\nparams:\n")
	for _, p := range space {
		fmt.Fprintf(&b, "  %s: {type: %s", yamlString(p.Name), p.Type)
		switch p.Type {
		case search.Categorical:
			var cs []string
			for _, c := range p.Choices {
				cs = append(cs, yamlScalar(c))
			}
			fmt.Fprintf(&b, ", choices: [%s]", strings.Join(cs, ", "))
		default:
			fmt.Fprintf(&b, ", low: %s, high: %s", yamlNumber(p.Low, p.Type), yamlNumber(p.High, p.Type))
			if p.Log {
				b.WriteString(", log: true")
			} else if (p.Type == search.Float && p.Step > 0) || (p.Type == search.Int && p.Step > 1) {
				fmt.Fprintf(&b, ", step: %s", yamlNumber(p.Step, p.Type))
			}
		}
		b.WriteString("}\n")
	}
	return []byte(b.String())
}

// yamlString quotes s as a YAML double-quoted scalar (JSON's escapes).
func yamlString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

func yamlScalar(c any) string {
	switch x := c.(type) {
	case string:
		return yamlString(x)
	case float64:
		return string(floatJSON(x))
	}
	return fmt.Sprint(c)
}

func yamlNumber(x float64, t search.ParamType) string {
	if t == search.Int {
		return strconv.FormatInt(int64(x), 10)
	}
	return string(floatJSON(x))
}

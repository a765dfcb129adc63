package optuna

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"sweep/search"
)

// Attribute layouts of Optuna 3's distributions, in the key order of
// optuna.distributions.distribution_to_json (which dumps each class's
// __dict__), so a log written here reads like one Optuna wrote.
type (
	floatAttrs struct {
		Step *jsonFloat `json:"step"`
		Low  jsonFloat  `json:"low"`
		High jsonFloat  `json:"high"`
		Log  bool       `json:"log"`
	}
	intAttrs struct {
		Log  bool `json:"log"`
		Step int  `json:"step"`
		Low  int  `json:"low"`
		High int  `json:"high"`
	}
	categoricalAttrs struct {
		Choices []json.RawMessage `json:"choices"`
	}
	distributionJSON struct {
		Name       string `json:"name"`
		Attributes any    `json:"attributes"`
	}
)

// jsonFloat is a float64 that always encodes as a JSON float (1.0, not 1),
// so Python reads it back as a float, as Optuna wrote it.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) { return floatJSON(float64(f)), nil }

// floatJSON encodes f as Python's json.dumps does: integral values keep
// ".0", and NaN and ±Inf are the NaN, Infinity and -Infinity tokens that
// Python's json module (and so Optuna's journal) reads and writes.
func floatJSON(f float64) []byte {
	switch {
	case math.IsNaN(f):
		return []byte("NaN")
	case math.IsInf(f, 1):
		return []byte("Infinity")
	case math.IsInf(f, -1):
		return []byte("-Infinity")
	}
	b := strconv.AppendFloat(nil, f, 'g', -1, 64)
	for _, c := range b {
		if c == '.' || c == 'e' || c == 'n' || c == 'N' {
			return b
		}
	}
	return append(b, '.', '0')
}

// Distribution returns p's distribution as Optuna writes it
// (optuna.distributions.distribution_to_json): FloatDistribution or
// IntDistribution with low, high, step and log, or CategoricalDistribution
// with the choices as written in the spec, so a categorical 64 stays the
// integer 64. A log int is IntDistribution(log=True) over [low, high],
// which is what the objective received; goptuna's stored form of it
// (a log-float over [low-0.5, high+0.5]) is sweep's sampling detail.
func Distribution(p search.Param) ([]byte, error) {
	d := distributionJSON{}
	switch p.Type {
	case search.Float:
		a := floatAttrs{Low: jsonFloat(p.Low), High: jsonFloat(p.High), Log: p.Log}
		if p.Step > 0 && !p.Log {
			step := jsonFloat(p.Step)
			a.Step = &step
		}
		d.Name, d.Attributes = "FloatDistribution", a
	case search.Int:
		step := int(p.Step)
		if step < 1 || p.Log {
			step = 1
		}
		d.Name, d.Attributes = "IntDistribution", intAttrs{Log: p.Log, Step: step, Low: int(p.Low), High: int(p.High)}
	case search.Categorical:
		a := categoricalAttrs{Choices: make([]json.RawMessage, len(p.Choices))}
		for i, c := range p.Choices {
			b, err := choiceJSON(c)
			if err != nil {
				return nil, fmt.Errorf("encode choice %d of %s: %w", i, p.Name, err)
			}
			a.Choices[i] = b
		}
		d.Name, d.Attributes = "CategoricalDistribution", a
	default:
		return nil, fmt.Errorf("encode distribution of %s: unknown type %q", p.Name, p.Type)
	}
	return json.Marshal(d)
}

// choiceJSON encodes a spec choice keeping its YAML type: an int as an
// integer, a float as a float (1.0 stays 1.0), a string, a boolean.
func choiceJSON(c any) ([]byte, error) {
	if f, ok := c.(float64); ok {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("choice %v has no JSON form", f)
		}
		return floatJSON(f), nil
	}
	return json.Marshal(c)
}

// Params lists every param of a space, conditional ones included, in spec
// order (each param followed by its choices' conditional params).
func Params(space []search.Param) []search.Param {
	var out []search.Param
	for _, p := range space {
		out = append(out, p)
		for _, c := range p.Choices {
			out = append(out, Params(p.Conditional[search.ChoiceString(c)])...)
		}
	}
	return out
}

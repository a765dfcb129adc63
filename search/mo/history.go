package mo

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
)

// Trial system attrs that carry a multi-objective trial's outcome. The
// study loop writes them with the trial's result (package sweep), and the
// samplers read them back through goptuna's Storage, so that neither needs
// more than goptuna's interface.
const (
	// ValuesAttr holds the objective values in the spec's metric order,
	// as written by FormatValues.
	ValuesAttr = "sweep:values"
	// ConstraintsAttr holds the constraint values in the spec's order
	// (≤ 0 satisfied), under the key Optuna uses for them.
	ConstraintsAttr = "constraints"
)

// FormatValues writes values as a JSON-like list that keeps NaN and ±Inf
// ("[0.91,NaN]"), so a trial with a missing metric still round-trips.
func FormatValues(values []float64) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// ParseValues reads what FormatValues wrote (plain JSON number lists too).
func ParseValues(s string) ([]float64, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("parse values %q: not a list", s)
	}
	body := strings.TrimSpace(s[1 : len(s)-1])
	if body == "" {
		return []float64{}, nil
	}
	parts := strings.Split(body, ",")
	out := make([]float64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.Trim(strings.TrimSpace(p), `"`), 64)
		if err != nil {
			return nil, fmt.Errorf("parse values %q: %w", s, err)
		}
		out[i] = v
	}
	return out, nil
}

// Observation is what the samplers use of one COMPLETE trial.
type Observation struct {
	ID, Number int
	Params     map[string]float64 // internal values
	Bounds     map[string]sampler.Bounds
	Losses     []float64 // values as losses (see Losses)
	Violation  float64   // total constraint violation (see Violation); 0 = feasible
	Generation int       // NSGA-II generation; -1 when the trial has none
}

// Observe reads the study's COMPLETE trials with a full, finite set of
// values for dirs, in trial-number order. A trial without ValuesAttr
// counts when the study has one objective: its value is the objective
// (a single-objective history, as goptuna stores it).
func Observe(study *goptuna.Study, dirs []Direction) ([]Observation, error) {
	trials, err := study.GetTrials()
	if err != nil && err != goptuna.ErrTrialsPartiallyDeleted {
		return nil, fmt.Errorf("get trials: %w", err)
	}
	var out []Observation
	for _, t := range trials {
		if t.State != goptuna.TrialStateComplete {
			continue
		}
		o, ok, err := observe(t, dirs)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b Observation) int { return cmp.Compare(a.Number, b.Number) })
	return out, nil
}

// observe converts one COMPLETE trial; ok is false when its values are
// missing or not finite (it then takes no part in the model).
func observe(t goptuna.FrozenTrial, dirs []Direction) (Observation, bool, error) {
	values := []float64{t.Value}
	if s, ok := t.SystemAttrs[ValuesAttr]; ok {
		v, err := ParseValues(s)
		if err != nil {
			return Observation{}, false, fmt.Errorf("read trial %d: %w", t.Number, err)
		}
		values = v
	} else if len(dirs) != 1 {
		return Observation{}, false, nil
	}
	if len(values) != len(dirs) || slices.ContainsFunc(values, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }) {
		return Observation{}, false, nil
	}
	o := Observation{ID: t.ID, Number: t.Number, Losses: Losses(values, dirs), Generation: -1,
		Params: make(map[string]float64, len(t.InternalParams)), Bounds: make(map[string]sampler.Bounds, len(t.InternalParams))}
	if s, ok := t.SystemAttrs[ConstraintsAttr]; ok {
		c, err := ParseValues(s)
		if err != nil {
			return Observation{}, false, fmt.Errorf("read trial %d: %w", t.Number, err)
		}
		o.Violation = Violation(c)
	}
	if s, ok := t.SystemAttrs[generationAttr]; ok {
		g, err := strconv.Atoi(s)
		if err != nil {
			return Observation{}, false, fmt.Errorf("read trial %d generation %q: %w", t.Number, s, err)
		}
		o.Generation = g
	}
	for name, v := range t.InternalParams {
		b, err := sampler.BoundsOf(t.Distributions[name])
		if err != nil {
			return Observation{}, false, fmt.Errorf("read trial %d param %q: %w", t.Number, name, err)
		}
		o.Params[name], o.Bounds[name] = v, b
	}
	return o, true, nil
}

// losses and violations split observations into the slices Ranks takes.
func losses(obs []Observation) (points [][]float64, violations []float64) {
	points = make([][]float64, len(obs))
	violations = make([]float64, len(obs))
	for i, o := range obs {
		points[i], violations[i] = o.Losses, o.Violation
	}
	return points, violations
}

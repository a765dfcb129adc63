package sweep

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"sweep/objective"
	"sweep/search"
	"sweep/search/mo"
)

// ValuesRecorder is implemented by stores that keep a multi-objective
// trial's values and constraint values in their own columns
// (sweep/postgres.Storage). It must also leave them readable as the
// trial's system attrs mo.ValuesAttr and mo.ConstraintsAttr, which is how
// the samplers see them through goptuna.Storage. Like every write of a
// result it applies to a RUNNING trial only (ErrTrialFinished otherwise).
// A nil slice leaves that part unset. Stores without it get the two
// system attrs alone.
type ValuesRecorder interface {
	RecordValues(ctx context.Context, trialID int, values, constraints []float64) error
}

// ObjectivesRecorder is implemented by stores that keep a multi-objective
// study's metrics and directions beside the single direction and metric
// of StudyInfo (sweep/postgres.Storage), for views and reports. nil lists
// mark a single-objective study. EnsureStudy calls it.
type ObjectivesRecorder interface {
	SetStudyObjectives(ctx context.Context, studyID int, metrics, directions []string) error
}

// recordObjectives tells the store the study's objectives when it keeps
// them: always for a multi-objective spec, and after a forced update (which
// may have made the study single-objective again).
func recordObjectives(ctx context.Context, store Store, info StudyInfo, spec *search.Spec, force bool) error {
	rec, ok := find[ObjectivesRecorder](store)
	if !ok || !spec.MultiObjective() && !force {
		return nil
	}
	var metrics, directions []string
	if spec.MultiObjective() {
		metrics, directions = spec.Metrics, spec.Directions
	}
	if err := rec.SetStudyObjectives(ctx, info.ID, metrics, directions); err != nil {
		return fmt.Errorf("record objectives: %w", err)
	}
	return nil
}

// measured picks the spec's metrics and constraint values out of a
// finished run. Each name is looked up in the run's final metrics, then
// in its attrs (as a number); the study's primary metric (spec.Metric)
// falls back to the run's value. values is nil for a single-objective
// study and constraints nil without constraints. A metric of a
// multi-objective study that the run did not report is an error (the
// trial fails); a constraint's missing metric gives NaN, which makes the
// trial infeasible.
func measured(spec *search.Spec, res objective.Result) (values, constraints []float64, err error) {
	lookup := func(name string) (float64, bool) {
		if v, ok := res.Metrics[name]; ok {
			return v, true
		}
		if s, ok := res.Attrs[name]; ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return v, true
			}
		}
		if name == spec.Metric {
			return res.Value, true
		}
		return math.NaN(), false
	}
	if spec.MultiObjective() {
		values = make([]float64, len(spec.Metrics))
		for i, name := range spec.Metrics {
			v, ok := lookup(name)
			if !ok {
				return nil, nil, fmt.Errorf("objective reported no metric %q (it reports %s)", name, reported(res))
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("objective returned %s=%v", name, v)
			}
			values[i] = v
		}
	}
	for _, c := range spec.Constraints {
		v, _ := lookup(c.Name)
		constraints = append(constraints, c.Violation(v))
	}
	return values, constraints, nil
}

// reported lists the names a run reported, for an error message.
func reported(res objective.Result) string {
	names := slices.Sorted(maps.Keys(res.Metrics))
	for k := range res.Attrs {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return "none besides its value"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// primary is the index of the spec's primary metric in its metrics.
func primary(spec *search.Spec) int {
	return max(slices.Index(spec.Metrics, spec.Metric), 0)
}

// recordValues stores a journaled result's objective and constraint
// values before its state: in the store's own columns when it is a
// ValuesRecorder, else as the system attrs the samplers read.
func (w *Worker) recordValues(ctx context.Context, e journalEntry) error {
	if len(e.Objectives) == 0 && len(e.Constraints) == 0 {
		return nil
	}
	values, constraints := floats(e.Objectives), floats(e.Constraints)
	if rec, ok := find[ValuesRecorder](w.Store); ok {
		if b, ok := w.Store.(*BufferedStore); ok {
			return b.retry(ctx, func() error { return rec.RecordValues(ctx, e.TrialID, values, constraints) })
		}
		return rec.RecordValues(ctx, e.TrialID, values, constraints)
	}
	if values != nil {
		if err := w.Store.SetTrialSystemAttr(e.TrialID, mo.ValuesAttr, mo.FormatValues(values)); err != nil {
			return err
		}
	}
	if constraints != nil {
		return w.Store.SetTrialSystemAttr(e.TrialID, mo.ConstraintsAttr, mo.FormatValues(constraints))
	}
	return nil
}

func floats(in []jsonFloat) []float64 {
	if in == nil {
		return nil
	}
	out := make([]float64, len(in))
	for i, v := range in {
		out[i] = float64(v)
	}
	return out
}

func jsonFloats(in []float64) []jsonFloat {
	if in == nil {
		return nil
	}
	out := make([]jsonFloat, len(in))
	for i, v := range in {
		out[i] = jsonFloat(v)
	}
	return out
}

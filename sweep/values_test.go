package sweep_test

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"sweep/objective"
	"sweep/search"
	"sweep/search/mo"
	"sweep/sweep"
	"sweep/sweep/sweeptest"
)

const moYAML = `study: mo
directions: [minimize, minimize]
metrics: [f1, f2]
constraints: ["f1 <= 0.5"]
trials: 24
workers: 2
sampler: {type: nsga2, population_size: 6, seed: 5}
objective: {type: synthetic}
params:
  x: {type: float, low: 0, high: 1}
  y: {type: float, low: 0, high: 1}
`

func TestMeasured(t *testing.T) {
	spec, err := search.ParseSpec("mo.yaml", []byte(moYAML))
	if err != nil {
		t.Fatal(err)
	}
	values, constraints, err := sweep.Measured(spec, objective.Result{Value: 7, Metrics: map[string]float64{"f2": 0.25}, Attrs: map[string]string{"f1": " 0.75"}})
	if err != nil || !slices.Equal(values, []float64{0.75, 0.25}) || !slices.Equal(constraints, []float64{0.25}) {
		t.Fatalf("values %v constraints %v err %v; want f1 from the attrs, f2 from the metrics, violation 0.25", values, constraints, err)
	}
	// The primary metric falls back to the run's value.
	values, _, err = sweep.Measured(spec, objective.Result{Value: 0.1, Metrics: map[string]float64{"f2": 2}})
	if err != nil || !slices.Equal(values, []float64{0.1, 2}) {
		t.Fatalf("values %v err %v; want f1 = value 0.1", values, err)
	}
	_, _, err = sweep.Measured(spec, objective.Result{Value: 0.1, Metrics: map[string]float64{"g": 1}})
	if err == nil || err.Error() != `objective reported no metric "f2" (it reports g)` {
		t.Fatalf("err = %v", err)
	}
	single, err := search.ParseSpec("s.yaml", []byte("study: s\ndirection: minimize\nconstraints: [\"ece < 0.1\"]\ntrials: 3\nobjective: {type: synthetic}\nparams:\n  x: {type: float, low: 0, high: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	values, constraints, err = sweep.Measured(single, objective.Result{Value: 3})
	if err != nil || values != nil || len(constraints) != 1 || !math.IsNaN(constraints[0]) {
		t.Fatalf("single-objective: values %v constraints %v err %v; want no values and a NaN (missing) constraint", values, constraints, err)
	}
}

// TestWorker_MultiObjective runs a constrained two-objective study with
// NSGA-II and checks what every trial leaves for the samplers: both
// values, the constraint value, and the first metric as its value.
func TestWorker_MultiObjective(t *testing.T) {
	t.Run("NSGA2", func(t *testing.T) { testWorkerMultiObjective(t, moYAML, true) })
	// The default sampler on several metrics is MOTPE.
	t.Run("MOTPE", func(t *testing.T) {
		testWorkerMultiObjective(t, strings.Replace(moYAML, "sampler: {type: nsga2, population_size: 6, seed: 5}", "sampler: {startup_trials: 5, seed: 5}", 1), false)
	})
}

func testWorkerMultiObjective(t *testing.T, yaml string, nsga bool) {
	spec, err := search.ParseSpec("mo.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	store := sweeptest.New()
	info, _, err := sweep.EnsureStudy(context.Background(), store, spec, []byte(yaml), false)
	if err != nil {
		t.Fatal(err)
	}
	zdt := mo.ZDT1(2)
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		f := zdt.Eval([]float64{p["x"].(float64), p["y"].(float64)})
		if _, err := r.Report(1, f[0]); err != nil {
			return objective.Result{}, err
		}
		return objective.Result{Value: f[0], Metrics: map[string]float64{"f1": f[0], "f2": f[1]}}, nil
	})
	var log bytes.Buffer
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Host: "h", Display: sweep.NewDisplay(&log, false, 2, nil)}
	sum, err := w.Run(context.Background(), nil)
	if err != nil || sum.Complete != 24 {
		t.Fatalf("summary %+v, err %v; want 24 COMPLETE", sum, err)
	}
	ts := trials(t, store, info, 24)
	infeasible, generations := 0, map[string]bool{}
	for _, tr := range ts {
		values, err := mo.ParseValues(tr.SystemAttrs[mo.ValuesAttr])
		if err != nil || len(values) != 2 || values[0] != tr.Value {
			t.Fatalf("trial %d: values %v (%v), value %g; want two values led by the value", tr.Number, values, err, tr.Value)
		}
		c, err := mo.ParseValues(tr.SystemAttrs[mo.ConstraintsAttr])
		if err != nil || len(c) != 1 || math.Abs(c[0]-(values[0]-0.5)) > 1e-12 {
			t.Fatalf("trial %d: constraints %v (%v), want f1 − 0.5", tr.Number, c, err)
		}
		if c[0] > 0 {
			infeasible++
		}
		generations[tr.SystemAttrs["nsga2:generation"]] = true
	}
	if infeasible == 0 {
		t.Errorf("no infeasible trial among 24; want some (f1 > 0.5)")
	}
	if nsga && len(generations) < 3 {
		t.Errorf("NSGA-II generations %v; want at least 3 of 6 trials each", generations)
	}
	if !strings.Contains(log.String(), " f1=") || !strings.Contains(log.String(), " INFEASIBLE") {
		t.Errorf("log does not show values and infeasible trials:\n%s", log.String())
	}
}

package search_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"sweep/search"
)

// moBase is a two-objective spec; cases append to it or replace lines.
const moBase = `study: s
directions: [maximize, minimize]
metrics: [val_acc, train_seconds]
trials: 10
objective: {type: synthetic}
params:
  x: {type: float, low: 0, high: 1}
`

func TestParseSpec_MultiObjective(t *testing.T) {
	s, err := search.ParseSpec("s.yaml", []byte(moBase+`constraints: ["params_m <= 5", "ece<0.05", "val_acc >= 0.5"]
sampler: {type: nsga2, population_size: 20, crossover: sbx}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.MultiObjective() || s.Metric != "val_acc" || s.Direction != "maximize" {
		t.Fatalf("spec = multi %v metric %q direction %q, want multi-objective led by val_acc maximize", s.MultiObjective(), s.Metric, s.Direction)
	}
	metrics, dirs := s.Objectives()
	if !slices.Equal(metrics, []string{"val_acc", "train_seconds"}) || !slices.Equal(dirs, []string{"maximize", "minimize"}) {
		t.Fatalf("Objectives = %v %v", metrics, dirs)
	}
	var got []string
	for _, c := range s.Constraints {
		got = append(got, c.String())
	}
	if want := []string{"params_m <= 5", "ece < 0.05", "val_acc >= 0.5"}; !slices.Equal(got, want) {
		t.Fatalf("constraints = %q, want %q", got, want)
	}
	if s.Constraints[0].Line != 8 || s.Sampler.PopulationSize != 20 || s.Sampler.Crossover != "sbx" {
		t.Fatalf("constraint line %d, sampler %+v", s.Constraints[0].Line, s.Sampler)
	}

	single, err := search.ParseSpec("s.yaml", []byte("study: s\ndirection: minimize\ntrials: 3\nobjective: {type: synthetic}\nparams:\n  x: {type: float, low: 0, high: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m, d := single.Objectives(); single.MultiObjective() || !slices.Equal(m, []string{"value"}) || !slices.Equal(d, []string{"minimize"}) {
		t.Fatalf("single-objective Objectives = %v %v", m, d)
	}
}

func TestParseSpec_PruneMetric(t *testing.T) {
	s, err := search.ParseSpec("s.yaml", []byte(moBase+"prune_metric: train_seconds\npruner: {type: median}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Metric != "train_seconds" || s.Direction != "minimize" {
		t.Fatalf("metric %q direction %q, want the prune metric's", s.Metric, s.Direction)
	}
}

func TestParseSpec_MultiObjectiveErrors(t *testing.T) {
	single := strings.Replace(strings.Replace(moBase, "directions: [maximize, minimize]", "direction: maximize", 1), "metrics: [val_acc, train_seconds]", "metric: val_acc", 1)
	for _, tc := range []struct{ name, spec, want string }{
		{"Pruning", moBase + "pruner: {type: median}\n", "s.yaml:8: pruner.type: a multi-objective study cannot prune on several metrics; name the one the objective's intermediate reports measure with prune_metric (one of val_acc, train_seconds), or use pruner type none"},
		{"PruneMetricUnknown", moBase + "prune_metric: val_ac\n", `s.yaml:8: prune_metric: must be one of metrics (val_acc, train_seconds; got "val_ac"); did you mean "val_acc"?`},
		{"PruneMetricSingle", single + "prune_metric: val_acc\n", "s.yaml:8: prune_metric: only for multi-objective studies (directions); a single-objective study prunes on its metric"},
		{"Both", moBase + "direction: minimize\n", "s.yaml:2: directions: use either direction (one metric) or directions with metrics, not both"},
		{"Neither", strings.Replace(moBase, "directions: [maximize, minimize]\n", "", 1), "s.yaml:1: direction: required (or directions with metrics for a multi-objective study)"},
		{"NoMetrics", strings.Replace(moBase, "metrics: [val_acc, train_seconds]\n", "", 1), "s.yaml:2: metrics: required with directions: the metric each direction applies to"},
		{"Lengths", strings.Replace(moBase, "train_seconds]", "train_seconds, ece]", 1), "s.yaml:3: metrics: must list one metric per direction (got 3 metrics, 2 directions)"},
		{"Duplicate", strings.Replace(moBase, "train_seconds]", "val_acc]", 1), `s.yaml:3: metrics[1]: duplicate metric "val_acc" (also metrics[0])`},
		{"DirectionTypo", strings.Replace(moBase, "minimize]", "minimise]", 1), `s.yaml:2: directions[1]: must be maximize or minimize (got "minimise"); did you mean "minimize"?`},
		{"MetricWithDirections", moBase + "metric: val_acc\n", "s.yaml:8: metric: use metrics (a list, one per direction) with directions"},
		{"MetricsWithDirection", single + "metrics: [a, b]\n", "s.yaml:8: metrics: needs directions, one per metric (use metric with direction)"},
		{"CMAES", moBase + "sampler: {type: cmaes}\n", "s.yaml:8: sampler.type: cmaes optimises one metric; a multi-objective study needs tpe (MOTPE), nsga2, random or grid"},
		{"ConstraintSyntax", moBase + "constraints: [\"params_m = 5\"]\n", `s.yaml:8: constraints[0]: must read "metric op bound" with op one of <=, >=, <, > (got "params_m = 5")`},
		{"ConstraintBound", moBase + "constraints: [\"ece <= small\"]\n", `s.yaml:8: constraints[0]: bound must be a finite number (got "small")`},
		{"ConstraintsMapping", moBase + "constraints: {ece: 1}\n", `s.yaml:8: constraints: must be a list of strings such as "params_m <= 5" (got a mapping)`},
		{"Crossover", moBase + "sampler: {type: nsga2, crossover: sbxx}\n", `s.yaml:8: sampler.crossover: must be uniform or sbx (got "sbxx"); did you mean "sbx"?`},
		{"PopulationOnTPE", moBase + "sampler: {population_size: 10}\n", "s.yaml:8: sampler.type: population_size and crossover configure nsga2 only (got type tpe)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := search.ParseSpec("s.yaml", []byte(tc.spec))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err =\n%v\nwant\n%s", err, tc.want)
			}
		})
	}
}

func TestConstraint_Violation(t *testing.T) {
	for _, tc := range []struct {
		c    search.Constraint
		x    float64
		want float64
	}{
		{search.Constraint{Name: "m", Op: "<=", Bound: 5}, 4, -1},
		{search.Constraint{Name: "m", Op: "<=", Bound: 5}, 7, 2},
		{search.Constraint{Name: "m", Op: ">=", Bound: 5}, 7, -2},
		{search.Constraint{Name: "m", Op: ">", Bound: 5}, 4.5, 0.5},
		{search.Constraint{Name: "m", Op: "<=", Bound: 5}, 5, 0},
	} {
		if got := tc.c.Violation(tc.x); got != tc.want {
			t.Errorf("%v at %g: violation %g, want %g", tc.c, tc.x, got, tc.want)
		}
	}
	strict := search.Constraint{Name: "m", Op: "<", Bound: 5}
	if v := strict.Violation(5); !(v > 0) {
		t.Errorf("%v at 5: violation %g, want > 0 (infeasible)", strict, v)
	}
	if v := strict.Violation(math.NaN()); !math.IsNaN(v) {
		t.Errorf("violation of a missing metric = %g, want NaN", v)
	}
}

package reports_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"sweep/reports"
)

// paretoRows is a two-objective study: val_acc (maximize) against
// train_seconds (minimize); trial 3 breaks a constraint, trial 4 was
// pruned, trial 2 is dominated by trial 1.
func paretoRows() []reports.ObjectiveRow {
	f := func(v float64) *float64 { return &v }
	var rows []reports.ObjectiveRow
	add := func(n int, state string, acc, secs float64, feasible bool) {
		rows = append(rows,
			reports.ObjectiveRow{Number: n, State: state, Objective: 0, Metric: "val_acc", Direction: "maximize", Value: f(acc), Feasible: feasible},
			reports.ObjectiveRow{Number: n, State: state, Objective: 1, Metric: "train_seconds", Direction: "minimize", Value: f(secs), Feasible: feasible})
	}
	add(0, "COMPLETE", 0.9, 100, true)
	add(1, "COMPLETE", 0.8, 50, true)
	add(2, "COMPLETE", 0.7, 80, true)
	add(3, "COMPLETE", 0.95, 30, false)
	add(4, "PRUNED", 0.99, 1, true)
	add(5, "COMPLETE", 0.85, 60, true)
	return rows
}

func TestBuildPareto(t *testing.T) {
	study := reports.StudyRow{Name: "mo", Direction: "maximize", Metric: "val_acc"}
	p, err := reports.BuildPareto(study, paretoRows(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var front []int
	for _, pt := range p.Front {
		front = append(front, pt.Number)
	}
	if len(p.Points) != 5 || p.Infeasible != 1 || len(front) != 3 || front[0] != 1 || front[1] != 5 || front[2] != 0 {
		t.Fatalf("%d points, %d infeasible, front %v; want 5, 1, [1 5 0]", len(p.Points), p.Infeasible, front)
	}
	// Reference: worst feasible val_acc 0.7 → 0.63, worst time 100 → 110.
	if math.Abs(p.Reference[0]-0.63) > 1e-12 || math.Abs(p.Reference[1]-110) > 1e-12 {
		t.Fatalf("reference %v, want (0.63, 110)", p.Reference)
	}
	want := []float64{2.7, 11.2, 11.2, 11.2, 13.2}
	for i, h := range p.Hypervolume {
		if math.Abs(h.Hypervolume-want[i]) > 1e-9 {
			t.Fatalf("hypervolume curve %+v, want %v", p.Hypervolume, want)
		}
	}
	// Scaled over the front, trial 5 sits at (0.5, 0.2): the best equal-weight sum.
	for _, tc := range []struct {
		w    []float64
		want int
	}{{nil, 5}, {[]float64{1, 0}, 0}, {[]float64{0, 1}, 1}, {[]float64{1, 0.2}, 0}} {
		p, err := reports.BuildPareto(study, paretoRows(), tc.w)
		if err != nil || p.TradeOff == nil || p.TradeOff.Number != tc.want {
			t.Errorf("weights %v: trade-off %+v (%v), want trial %d", tc.w, p.TradeOff, err, tc.want)
		}
	}
	for _, w := range [][]float64{{1}, {0, 0}, {-1, 1}, {math.NaN(), 1}} {
		if _, err := reports.BuildPareto(study, paretoRows(), w); !errors.Is(err, reports.ErrBadWeights) {
			t.Errorf("weights %v: err %v, want ErrBadWeights", w, err)
		}
	}
}

func TestRenderPareto(t *testing.T) {
	p, err := reports.BuildPareto(reports.StudyRow{Name: "mo"}, paretoRows(), []float64{1, 0.2})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := reports.RenderPareto(&b, p, "markdown"); err != nil {
		t.Fatal(err)
	}
	md := strings.Join(strings.Fields(strings.ReplaceAll(b.String(), "\n", " ¶ ")), " ")
	for _, s := range []string{"## Pareto front (3 of 5 complete trials; 1 infeasible)", "| 5 | 0.85 | 60 |",
		"## Trade-off trial for weights 1,0.2", "| 0 | 0.9 | 100 |", "val_acc ↑", "train_seconds ↓", "| 5 | 5 | 13.2 |"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, b.String())
		}
	}
	b.Reset()
	if err := reports.RenderPareto(&b, p, "html"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "<svg"); n != 2 {
		t.Errorf("html has %d SVG figures, want 2 (one scatter, the hypervolume curve)", n)
	}
	if err := reports.RenderPareto(&b, p, "yaml"); !errors.Is(err, reports.ErrUnknownFormat) {
		t.Errorf("yaml: err %v, want ErrUnknownFormat", err)
	}
}

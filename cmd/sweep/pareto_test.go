package main

import (
	"context"
	"strings"
	"testing"

	"sweep/internal/pgtest"
)

// moStudy is a constrained two-objective synthetic study (ZDT1).
const moStudy = `study: mo-e2e
directions: [minimize, minimize]
metrics: [f1, f2]
constraints: ["f1 >= 0.05"]
trials: 30
workers: 2
sampler: {type: nsga2, population_size: 10, seed: 7}
objective: {type: synthetic, epochs: 2, function: zdt1}
params:
  x1: {type: float, low: 0, high: 1}
  x2: {type: float, low: 0, high: 1}
  x3: {type: float, low: 0, high: 1}
`

// TestEndToEnd_Pareto runs a multi-objective study through `sweep start`
// on the private PostgreSQL and reads its front back with `sweep report
// --pareto`.
func TestEndToEnd_Pareto(t *testing.T) {
	dsn := pgtest.DSN(t)
	file := writeFile(t, t.TempDir(), "mo.yaml", moStudy)
	e, out, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"start", file, "--db", dsn}); code != 0 {
		t.Fatalf("start: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out.String(), "30 trial(s) run here") || !strings.Contains(errOut.String(), " f2=") {
		t.Fatalf("start output:\n%s%s", errOut, out)
	}
	for _, args := range [][]string{{"--weights", "1,0.2"}, {"--format", "html"}} {
		e, out, errOut, _ = newTestEnv(false)
		if code := run(context.Background(), e, append([]string{"report", "mo-e2e", "--pareto", "--db", dsn}, args...)); code != 0 {
			t.Fatalf("report %v: exit %d: %s", args, code, errOut)
		}
		for _, want := range map[bool][]string{
			false: {"Pareto front (", "f1 ↓", "f2 ↓", "Trade-off trial for weights 1,0.2", "Hypervolume of the feasible trials so far"},
			true:  {"<svg", "Pareto front: f2 against f1", "Hypervolume over trials"},
		}[args[0] == "--format"] {
			if !strings.Contains(out.String(), want) {
				t.Errorf("report %v lacks %q:\n%s", args, want, out)
			}
		}
	}
	e, _, errOut, _ = newTestEnv(false)
	if code := run(context.Background(), e, []string{"report", "mo-e2e", "--pareto", "--weights", "1", "--db", dsn}); code != 1 ||
		!strings.Contains(errOut.String(), "reports: bad weights: 1 weights for 2 metrics (f1, f2)") {
		t.Errorf("one weight for two metrics: exit %d, %s", code, errOut)
	}
}

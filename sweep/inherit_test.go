package sweep_test

import (
	"context"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/objective"
	"sweep/search"
	"sweep/search/prune"
	"sweep/sweep"
	"sweep/sweep/sweeptest"
)

// TestWorker_InheritedValuesAreHistory works one example by hand. ASHA,
// maximize, min_resource 1, reduction factor 2: rungs at steps 1, 2, 4.
// Trials A and B completed with 0.5 and 0.6 at rung 0. Trial D reported
// 0.9 at steps 1-4 and died; its retry R inherits those values, and its
// objective starts again at step 1, reporting 0.1.
//
// The pruner judges R on its own reports: at step 1 its rung-0 value is
// 0.1, among {0.5, 0.6, 0.1} only the best ⌊3/2⌋ = 1 (0.6) is promoted,
// so R is pruned at step 1 with rung_0 = 0.1 and no other rung. Reading
// the inherited values instead, R would sit at step 4 with 0.9, record
// rungs 0, 1 and 2 as 0.9 and run on.
func TestWorker_InheritedValuesAreHistory(t *testing.T) {
	raw := `study: inherit
direction: maximize
trials: 4
workers: 1
sampler: {type: random, seed: 1}
pruner: {type: asha, min_resource: 1, reduction_factor: 2}
heartbeat: {interval: 0.05, grace: 2}
retry: {max: 1, inherit_intermediate: true}
objective: {type: synthetic, epochs: 4}
params:
  x: {type: float, low: 0, high: 1}
`
	spec, err := search.ParseSpec("inherit.yaml", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	store := sweeptest.New()
	ctx := context.Background()
	info, _, err := sweep.EnsureStudy(ctx, store, spec, []byte(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	run := func(values []float64, state goptuna.TrialState, rung0 string) int {
		t.Helper()
		c, err := store.ClaimTrial(ctx, info.ID, "old", "h")
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range values {
			if err := store.SetTrialIntermediateValue(c.TrialID, i+1, v); err != nil {
				t.Fatal(err)
			}
		}
		if rung0 != "" {
			if err := store.SetTrialSystemAttr(c.TrialID, prune.RungKeyPrefix+"0", rung0); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.FinishTrial(ctx, c.TrialID, state, values[len(values)-1], ""); err != nil {
			t.Fatal(err)
		}
		return c.TrialID
	}
	run([]float64{0.5}, goptuna.TrialStateComplete, "0.5")
	run([]float64{0.6}, goptuna.TrialStateComplete, "0.6")
	dead := run([]float64{0.9, 0.9, 0.9, 0.9}, goptuna.TrialStateFail, "")
	retry, created, err := store.RetryTrial(ctx, dead, true)
	if err != nil || !created {
		t.Fatalf("RetryTrial: %v %v", created, err)
	}
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		for step := 1; step <= 4; step++ {
			prune, err := r.Report(step, 0.1)
			if err != nil {
				return objective.Result{}, err
			}
			if prune {
				return objective.Result{}, objective.ErrPruned
			}
		}
		return objective.Result{Value: 0.1}, nil
	})
	var log syncBuffer
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&log, false, 1, nil)}
	if _, err := w.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tr, err := store.GetTrial(retry)
	if err != nil {
		t.Fatal(err)
	}
	if tr.State != goptuna.TrialStatePruned || tr.IntermediateValues[1] != 0.1 {
		t.Errorf("retry %s with values %v, want PRUNED at step 1 with 0.1\n%s", tr.State, tr.IntermediateValues, log.String())
	}
	if got := tr.SystemAttrs[prune.RungKeyPrefix+"0"]; got != "0.1" {
		t.Errorf("retry's rung 0 = %q, want 0.1 (its own step-1 value)", got)
	}
	for _, k := range []string{"1", "2"} {
		if got, ok := tr.SystemAttrs[prune.RungKeyPrefix+k]; ok {
			t.Errorf("retry recorded rung %s = %q from inherited values it never reached", k, got)
		}
	}
}

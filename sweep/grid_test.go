package sweep_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/objective"
	"sweep/search"
	"sweep/sweep"
	"sweep/sweep/sweeptest"
)

// TestWorker_GridWithRetries: a grid of 6 points, retry.max 2, and the
// first run of points 1 and 4 fails (point 4 twice). Retries re-run their
// point under new numbers; the grid still runs every point exactly once
// to COMPLETE, none twice, within a budget of 6 + 3 failures. One slot, so
// that each retry is queued before the next claim and the budget suffices
// (with several slots a fresh trial may take the unit a late retry needed).
func TestWorker_GridWithRetries(t *testing.T) {
	raw := `study: grid
direction: maximize
trials: 9
workers: 1
sampler: {type: grid}
heartbeat: {interval: 0.05, grace: 2}
retry: {max: 2}
objective: {type: synthetic, epochs: 1}
params:
  x: {type: int, low: 0, high: 5}
`
	spec, err := search.ParseSpec("grid.yaml", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	store := sweeptest.New()
	info, _, err := sweep.EnsureStudy(context.Background(), store, spec, []byte(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	failLeft := map[int]int{1: 1, 4: 2}
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		x := p["x"].(int)
		mu.Lock()
		defer mu.Unlock()
		if failLeft[x] > 0 {
			failLeft[x]--
			return objective.Result{}, errors.New("injected failure")
		}
		if _, err := r.Report(1, float64(x)); err != nil {
			return objective.Result{}, err
		}
		return objective.Result{Value: float64(x)}, nil
	})
	var log syncBuffer
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&log, false, 1, nil)}
	if _, err := w.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	done := map[int]int{}
	for _, tr := range trials(t, store, info, 9) {
		if tr.State == goptuna.TrialStateComplete {
			done[int(tr.Value)]++
		}
	}
	for x := range 6 {
		if done[x] != 1 {
			t.Errorf("grid point x=%d completed %d times, want once (all: %v)\n%s", x, done[x], done, log.String())
		}
	}
}

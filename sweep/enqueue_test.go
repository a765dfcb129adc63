package sweep_test

import (
	"context"
	"sync"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/objective"
	"sweep/search"
	"sweep/search/sampler"
	"sweep/sweep"
	"sweep/sweep/sweeptest"
)

// TestEnqueue: enqueued trials run before sampled ones, with their params
// as given; params left out are sampled, in the branch the given choices
// open.
func TestEnqueue(t *testing.T) {
	store, spec, info := setup(t, 3, 1, 0)
	ctx := context.Background()
	full, err := search.Assign(spec.Params, map[string]string{"lr": "0.01", "opt": "sgd", "momentum": "0.9"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := sweep.Enqueue(ctx, store, info, spec.Params, full)
	if err != nil {
		t.Fatal(err)
	}
	if first.State != goptuna.TrialStateWaiting || first.Number != 0 || first.SystemAttrs[sampler.EnqueuedAttr] == "" || first.Params["opt"] != "sgd" {
		t.Errorf("enqueued trial = %+v", first)
	}
	partial, err := search.Assign(spec.Params, map[string]string{"opt": "adam"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sweep.Enqueue(ctx, store, info, spec.Params, partial); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []objective.Params
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
		if _, err := r.Report(1, 0.5); err != nil {
			return objective.Result{}, err
		}
		return objective.Result{Value: 0.5}, nil
	})
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj}
	if _, err := w.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	trials(t, store, info, 3)
	if len(seen) != 3 || seen[0]["lr"] != 0.01 || seen[0]["opt"] != "sgd" || seen[0]["momentum"] != 0.9 || len(seen[0]) != 3 {
		t.Fatalf("first trial ran with %v; want the enqueued lr=0.01 opt=sgd momentum=0.9", seen)
	}
	if _, sampled := seen[1]["lr"]; seen[1]["opt"] != "adam" || !sampled || len(seen[1]) != 2 {
		t.Errorf("second trial ran with %v; want opt=adam and a sampled lr, no momentum", seen[1])
	}
}

// TestWorker_GridWithEnqueued: a trial enqueued by hand takes no grid
// point, so the grid still runs each of its points once, after it.
func TestWorker_GridWithEnqueued(t *testing.T) {
	raw := `study: grid
direction: maximize
trials: 5
workers: 1
sampler: {type: grid}
heartbeat: {interval: 0.05, grace: 2}
objective: {type: synthetic, epochs: 1}
params:
  x: {type: int, low: 0, high: 3}
`
	spec, err := search.ParseSpec("grid.yaml", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	store := sweeptest.New()
	ctx := context.Background()
	info, _, err := sweep.EnsureStudy(ctx, store, spec, []byte(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	x2, err := search.Assign(spec.Params, map[string]string{"x": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sweep.Enqueue(ctx, store, info, spec.Params, x2); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		x := p["x"].(int)
		mu.Lock()
		order = append(order, x)
		mu.Unlock()
		if _, err := r.Report(1, float64(x)); err != nil {
			return objective.Result{}, err
		}
		return objective.Result{Value: float64(x)}, nil
	})
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj}
	if _, err := w.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	trials(t, store, info, 5)
	if len(order) != 5 || order[0] != 2 || order[1] != 0 || order[2] != 1 || order[3] != 2 || order[4] != 3 {
		t.Errorf("ran x = %v; want the enqueued 2, then the grid 0 1 2 3", order)
	}
}

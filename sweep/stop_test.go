package sweep_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/objective"
	"sweep/search"
	"sweep/sweep"
	"sweep/sweep/sweeptest"
)

// stopYAML is a one-slot synthetic study with a stop condition (%s) and a
// budget that the condition should end well before.
const stopYAML = `study: t
direction: %s
metric: val_acc
trials: 40
workers: 1
sampler: {type: random, seed: 3}
heartbeat: {interval: 0.05, grace: 2}
stop: %s
objective: {type: synthetic, epochs: 3}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  opt: {type: categorical, choices: [sgd, adam]}
`

func setupStop(tb testing.TB, direction, stop string) (*sweeptest.Store, *search.Spec, sweep.StudyInfo) {
	tb.Helper()
	raw := fmt.Sprintf(stopYAML, direction, stop)
	spec, err := search.ParseSpec("t.yaml", []byte(raw))
	if err != nil {
		tb.Fatal(err)
	}
	store := sweeptest.New()
	info, _, err := sweep.EnsureStudy(context.Background(), store, spec, []byte(raw), false)
	if err != nil {
		tb.Fatal(err)
	}
	return store, spec, info
}

// checkStopped checks that the study recorded reason and is finished.
func checkStopped(t *testing.T, store *sweeptest.Store, sum sweep.Summary, want string) {
	t.Helper()
	if !strings.HasPrefix(sum.Stopped, want) {
		t.Errorf("Summary.Stopped = %q; want it to start with %q", sum.Stopped, want)
	}
	st, err := store.Study(context.Background(), "t")
	if err != nil || st.StopReason != sum.Stopped || st.Status != "finished" {
		t.Errorf("stored study: reason %q, status %q, %v; want %q, finished", st.StopReason, st.Status, err, sum.Stopped)
	}
}

// TestWorker_StopTarget: with one slot, the study ends with the first
// COMPLETE trial that reaches the target, in the study's direction.
func TestWorker_StopTarget(t *testing.T) {
	for _, c := range []struct {
		direction string
		target    float64
		reached   func(v float64) bool
	}{
		{"maximize", 0.5, func(v float64) bool { return v >= 0.5 }},
		{"minimize", 0.4, func(v float64) bool { return v <= 0.4 }},
	} {
		t.Run(c.direction, func(t *testing.T) {
			store, spec, info := setupStop(t, c.direction, fmt.Sprintf("{target: %g}", c.target))
			var log bytes.Buffer
			w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: synthetic(t, spec), Display: sweep.NewDisplay(&log, false, 1, nil)}
			sum, err := w.Run(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := store.GetAllTrials(info.ID)
			if err != nil {
				t.Fatal(err)
			}
			first := -1
			for _, tr := range ts {
				if tr.State == goptuna.TrialStateComplete && c.reached(tr.Value) {
					first = tr.Number
					break
				}
			}
			if first < 0 || len(ts) != first+1 {
				t.Fatalf("%d trials, first reaching %g is %d; want the study to end with it\n%s", len(ts), c.target, first, log.String())
			}
			checkStopped(t, store, sum, fmt.Sprintf("target: trial %d reached val_acc=", first))
			if !strings.Contains(log.String(), "study stopped taking trials: target") {
				t.Errorf("log does not say why the study stopped:\n%s", log.String())
			}
		})
	}
}

// TestWorker_StopMaxFailed: failures stop the study at max_failed;
// trials an interrupt stopped are not the trials' fault and do not count.
func TestWorker_StopMaxFailed(t *testing.T) {
	store, spec, info := setupStop(t, "maximize", "{max_failed: 2}")
	ctx := context.Background()
	for range 2 {
		cl, err := store.ClaimTrial(ctx, info.ID, "earlier", "h")
		if err != nil {
			t.Fatal(err)
		}
		if err := store.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateFail, math.NaN(), sweep.ReasonInterrupted); err != nil {
			t.Fatal(err)
		}
	}
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		return objective.Result{}, errors.New("boom")
	})
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&bytes.Buffer{}, false, 1, nil)}
	sum, err := w.Run(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	trials(t, store, info, 4)
	if sum.Failed != 2 {
		t.Errorf("%d trials failed here; want 2", sum.Failed)
	}
	checkStopped(t, store, sum, "max_failed: 2 trials failed (stop.max_failed 2)")
}

// TestWorker_StopTimeout: the study's wall time counts from its creation;
// each trial here takes 20 minutes on the worker's clock, so a 1h timeout
// lets three start.
func TestWorker_StopTimeout(t *testing.T) {
	store, spec, info := setupStop(t, "maximize", "{timeout: 1h}")
	var mu sync.Mutex
	now := info.Created
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		if _, err := r.Report(1, 0.5); err != nil {
			return objective.Result{}, err
		}
		mu.Lock()
		now = now.Add(20 * time.Minute)
		mu.Unlock()
		return objective.Result{Value: 0.5}, nil
	})
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Now: clock, Display: sweep.NewDisplay(&bytes.Buffer{}, false, 1, nil)}
	sum, err := w.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	trials(t, store, info, 3)
	checkStopped(t, store, sum, "timeout: the study has run 1h0m0s (stop.timeout 1h0m0s)")

	// Resuming later changes nothing: the clock has run out.
	w2 := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Now: clock, Display: sweep.NewDisplay(&bytes.Buffer{}, false, 1, nil)}
	if sum, err := w2.Run(context.Background(), nil); err != nil || sum.Total() != 0 || sum.Stopped == "" {
		t.Errorf("resumed worker ran %d trials (%v), stopped %q", sum.Total(), err, sum.Stopped)
	}
	trials(t, store, info, 3)
}

// TestWorker_StopRecorded: a stop reason recorded from outside the worker
// (sweep dashboard's stop button) ends its claims: the running trial
// finishes, no new one starts.
func TestWorker_StopRecorded(t *testing.T) {
	store, spec, info := setupStop(t, "maximize", "{}")
	ctx := context.Background()
	n := 0
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		if _, err := r.Report(1, 0.5); err != nil {
			return objective.Result{}, err
		}
		if n++; n == 2 {
			if err := store.RecordStop(ctx, info.ID, "stopped from sweep dashboard"); err != nil {
				return objective.Result{}, err
			}
		}
		return objective.Result{Value: 0.5}, nil
	})
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&bytes.Buffer{}, false, 1, nil)}
	sum, err := w.Run(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	trials(t, store, info, 2)
	checkStopped(t, store, sum, "stopped from sweep dashboard")
}

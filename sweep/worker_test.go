package sweep_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
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

// objectiveFunc adapts a function to objective.Objective.
type objectiveFunc func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error)

func (f objectiveFunc) Run(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
	return f(ctx, p, r)
}

const studyYAML = `study: t
direction: maximize
metric: val_acc
trials: %d
workers: %d
sampler: {type: random, seed: 3}
pruner: {type: median, startup_trials: 3, warmup_steps: 1}
heartbeat: {interval: 0.05, grace: 2}
retry: {max: %d}
objective: {type: synthetic, epochs: 5}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  opt:
    type: categorical
    choices: [sgd, adam]
    conditional:
      sgd:
        momentum: {type: float, low: 0.8, high: 0.99}
`

// setup parses a spec and creates its study in a fresh fake store.
func setup(tb testing.TB, trials, workers, retries int) (*sweeptest.Store, *search.Spec, sweep.StudyInfo) {
	tb.Helper()
	raw := fmt.Sprintf(studyYAML, trials, workers, retries)
	spec, err := search.ParseSpec("t.yaml", []byte(raw))
	if err != nil {
		tb.Fatal(err)
	}
	store := sweeptest.New()
	info, created, err := sweep.EnsureStudy(context.Background(), store, spec, []byte(raw), false)
	if err != nil || !created {
		tb.Fatalf("EnsureStudy: created %v, %v", created, err)
	}
	return store, spec, info
}

func synthetic(tb testing.TB, spec *search.Spec) objective.Objective {
	tb.Helper()
	o, err := objective.NewSynthetic(objective.SyntheticConfig{Epochs: 5, Noise: 0.02, EpochSeconds: 0.001}, []objective.SyntheticParam{
		{Name: "lr", Low: 1e-4, High: 1, Log: true},
		{Name: "opt", Choices: []string{"sgd", "adam"}},
		{Name: "momentum", Low: 0.8, High: 0.99},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

// trials loads all trials of the study and checks the invariants every run
// must keep: contiguous unique numbers, nothing RUNNING, and intermediate
// values on every COMPLETE and PRUNED trial.
func trials(tb testing.TB, store *sweeptest.Store, info sweep.StudyInfo, want int) []goptuna.FrozenTrial {
	tb.Helper()
	ts, err := store.GetAllTrials(info.ID)
	if err != nil {
		tb.Fatal(err)
	}
	if len(ts) != want {
		tb.Errorf("%d trials, want %d", len(ts), want)
	}
	seen := map[int]bool{}
	for _, t := range ts {
		if seen[t.Number] || t.Number < 0 || t.Number >= len(ts) {
			tb.Errorf("trial number %d duplicated or out of range", t.Number)
		}
		seen[t.Number] = true
		if t.State == goptuna.TrialStateRunning {
			tb.Errorf("trial %d left RUNNING", t.Number)
		}
		if (t.State == goptuna.TrialStateComplete || t.State == goptuna.TrialStatePruned) && len(t.IntermediateValues) == 0 {
			tb.Errorf("trial %d %s without intermediate values", t.Number, t.State)
		}
	}
	return ts
}

func TestWorker_Run(t *testing.T) {
	store, spec, info := setup(t, 40, 4, 0)
	var log bytes.Buffer
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: synthetic(t, spec), Host: "h", ID: "h:1:abc",
		Display: sweep.NewDisplay(&log, false, 4, nil)}
	sum, err := w.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := trials(t, store, info, 40)
	if sum.Total() != 40 || sum.Failed != 0 {
		t.Errorf("summary %+v, want 40 finished, none failed", sum)
	}
	if sum.Pruned == 0 {
		t.Errorf("median pruner never pruned in 40 trials: %+v", sum)
	}
	slots := map[string]bool{}
	for _, tr := range ts {
		slots[store.Worker(tr.ID)] = true
		_, hasMomentum := tr.Params["momentum"]
		if (tr.Params["opt"] == "sgd") != hasMomentum {
			t.Errorf("trial %d: opt=%v but momentum sampled=%v", tr.Number, tr.Params["opt"], hasMomentum)
		}
		if tr.State == goptuna.TrialStateComplete && len(store.Metrics(tr.ID)) != 5 {
			t.Errorf("trial %d: %d metric steps, want 5", tr.Number, len(store.Metrics(tr.ID)))
		}
	}
	for id := range slots {
		if !regexp.MustCompile(`^h:1:abc/[0-3]$`).MatchString(id) {
			t.Errorf("trial claimed by %q, want a slot id h:1:abc/0..3", id)
		}
	}
	if len(slots) < 2 {
		t.Errorf("trials claimed by %v only: slots did not run in parallel", slots)
	}
	finished := regexp.MustCompile(`(?m)^trial \d+ (COMPLETE|PRUNED|FAIL) `).FindAllString(log.String(), -1)
	started := regexp.MustCompile(`(?m)^trial \d+ started\b`).FindAllString(log.String(), -1)
	if len(finished) != 40 || len(started) != 40 {
		t.Errorf("%d finished and %d started lines, want one of each per trial:\n%s", len(finished), len(started), log.String())
	}
	if st, _ := store.Study(context.Background(), "t"); st.Status != "finished" {
		t.Errorf("study status %q, want finished", st.Status)
	}
}

// blocker is an objective that reports step 1, then waits for release or
// ctx, so tests can stop workers while trials run.
type blocker struct {
	started chan int
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{started: make(chan int, 100), release: make(chan struct{})}
}

func (b *blocker) Run(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
	if _, err := r.Report(1, 0.5); err != nil {
		return objective.Result{}, err
	}
	b.started <- 1
	select {
	case <-ctx.Done():
		return objective.Result{}, ctx.Err()
	case <-b.release:
		return objective.Result{Value: 0.7}, nil
	}
}

func TestWorker_Drain(t *testing.T) {
	store, spec, info := setup(t, 50, 2, 0)
	b := newBlocker()
	drain := make(chan struct{})
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: b}
	done := make(chan sweep.Summary)
	go func() {
		sum, err := w.Run(context.Background(), drain)
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	<-b.started
	<-b.started
	close(drain)
	close(b.release)
	sum := <-done
	ts := trials(t, store, info, 2)
	if sum.Complete != 2 {
		t.Errorf("summary %+v, want the 2 running trials completed", sum)
	}
	for _, tr := range ts {
		if tr.State != goptuna.TrialStateComplete || tr.Value != 0.7 {
			t.Errorf("trial %d: %s %v, want COMPLETE 0.7", tr.Number, tr.State, tr.Value)
		}
	}
}

func TestWorker_HardStop(t *testing.T) {
	store, spec, info := setup(t, 50, 3, 1)
	b := newBlocker()
	ctx, cancel := context.WithCancel(context.Background())
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: b}
	done := make(chan sweep.Summary)
	go func() {
		sum, _ := w.Run(ctx, nil)
		done <- sum
	}()
	for range 3 {
		<-b.started
	}
	cancel()
	sum := <-done
	// The 3 running trials are FAIL "interrupted" and, as retry.max is 1,
	// re-queued as WAITING copies for the next worker.
	ts := trials(t, store, info, 6)
	if sum.Interrupted != 3 {
		t.Errorf("summary %+v, want 3 interrupted", sum)
	}
	for _, tr := range ts[:3] {
		if tr.State != goptuna.TrialStateFail || store.Reason(tr.ID) != "interrupted" {
			t.Errorf("trial %d: %s %q, want FAIL interrupted", tr.Number, tr.State, store.Reason(tr.ID))
		}
	}
	for _, tr := range ts[3:] {
		if tr.State != goptuna.TrialStateWaiting {
			t.Errorf("trial %d: %s, want a WAITING retry", tr.Number, tr.State)
		}
	}
}

func TestWorker_Failures(t *testing.T) {
	store, spec, info := setup(t, 6, 1, 1)
	calls := 0
	var mu sync.Mutex
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		switch n {
		case 1:
			return objective.Result{}, errors.New("cuda: out of memory")
		case 2:
			panic("index out of range")
		case 3:
			return objective.Result{Value: math.NaN()}, nil
		}
		r.Report(1, 0.5)
		return objective.Result{Value: 0.5, Attrs: map[string]string{"test_acc": "0.49"}}, nil
	})
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj}
	if _, err := w.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ts := trials(t, store, info, 6)
	want := []string{"cuda: out of memory", "objective panicked: index out of range", "objective returned NaN"}
	for i, reason := range want {
		if ts[i].State != goptuna.TrialStateFail || store.Reason(ts[i].ID) != reason {
			t.Errorf("trial %d: %s %q, want FAIL %q", i, ts[i].State, store.Reason(ts[i].ID), reason)
		}
	}
	// Trial 0 failed and was retried as trial 1 with the same params; trial
	// 1 is itself a retry (attempt 1 of max 1), so its failure is final.
	if ts[1].Params["lr"] != ts[0].Params["lr"] || ts[1].Params["opt"] != ts[0].Params["opt"] {
		t.Errorf("retry params %v differ from original %v", ts[1].Params, ts[0].Params)
	}
	if ts[5].State != goptuna.TrialStateComplete || ts[5].UserAttrs["test_acc"] != "0.49" {
		t.Errorf("last trial %s attrs %v", ts[5].State, ts[5].UserAttrs)
	}
}

func TestWorker_StaleTrialDropped(t *testing.T) {
	store, spec, info := setup(t, 1, 1, 0)
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		// Another worker decides this trial is stale while it runs.
		if ids, err := store.ReapStale(ctx, info.ID, -time.Second); err != nil || len(ids) != 1 {
			t.Errorf("reap: %v %v", ids, err)
		}
		<-ctx.Done() // the heartbeat notices and stops the trial
		return objective.Result{}, ctx.Err()
	})
	var log bytes.Buffer
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&log, false, 1, nil)}
	sum, err := w.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := trials(t, store, info, 1)
	if sum.Lost != 1 || ts[0].State != goptuna.TrialStateFail || store.Reason(ts[0].ID) != "stale" {
		t.Errorf("summary %+v, trial %s %q; want lost, FAIL stale", sum, ts[0].State, store.Reason(ts[0].ID))
	}
	if !strings.Contains(log.String(), "trial 0: marked stale by another worker") {
		t.Errorf("log lacks the stale line:\n%s", log.String())
	}
}

func TestWorker_ClaimErrors(t *testing.T) {
	store, spec, info := setup(t, 5, 1, 0)
	store.ClaimFunc = func() error { return errors.New("connection refused") }
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: synthetic(t, spec), Display: sweep.NewDisplay(&bytes.Buffer{}, false, 1, nil)}
	if _, err := w.Run(ctx, nil); err != nil {
		t.Fatalf("a hard stop while retrying claims should end quietly, got %v", err)
	}
	trials(t, store, info, 0)
}

func TestWorker_WaitingTrials(t *testing.T) {
	store, spec, info := setup(t, 2, 1, 0)
	lr := spec.Params[0].Distribution()
	// A complete re-queued trial runs with its params as stored; one whose
	// params no longer cover the space keeps what fits and samples the rest.
	if err := store.Enqueue(info.ID, map[string]float64{"lr": 0.25, "opt": 1}, map[string]any{"lr": lr, "opt": spec.Params[1].Distribution()}); err != nil {
		t.Fatal(err)
	}
	if err := store.Enqueue(info.ID, map[string]float64{"lr": 0.5}, map[string]any{"lr": lr}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []objective.Params
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
		r.Report(1, 0.5)
		return objective.Result{Value: 0.5}, nil
	})
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj}
	if _, err := w.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	trials(t, store, info, 2)
	if len(seen) != 2 || seen[0]["lr"] != 0.25 || seen[0]["opt"] != "adam" || len(seen[0]) != 2 {
		t.Fatalf("first waiting trial ran with %v, want lr=0.25 opt=adam", seen)
	}
	if seen[1]["lr"] != 0.5 || seen[1]["opt"] == nil {
		t.Errorf("second waiting trial ran with %v, want lr=0.5 and a sampled opt", seen[1])
	}
}

func TestWorker_ObjectiveLog(t *testing.T) {
	// An objective's progress lines (cifar10's `log: true`) go through the
	// display, one log line each with the trial's number, so that on a
	// terminal they print above the live block rather than through it.
	store, spec, info := setup(t, 2, 1, 0)
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		lw, ok := r.(objective.LogWriter)
		if !ok {
			return objective.Result{}, errors.New("reporter is no objective.LogWriter")
		}
		w := lw.LogWriter()
		fmt.Fprint(w, "epoch 1 loss 0.5\nepoch 2 ")
		fmt.Fprint(w, "loss 0.4\n")
		return objective.Result{Value: 0.4}, nil
	})
	var log bytes.Buffer
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&log, false, 1, nil)}
	if _, err := w.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\ntrial 0: epoch 1 loss 0.5\ntrial 0: epoch 2 loss 0.4\ntrial 0 COMPLETE", "\ntrial 1: epoch 2 loss 0.4\n"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

package storagetest

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
	"sweep/sweep"
)

func testBudget(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	st := ensure(t, s, "budget", 3)
	first := claim(t, s, st.ID, "w")
	must(t, s.FinishTrial(c, first.TrialID, goptuna.TrialStateFail, math.NaN(), "boom"))
	claim(t, s, st.ID, "w")
	claim(t, s, st.ID, "w")
	_, err := s.ClaimTrial(c, st.ID, "w", "h")
	wantErr(t, "4th claim with budget 3 (a failed trial counts)", err, sweep.ErrBudgetExhausted)
	_, err = s.CreateNewTrial(st.ID)
	wantErr(t, "CreateNewTrial past the budget", err, sweep.ErrBudgetExhausted)
	_, _, err = s.RetryTrial(c, first.TrialID, false)
	wantErr(t, "RetryTrial past the budget", err, sweep.ErrBudgetExhausted)
	all, err := s.GetAllTrials(st.ID)
	must(t, err)
	if len(all) != 3 {
		t.Errorf("%d trials; want 3", len(all))
	}
	// Raising the budget (forced spec update) lets claims continue.
	raised, _, err := s.EnsureStudy(c, sweep.StudyInfo{Name: "budget", Direction: "maximize", Metric: "val_acc",
		Spec: []byte("trials: 4\n"), Trials: 4}, true)
	must(t, err)
	if cl := claim(t, s, raised.ID, "w"); cl.Number != 3 {
		t.Errorf("claim after raising the budget got number %d; want 3", cl.Number)
	}
}

func testClaimWaitingFirst(t *testing.T, newStore NewStore) {
	s := newStore(t)
	st := ensure(t, s, "waiting", 0)
	fresh := claim(t, s, st.ID, "w")
	if fresh.Params != nil || fresh.Number != 0 || fresh.Attempt != 0 || fresh.RetryOf != 0 {
		t.Errorf("fresh claim = %+v", fresh)
	}
	queued := make([]int, 2)
	for i := range queued {
		queued[i] = res(s.CloneTrial(st.ID, goptuna.FrozenTrial{
			State:          goptuna.TrialStateWaiting,
			InternalParams: map[string]float64{"x": float64(i) / 4},
			Distributions:  map[string]interface{}{"x": distUniform},
			Params:         map[string]interface{}{"x": float64(i) / 4},
		})).must(t)
	}
	for i, want := range queued {
		cl := claim(t, s, st.ID, "w")
		if cl.TrialID != want || cl.Params["x"] != float64(i)/4 {
			t.Errorf("claim %d = %+v; want queued trial %d with x=%v", i, cl, want, float64(i)/4)
		}
		tr, err := s.GetTrial(cl.TrialID)
		must(t, err)
		if tr.State != goptuna.TrialStateRunning || tr.DatetimeStart.IsZero() {
			t.Errorf("claimed queued trial = %+v", tr)
		}
	}
	if cl := claim(t, s, st.ID, "w"); cl.Params != nil || cl.Number != 3 {
		t.Errorf("claim after the queue = %+v; want a fresh trial number 3", cl)
	}
}

func testRetryTrial(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	st := ensure(t, s, "retry", 0)
	orig := claim(t, s, st.ID, "w")
	must(t, s.SetTrialParam(orig.TrialID, "opt", 1, distCat))
	must(t, s.SetTrialIntermediateValue(orig.TrialID, 1, 0.5))
	must(t, s.SetTrialIntermediateValue(orig.TrialID, 2, 0.6))
	if _, _, err := s.RetryTrial(c, orig.TrialID, true); err == nil {
		t.Error("RetryTrial of a RUNNING trial: want error")
	}
	must(t, s.FinishTrial(c, orig.TrialID, goptuna.TrialStateFail, 0, "interrupted"))
	id, created, err := s.RetryTrial(c, orig.TrialID, true)
	if err != nil || !created {
		t.Fatalf("RetryTrial = %d, %v, %v", id, created, err)
	}
	again, created, err := s.RetryTrial(c, orig.TrialID, true)
	if err != nil || created || again != id {
		t.Errorf("second RetryTrial = %d, %v, %v; want %d, false", again, created, err, id)
	}
	cl := claim(t, s, st.ID, "w2")
	if cl.TrialID != id || cl.Attempt != 1 || cl.RetryOf != orig.TrialID || cl.Number != 1 || cl.Params["opt"] != 1 {
		t.Errorf("claimed retry = %+v", cl)
	}
	tr, err := s.GetTrial(id)
	must(t, err)
	if tr.Params["opt"] != distCat.Choices[1] || len(tr.IntermediateValues) != 2 || tr.IntermediateValues[2] != 0.6 {
		t.Errorf("retry trial = %+v; want params and intermediate values copied", tr)
	}
	if got, want := tr.SystemAttrs[sampler.RetryOfAttr], strconv.Itoa(orig.TrialID); got != want {
		t.Errorf("retry's system attr %s = %q, want %q (the grid skips retries by it)", sampler.RetryOfAttr, got, want)
	}
	// A failed retry is retried in turn, without inheriting.
	must(t, s.FinishTrial(c, id, goptuna.TrialStateFail, 0, "stale"))
	third, _, err := s.RetryTrial(c, id, false)
	must(t, err)
	cl = claim(t, s, st.ID, "w3")
	tr, _ = s.GetTrial(third)
	if cl.TrialID != third || cl.Attempt != 2 || cl.RetryOf != id || len(tr.IntermediateValues) != 0 {
		t.Errorf("second retry = %+v, trial %+v", cl, tr)
	}
}

func testHeartbeatReapStale(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	st := ensure(t, s, "stale", 0)
	alive := claim(t, s, st.ID, "w1")
	dead := claim(t, s, st.ID, "w2")
	other := ensure(t, s, "stale-other", 0)
	elsewhere := claim(t, s, other.ID, "w3")
	time.Sleep(400 * time.Millisecond)
	must(t, s.Heartbeat(c, alive.TrialID))
	if _, err := s.ReapStale(c, st.ID, 0); err == nil {
		t.Error("ReapStale with zero grace: want error")
	}
	reaped, err := s.ReapStale(c, st.ID, 300*time.Millisecond)
	must(t, err)
	if len(reaped) != 1 || reaped[0] != dead.TrialID {
		t.Fatalf("reaped %v; want only trial %d", reaped, dead.TrialID)
	}
	tr, err := s.GetTrial(dead.TrialID)
	must(t, err)
	if tr.State != goptuna.TrialStateFail || tr.DatetimeComplete.IsZero() {
		t.Errorf("reaped trial = %+v", tr)
	}
	// The late result of the reaped trial is rejected; nothing changes.
	wantErr(t, "late FinishTrial", s.FinishTrial(c, dead.TrialID, goptuna.TrialStateComplete, 1, ""), sweep.ErrTrialFinished)
	wantErr(t, "late Heartbeat", s.Heartbeat(c, dead.TrialID), sweep.ErrTrialFinished)
	wantErr(t, "late report", s.SetTrialIntermediateValue(dead.TrialID, 1, 1), sweep.ErrTrialFinished)
	must(t, s.FinishTrial(c, alive.TrialID, goptuna.TrialStateComplete, 1, ""))
	if again, err := s.ReapStale(c, st.ID, 300*time.Millisecond); err != nil || len(again) != 0 {
		t.Errorf("second reap = %v, %v; want nothing", again, err)
	}
	if tr, _ := s.GetTrial(elsewhere.TrialID); tr.State != goptuna.TrialStateRunning {
		t.Errorf("reaping one study touched another: %+v", tr)
	}
}

func testWorkerIndex(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	a := ensure(t, s, "workers-a", 0)
	b := ensure(t, s, "workers-b", 0)
	var wg sync.WaitGroup
	got := make([]int, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newStore(t)
			idx, err := h.WorkerIndex(c, a.ID, fmt.Sprintf("worker-%d", i))
			if err != nil {
				t.Error(err)
			}
			got[i] = idx
		}()
	}
	wg.Wait()
	sorted := append([]int(nil), got...)
	sort.Ints(sorted)
	for i, v := range sorted {
		if v != i {
			t.Fatalf("indexes %v; want 0..7 each once", got)
		}
	}
	if idx := res(s.WorkerIndex(c, a.ID, "worker-3")).must(t); idx != got[3] {
		t.Errorf("worker-3 asked again got %d; want %d", idx, got[3])
	}
	if idx := res(s.WorkerIndex(c, b.ID, "worker-3")).must(t); idx != 0 {
		t.Errorf("first worker of another study got %d; want 0", idx)
	}
	if _, err := s.WorkerIndex(c, -1, "w"); err == nil {
		t.Error("WorkerIndex on a missing study: want error")
	}
}

func testMetrics(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	st := ensure(t, s, "metrics", 0)
	cl := claim(t, s, st.ID, "w")
	must(t, s.RecordMetrics(c, cl.TrialID, 1, map[string]float64{"train_loss": 2.3, "lr": 0.1, `it's "odd"`: 1}))
	must(t, s.RecordMetrics(c, cl.TrialID, 2, map[string]float64{"train_loss": 1.9}))
	must(t, s.RecordMetrics(c, cl.TrialID, 2, map[string]float64{"train_loss": 1.8})) // re-sent: replaces
	must(t, s.RecordMetrics(c, cl.TrialID, 3, nil))
	if err := s.RecordMetrics(c, -1, 1, map[string]float64{"x": 1}); err == nil {
		t.Error("RecordMetrics on a missing trial: want error")
	}
	mr, ok := s.(MetricsReader)
	if !ok {
		return
	}
	m, err := mr.TrialMetrics(c, cl.TrialID)
	must(t, err)
	if len(m) != 2 || m[1]["train_loss"] != 2.3 || m[1]["lr"] != 0.1 || m[1][`it's "odd"`] != 1 || m[2]["train_loss"] != 1.8 {
		t.Errorf("metrics = %v", m)
	}
}

// testConcurrentClaims: 8 handles (processes) claim on one study with a
// budget of 200 until it is spent: exactly 200 trials, numbers 0..199.
func testConcurrentClaims(t *testing.T, newStore NewStore) {
	const budget, workers = 200, 8
	s := newStore(t)
	c := ctx(t)
	st := ensure(t, s, "concurrent", budget)
	var mu sync.Mutex
	numbers := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		h := newStore(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cl, err := h.ClaimTrial(c, st.ID, fmt.Sprintf("w%d", w), "host")
				if errors.Is(err, sweep.ErrBudgetExhausted) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				numbers[cl.Number]++
				mu.Unlock()
				if err := h.FinishTrial(c, cl.TrialID, goptuna.TrialStateComplete, float64(cl.Number), ""); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(numbers) != budget {
		t.Fatalf("%d distinct numbers; want %d", len(numbers), budget)
	}
	for n := 0; n < budget; n++ {
		if numbers[n] != 1 {
			t.Errorf("number %d claimed %d times", n, numbers[n])
		}
	}
	all, err := s.GetAllTrials(st.ID)
	must(t, err)
	if len(all) != budget {
		t.Errorf("%d trials stored; want %d", len(all), budget)
	}
}

// testGoptunaStudy drives the store through goptuna's own Study, the way
// its Optimize loop uses a Storage (queue pop, suggest, report, tell).
func testGoptunaStudy(t *testing.T, newStore NewStore) {
	s := newStore(t)
	study, err := goptuna.CreateStudy("goptuna", goptuna.StudyOptionStorage(s),
		goptuna.StudyOptionSampler(goptuna.NewRandomSampler(goptuna.RandomSamplerOptionSeed(1))),
		goptuna.StudyOptionPruner(neverPrune{}), goptuna.StudyOptionLogger(nil))
	must(t, err)
	must(t, study.EnqueueTrial(map[string]float64{"x": 0.25}))
	objective := func(tr goptuna.Trial) (float64, error) {
		x, err := tr.SuggestFloat("x", -1, 1)
		if err != nil {
			return 0, err
		}
		opt, err := tr.SuggestCategorical("opt", distCat.Choices)
		if err != nil {
			return 0, err
		}
		if err := tr.ShouldPrune(1, x*x); err != nil {
			return 0, err
		}
		return x*x + float64(len(opt)), nil
	}
	must(t, study.Optimize(objective, 5))
	trials, err := study.GetTrials()
	must(t, err)
	if len(trials) != 5 {
		t.Fatalf("%d trials; want 5", len(trials))
	}
	if trials[0].Params["x"] != 0.25 {
		t.Errorf("enqueued trial ran with x=%v; want 0.25", trials[0].Params["x"])
	}
	for _, tr := range trials {
		if tr.State != goptuna.TrialStateComplete || len(tr.IntermediateValues) != 1 || len(tr.Params) != 2 {
			t.Errorf("trial %d = %+v", tr.Number, tr)
		}
	}
	if _, err := study.GetBestValue(); err != nil {
		t.Error(err)
	}
}

// testConcurrentReads has goroutines read a study through one handle while
// another handle adds and finishes trials: every read is a contiguous
// prefix 0..k-1 whose finished trials are complete, and k never shrinks.
func testConcurrentReads(t *testing.T, newStore NewStore) {
	reader, writer := newStore(t), newStore(t)
	c := ctx(t)
	st := ensure(t, writer, "reads", 0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				all, err := reader.GetAllTrials(st.ID)
				if err != nil {
					t.Error(err)
					return
				}
				if len(all) < last {
					t.Errorf("read %d trials after reading %d", len(all), last)
				}
				last = len(all)
				for i, tr := range all {
					if tr.Number != i {
						t.Errorf("position %d holds trial number %d", i, tr.Number)
						return
					}
					if tr.State == goptuna.TrialStateComplete && (tr.IntermediateValues[1] != float64(i) || tr.Value != float64(i)) {
						t.Errorf("finished trial %d read as %+v", i, tr)
						return
					}
				}
			}
		}()
	}
	for i := 0; i < 40; i++ {
		cl := claim(t, writer, st.ID, "w")
		must(t, writer.SetTrialIntermediateValue(cl.TrialID, 1, float64(cl.Number)))
		must(t, writer.FinishTrial(c, cl.TrialID, goptuna.TrialStateComplete, float64(cl.Number), ""))
	}
	close(done)
	wg.Wait()
	all, err := reader.GetAllTrials(st.ID)
	must(t, err)
	if len(all) != 40 {
		t.Errorf("final read has %d trials; want 40", len(all))
	}
}

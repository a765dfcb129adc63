package sweep_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/objective"
	"sweep/search"
	"sweep/sweep"
	"sweep/sweep/sweeptest"
)

// errRefused is what a write sees while the server is down.
var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

// flakyStore is a sweep.Store whose writes fail with errRefused while
// down is set. calls counts the failed writes, so tests can wait for a
// retry without sleeping. commitThenFail makes the next FinishTrial commit
// and then report errRefused, as a connection lost before the answer does.
type flakyStore struct {
	sweep.Store
	down           atomic.Bool
	commitThenFail atomic.Bool
	failed         atomic.Int64
	failedc        chan struct{} // receives (without blocking) on each failure
}

func newFlaky(s sweep.Store) *flakyStore {
	return &flakyStore{Store: s, failedc: make(chan struct{}, 1000)}
}

func (f *flakyStore) fail() error {
	if !f.down.Load() {
		return nil
	}
	f.failed.Add(1)
	select {
	case f.failedc <- struct{}{}:
	default:
	}
	return fmt.Errorf("set value: %w", errRefused)
}

func (f *flakyStore) SetTrialIntermediateValue(id, step int, v float64) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Store.SetTrialIntermediateValue(id, step, v)
}

func (f *flakyStore) RecordMetrics(ctx context.Context, id, step int, m map[string]float64) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Store.RecordMetrics(ctx, id, step, m)
}

func (f *flakyStore) FinishTrial(ctx context.Context, id int, st goptuna.TrialState, v float64, reason string) error {
	if err := f.fail(); err != nil {
		return err
	}
	if f.commitThenFail.CompareAndSwap(true, false) {
		if err := f.Store.FinishTrial(ctx, id, st, v, reason); err != nil {
			return err
		}
		return errRefused
	}
	return f.Store.FinishTrial(ctx, id, st, v, reason)
}

func (f *flakyStore) ClaimTrial(ctx context.Context, studyID int, worker, host string) (sweep.Claim, error) {
	if err := f.fail(); err != nil {
		return sweep.Claim{}, err
	}
	return f.Store.ClaimTrial(ctx, studyID, worker, host)
}

func (f *flakyStore) Heartbeat(ctx context.Context, id int) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Store.Heartbeat(ctx, id)
}

func (f *flakyStore) GetTrial(id int) (goptuna.FrozenTrial, error) {
	if err := f.fail(); err != nil {
		return goptuna.FrozenTrial{}, err
	}
	return f.Store.GetTrial(id)
}

func (f *flakyStore) GetAllTrials(studyID int) ([]goptuna.FrozenTrial, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return f.Store.GetAllTrials(studyID)
}

func (f *flakyStore) SetTrialParam(id int, name string, v float64, dist interface{}) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Store.SetTrialParam(id, name, v, dist)
}

// waitFailures waits until n more writes have failed.
func (f *flakyStore) waitFailures(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(time.Minute)
	for range n {
		select {
		case <-f.failedc:
		case <-timeout:
			t.Fatalf("no failed write within a minute (%d so far)", f.failed.Load())
		}
	}
}

func newBuffered(s sweep.Store, log *syncBuffer) *sweep.BufferedStore {
	b := sweep.NewBufferedStore(s, log.Logf)
	b.MinBackoff, b.MaxBackoff = time.Millisecond, 10*time.Millisecond
	return b
}

// syncBuffer collects log lines from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(&s.b, format+"\n", args...)
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBufferedStore_Outage(t *testing.T) {
	mem, _, info := setup(t, 5, 1, 0)
	flaky := newFlaky(mem)
	var log syncBuffer
	b := newBuffered(flaky, &log)
	ctx := context.Background()
	cl, err := b.ClaimTrial(ctx, info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetTrialIntermediateValue(cl.TrialID, 1, 0.1); err != nil {
		t.Fatal(err)
	}
	flaky.down.Store(true)
	for step := 2; step <= 4; step++ {
		if err := b.SetTrialIntermediateValue(cl.TrialID, step, float64(step)/10); err != nil {
			t.Fatalf("step %d while down: %v, want buffered", step, err)
		}
		if err := b.RecordMetrics(ctx, cl.TrialID, step, map[string]float64{"loss": float64(step)}); err != nil {
			t.Fatalf("metrics %d while down: %v, want buffered", step, err)
		}
	}
	if n := b.Buffered(); n != 6 {
		t.Errorf("Buffered() = %d, want 6", n)
	}
	finished := make(chan error, 1)
	go func() { finished <- b.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateComplete, 0.4, "") }()
	flaky.waitFailures(t, 3) // FinishTrial keeps retrying while down
	select {
	case err := <-finished:
		t.Fatalf("FinishTrial returned %v while the database was down", err)
	default:
	}
	flaky.down.Store(false)
	if err := <-finished; err != nil {
		t.Fatalf("FinishTrial after the outage: %v", err)
	}
	tr, err := mem.GetTrial(cl.TrialID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.State != goptuna.TrialStateComplete || len(tr.IntermediateValues) != 4 || tr.IntermediateValues[4] != 0.4 {
		t.Errorf("trial after outage: %s values %v, want COMPLETE with steps 1-4", tr.State, tr.IntermediateValues)
	}
	if m := mem.Metrics(cl.TrialID); len(m) != 3 || m[3]["loss"] != 3 {
		t.Errorf("metrics after outage: %v, want steps 2-4", m)
	}
	if n := b.Buffered(); n != 0 {
		t.Errorf("Buffered() = %d after the flush, want 0", n)
	}
	if !strings.Contains(log.String(), "database unreachable") {
		t.Errorf("log lacks the outage line:\n%s", log.String())
	}
}

func TestBufferedStore_BackgroundFlush(t *testing.T) {
	mem, _, info := setup(t, 5, 1, 0)
	flaky := newFlaky(mem)
	var log syncBuffer
	b := newBuffered(flaky, &log)
	cl, err := b.ClaimTrial(context.Background(), info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	flaky.down.Store(true)
	if err := b.SetTrialIntermediateValue(cl.TrialID, 1, 0.5); err != nil {
		t.Fatal(err)
	}
	flaky.waitFailures(t, 2) // the direct write and one background retry
	flaky.down.Store(false)
	deadline := time.Now().Add(time.Minute)
	for b.Buffered() != 0 || !strings.Contains(log.String(), "reachable again") {
		if time.Now().After(deadline) {
			t.Fatalf("buffer never flushed; log:\n%s", log.String())
		}
		time.Sleep(time.Millisecond)
	}
	tr, _ := mem.GetTrial(cl.TrialID)
	if tr.IntermediateValues[1] != 0.5 {
		t.Errorf("values %v, want step 1 written by the flusher", tr.IntermediateValues)
	}
	// Back to writing through: a new value lands at once.
	if err := b.SetTrialIntermediateValue(cl.TrialID, 2, 0.6); err != nil {
		t.Fatal(err)
	}
	if tr, _ := mem.GetTrial(cl.TrialID); tr.IntermediateValues[2] != 0.6 {
		t.Errorf("values %v, want step 2 written through", tr.IntermediateValues)
	}
}

func TestBufferedStore_FinishedTrial(t *testing.T) {
	mem, _, info := setup(t, 5, 1, 0)
	b := newBuffered(newFlaky(mem), &syncBuffer{})
	ctx := context.Background()
	cl, err := b.ClaimTrial(ctx, info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := mem.ReapStale(ctx, info.ID, -time.Second); err != nil || len(ids) != 1 {
		t.Fatalf("reap: %v %v", ids, err)
	}
	// A late report and a late result of a stale trial are rejected at
	// once, not buffered or retried.
	if err := b.SetTrialIntermediateValue(cl.TrialID, 1, 0.5); err == nil || sweep.Transient(err) {
		t.Errorf("late report: %v, want a permanent error", err)
	}
	err = b.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateComplete, 0.5, "")
	if !errors.Is(err, sweep.ErrTrialFinished) {
		t.Errorf("late result: %v, want ErrTrialFinished", err)
	}
	if b.Buffered() != 0 {
		t.Errorf("rejected reports were buffered")
	}
}

func TestBufferedStore_LostAcknowledgement(t *testing.T) {
	mem, _, info := setup(t, 5, 1, 0)
	flaky := newFlaky(mem)
	b := newBuffered(flaky, &syncBuffer{})
	ctx := context.Background()
	cl, err := b.ClaimTrial(ctx, info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	flaky.commitThenFail.Store(true)
	if err := b.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateComplete, 0.5, ""); err != nil {
		t.Errorf("FinishTrial whose first answer was lost: %v, want success", err)
	}
	if tr, _ := mem.GetTrial(cl.TrialID); tr.State != goptuna.TrialStateComplete || tr.Value != 0.5 {
		t.Errorf("trial %s %v", tr.State, tr.Value)
	}
}

func TestBufferedStore_FinishGivesUpWithContext(t *testing.T) {
	mem, _, info := setup(t, 5, 1, 0)
	flaky := newFlaky(mem)
	b := newBuffered(flaky, &syncBuffer{})
	cl, err := b.ClaimTrial(context.Background(), info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	flaky.down.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateComplete, 0.5, "") }()
	flaky.waitFailures(t, 2)
	cancel()
	if err := <-done; !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("FinishTrial after ctx ended: %v, want the last connection error", err)
	}
}

func TestTransient(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{errRefused, true},
		{fmt.Errorf("heartbeat: %w", errRefused), true},
		{context.DeadlineExceeded, true},
		{sqlState("57P01"), true},  // admin shutdown (pg_terminate_backend, restart)
		{sqlState("57P03"), true},  // the database system is starting up
		{sqlState("08006"), true},  // connection failure
		{sqlState("53300"), true},  // too many connections
		{sqlState("40001"), true},  // serialization failure
		{sqlState("23505"), false}, // unique violation
		{sqlState("22P02"), false}, // invalid text representation
		{fmt.Errorf("finish trial 3: %w", sweep.ErrTrialFinished), false},
		{sweep.ErrBudgetExhausted, false},
		{goptuna.ErrTrialCannotBeUpdated, false},
		{context.Canceled, false},
	}
	for _, c := range cases {
		if got := sweep.Transient(c.err); got != c.want {
			t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// sqlState is an error carrying a PostgreSQL SQLSTATE, as lib/pq's does.
type sqlState string

func (s sqlState) Error() string    { return "pq: SQLSTATE " + string(s) }
func (s sqlState) SQLState() string { return string(s) }

// TestWorker_DatabaseOutage runs a worker through a database outage in
// the middle of its trials: every trial completes with all its values,
// none fails, whether the outage met it training (reports buffered),
// pruning (skipped), sampling (retried) or finishing (retried). The
// outage lasts 20 failed calls.
func TestWorker_DatabaseOutage(t *testing.T) {
	raw := `study: outage
direction: maximize
trials: 12
workers: 3
sampler: {type: random, seed: 5}
pruner: {type: median, startup_trials: 2, warmup_steps: 1}
heartbeat: {interval: 0.05, grace: 120}
objective: {type: synthetic, epochs: 5}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
`
	spec, err := search.ParseSpec("outage.yaml", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	mem := sweeptest.New()
	info, _, err := sweep.EnsureStudy(context.Background(), mem, spec, []byte(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	flaky := newFlaky(mem)
	var reports atomic.Int64
	outage := make(chan struct{})
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		v := 0.0
		for step := 1; step <= 5; step++ {
			v = 1 - math.Exp(-float64(step)*p["lr"].(float64))
			prune, err := r.Report(step, v)
			if err != nil {
				return objective.Result{}, err
			}
			if prune {
				return objective.Result{}, objective.ErrPruned
			}
			if reports.Add(1) == 10 {
				close(outage) // the database goes away mid-trial
			}
		}
		return objective.Result{Value: v}, nil
	})
	var log syncBuffer
	store := newBuffered(flaky, &log)
	go func() {
		<-outage
		flaky.down.Store(true)
		for range 20 { // the outage lasts 20 failed calls
			<-flaky.failedc
		}
		flaky.down.Store(false)
	}()
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&bytes.Buffer{}, false, 3, nil)}
	sum, err := w.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 0 || sum.Lost != 0 || sum.Total() != 12 {
		t.Errorf("summary %+v, want 12 trials, none failed or lost", sum)
	}
	ts := trials(t, mem, info, 12)
	for _, tr := range ts {
		if tr.State == goptuna.TrialStateComplete && len(tr.IntermediateValues) != 5 {
			t.Errorf("trial %d COMPLETE with %d values, want 5", tr.Number, len(tr.IntermediateValues))
		}
		for step := 1; step <= len(tr.IntermediateValues); step++ {
			if _, ok := tr.IntermediateValues[step]; !ok {
				t.Errorf("trial %d lost its value of step %d: %v", tr.Number, step, tr.IntermediateValues)
			}
		}
	}
	if flaky.failed.Load() < 20 || !strings.Contains(log.String(), "database unreachable") {
		t.Errorf("the outage did not happen (%d failed writes); log:\n%s", flaky.failed.Load(), log.String())
	}
}

// TestBufferedStore_Reads: the sampler's reads wait for the database;
// the pruner's read of a trial whose reports are buffered fails at once.
func TestBufferedStore_Reads(t *testing.T) {
	mem, _, info := setup(t, 5, 1, 0)
	flaky := newFlaky(mem)
	b := newBuffered(flaky, &syncBuffer{})
	cl, err := b.ClaimTrial(context.Background(), info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	flaky.down.Store(true)
	got := make(chan error, 1)
	go func() {
		ts, err := b.GetAllTrials(info.ID)
		if err == nil && len(ts) != 1 {
			err = fmt.Errorf("%d trials, want 1", len(ts))
		}
		got <- err
	}()
	flaky.waitFailures(t, 3)
	select {
	case err := <-got:
		t.Fatalf("GetAllTrials returned %v while the database was down", err)
	default:
	}
	if err := b.SetTrialIntermediateValue(cl.TrialID, 1, 0.5); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetTrial(cl.TrialID); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("GetTrial of a buffering trial: %v, want the connection error at once", err)
	}
	flaky.down.Store(false)
	if err := <-got; err != nil {
		t.Errorf("GetAllTrials after the outage: %v", err)
	}
}

// TestReap_AfterOwnFault: a worker that just lost the database does not
// reap, because the trials it would judge belong to workers cut off like
// itself; one that saw no fault does.
func TestReap_AfterOwnFault(t *testing.T) {
	mem, spec, info := setup(t, 5, 1, 0)
	flaky := newFlaky(mem)
	cut := newBuffered(flaky, &syncBuffer{})
	ctx := context.Background()
	if _, err := cut.ClaimTrial(ctx, info.ID, "w", "h"); err != nil {
		t.Fatal(err)
	}
	flaky.down.Store(true)
	if err := cut.Heartbeat(ctx, 1); err == nil {
		t.Fatal("heartbeat succeeded while down")
	}
	flaky.down.Store(false)
	mem.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } // every heartbeat is old
	r, err := sweep.Reap(ctx, cut, info.ID, time.Hour, spec.Retry)
	if err != nil || len(r.Stale) != 0 {
		t.Errorf("Reap right after a fault: %+v, %v; want nothing reaped", r, err)
	}
	r, err = sweep.Reap(ctx, newBuffered(mem, &syncBuffer{}), info.ID, time.Hour, spec.Retry)
	if err != nil || len(r.Stale) != 1 {
		t.Errorf("Reap without a fault: %+v, %v; want the silent trial reaped", r, err)
	}
}

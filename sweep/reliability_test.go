package sweep_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sweep/internal/pgtest"
	"sweep/objective"
	"sweep/search"
	"sweep/sweep"
	"sweep/sweep/postgres"
)

// pgStudy opens a Storage on a fresh database and creates the study of raw.
func pgStudy(t *testing.T, raw string) (*postgres.Storage, *sql.DB, *search.Spec, sweep.StudyInfo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := pgtest.DSN(t)
	store, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	admin, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	spec, err := search.ParseSpec("r.yaml", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	info, _, err := sweep.EnsureStudy(ctx, store, spec, []byte(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	return store, admin, spec, info
}

const reliabilityYAML = `study: reliability
direction: maximize
trials: %TRIALS%
workers: 1
sampler: {type: random, seed: 9}
heartbeat: {interval: 0.1, grace: 1}
retry: {max: 1, inherit_intermediate: true}
objective: {type: synthetic, epochs: 3}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
`

func reliabilitySpec(trials string) string {
	return strings.Replace(reliabilityYAML, "%TRIALS%", trials, 1)
}

// frozenStore is a store whose heartbeats of one trial silently stop, as
// those of a process stopped with SIGSTOP (or stuck in a long GC pause,
// or cut off by a network partition) do. Its result arrives late.
type frozenStore struct {
	sweep.Store
	frozen atomic.Int64 // trial ID whose heartbeats are swallowed; 0 = none
}

func (f *frozenStore) Heartbeat(ctx context.Context, id int) error {
	if int64(id) == f.frozen.Load() {
		return nil
	}
	return f.Store.Heartbeat(ctx, id)
}

func (f *frozenStore) Unwrap() sweep.Store { return f.Store }

// TestReliability_StaleLateResult freezes a trial's heartbeats: the
// worker's reaper marks it FAIL "stale" after the grace period and queues
// its retry; the frozen trial's late report and late result are then
// rejected with ErrTrialFinished and a log line, and the retry runs with
// the same params, linked to the original.
func TestReliability_StaleLateResult(t *testing.T) {
	store, admin, spec, info := pgStudy(t, reliabilitySpec("2"))
	fs := &frozenStore{Store: store}
	var lateReport error
	calls := 0
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		calls++
		if _, err := r.Report(1, 0.3); err != nil {
			return objective.Result{}, err
		}
		if calls > 1 {
			return objective.Result{Value: 0.9}, nil // the retry runs normally
		}
		// The first trial hangs without heartbeats until it is reaped.
		_, number := r.(objective.TrialIdentifier).TrialID()
		var id int
		if err := admin.QueryRowContext(ctx, `SELECT id FROM trials WHERE number = $1`, number).Scan(&id); err != nil {
			return objective.Result{}, err
		}
		fs.frozen.Store(int64(id))
		waitState(t, admin, number, "FAIL")
		_, lateReport = r.Report(2, 0.5)
		return objective.Result{Value: 0.5}, nil
	})
	var log syncBuffer
	w := &sweep.Worker{Store: fs, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&log, false, 1, nil)}
	if _, err := w.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(lateReport, sweep.ErrTrialFinished) {
		t.Errorf("late report after stale-marking: %v, want ErrTrialFinished", lateReport)
	}
	if !strings.Contains(log.String(), "trial 0: already finished elsewhere (marked stale?)") &&
		!strings.Contains(log.String(), "trial 0: marked stale by another worker") {
		t.Errorf("log has no line about the rejected late result:\n%s", log.String())
	}
	rows := trialRows(t, admin)
	if len(rows) != 2 {
		t.Fatalf("trials %+v, want the stale one and its retry", rows)
	}
	var late string
	if err := admin.QueryRow(`SELECT value FROM trial_user_attrs WHERE trial_id = $1 AND key = 'late_value'`, rows[0].id).Scan(&late); err != nil || late != "0.5" {
		t.Errorf("late_value of the stale trial = %q (%v), want its late result 0.5 kept", late, err)
	}
	if r := rows[0]; r.state != "FAIL" || r.reason != "stale" || r.steps != 1 {
		t.Errorf("trial 0 = %+v, want FAIL stale with only the step reported in time", r)
	}
	if r := rows[1]; r.state != "COMPLETE" || r.retryOf != rows[0].id || r.attempt != 1 || r.lr != rows[0].lr {
		t.Errorf("trial 1 = %+v, want a COMPLETE retry of trial 0 (id %d) with its params", r, rows[0].id)
	}
}

// trialRow is one trial as the tests read it back.
type trialRow struct {
	id, number, attempt, retryOf, steps int
	state, reason                       string
	lr                                  float64
}

func trialRows(t *testing.T, db *sql.DB) []trialRow {
	t.Helper()
	rows, err := db.Query(`SELECT t.id, t.number, t.attempt, COALESCE(t.retry_of, 0), t.state, COALESCE(t.reason, ''),
		(SELECT count(*) FROM trial_values v WHERE v.trial_id = t.id),
		COALESCE((SELECT value FROM trial_params p WHERE p.trial_id = t.id AND p.name = 'lr'), 0)
		FROM trials t ORDER BY t.number`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []trialRow
	for rows.Next() {
		var r trialRow
		if err := rows.Scan(&r.id, &r.number, &r.attempt, &r.retryOf, &r.state, &r.reason, &r.steps, &r.lr); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// waitState waits until trial number has state.
func waitState(t *testing.T, db *sql.DB, number int, state string) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var s string
		if db.QueryRow(`SELECT state FROM trials WHERE number = $1`, number).Scan(&s) == nil && s == state {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("trial %d never became %s", number, state)
}

// TestReliability_RetryInheritsValues fails a trial half way: its retry
// is a WAITING copy with the same params and the values reported so far,
// taken before any new trial and linked to the original.
func TestReliability_RetryInheritsValues(t *testing.T) {
	store, admin, spec, info := pgStudy(t, reliabilitySpec("3"))
	var inherited []int
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		_, number := r.(objective.TrialIdentifier).TrialID()
		if number == 1 {
			// The retry of trial 0 starts with trial 0's values stored.
			rows, err := admin.QueryContext(ctx, `SELECT step FROM trial_values v JOIN trials t ON t.id = v.trial_id WHERE t.number = 1 ORDER BY step`)
			if err != nil {
				return objective.Result{}, err
			}
			for rows.Next() {
				var s int
				rows.Scan(&s)
				inherited = append(inherited, s)
			}
			rows.Close()
		}
		for step := 1; step <= 3; step++ {
			if _, err := r.Report(step, float64(step)/10); err != nil {
				return objective.Result{}, err
			}
			if number == 0 && step == 2 {
				return objective.Result{}, errors.New("cuda: out of memory")
			}
		}
		return objective.Result{Value: 0.3}, nil
	})
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj}
	if _, err := w.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if len(inherited) != 2 || inherited[0] != 1 || inherited[1] != 2 {
		t.Errorf("retry started with steps %v, want [1 2] inherited", inherited)
	}
	rows := trialRows(t, admin)
	if len(rows) != 3 {
		t.Fatalf("%d trials, want 3 (the budget counts the retry)", len(rows))
	}
	if rows[0].state != "FAIL" || rows[0].reason != "cuda: out of memory" {
		t.Errorf("trial 0 = %+v, want FAIL with the objective's error", rows[0])
	}
	if r := rows[1]; r.retryOf != rows[0].id || r.attempt != 1 || r.lr != rows[0].lr || r.state != "COMPLETE" || r.steps != 3 {
		t.Errorf("trial 1 = %+v, want the COMPLETE retry of trial 0 with its params", r)
	}
	if r := rows[2]; r.retryOf != 0 || r.attempt != 0 {
		t.Errorf("trial 2 = %+v, want a fresh trial", r)
	}
}

// TestReliability_IdleConnectionsDropped runs a long trial while every
// idle connection of the worker's pool is terminated on the server
// (pg_terminate_backend, as a firewall or a DBA does to idle sessions):
// the trial completes with every value it reported.
func TestReliability_IdleConnectionsDropped(t *testing.T) {
	store, admin, spec, info := pgStudy(t, strings.Replace(reliabilitySpec("1"), "interval: 0.1, grace: 1", "interval: 0.2, grace: 30", 1))
	admin.SetMaxOpenConns(1)
	kill := func() int {
		var n int
		err := admin.QueryRow(`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle') k`).Scan(&n)
		if err != nil {
			t.Errorf("terminate idle connections: %v", err)
		}
		return n
	}
	killed := 0
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		for step := 1; step <= 6; step++ {
			killed += kill() // a long epoch: the pool sits idle and is cut
			if _, err := r.Report(step, float64(step)/10); err != nil {
				return objective.Result{}, err
			}
			if rec, ok := r.(objective.MetricsRecorder); ok {
				if err := rec.RecordMetrics(step, map[string]float64{"loss": 1 / float64(step)}); err != nil {
					return objective.Result{}, err
				}
			}
		}
		killed += kill()
		return objective.Result{Value: 0.6}, nil
	})
	var log bytes.Buffer
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&log, false, 1, nil)}
	sum, err := w.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no idle connection was terminated: the test tested nothing")
	}
	rows := trialRows(t, admin)
	if sum.Complete != 1 || len(rows) != 1 || rows[0].state != "COMPLETE" || rows[0].steps != 6 {
		t.Errorf("summary %+v, trials %+v: want one COMPLETE trial with 6 values\n%s", sum, rows, log.String())
	}
	var metrics int
	if err := admin.QueryRow(`SELECT count(*) FROM trial_metrics`).Scan(&metrics); err != nil {
		t.Fatal(err)
	}
	if metrics != 6 {
		t.Errorf("%d metric rows, want 6", metrics)
	}
	t.Logf("%d idle connections terminated during the trial; worker log:\n%s", killed, log.String())
}

// TestReliability_HeartbeatOwnConnection holds every connection of the
// storage's main pool in open transactions: heartbeats and reaping still
// get through on their own connection.
func TestReliability_HeartbeatOwnConnection(t *testing.T) {
	store, _, _, info := pgStudy(t, reliabilitySpec("3"))
	ctx := context.Background()
	cl, err := store.ClaimTrial(ctx, info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	var held []*sql.Tx
	defer func() {
		for _, tx := range held {
			tx.Rollback()
		}
	}()
	for range postgres.DefaultMaxOpenConns - 1 {
		tx, err := store.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, tx)
	}
	// The main pool is exhausted: a query on it waits.
	busy, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := store.DB().ExecContext(busy, `SELECT 1`); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("query on the exhausted pool: %v, want it to wait", err)
	}
	beat, cancel2 := context.WithTimeout(ctx, 30*time.Second)
	defer cancel2()
	if err := store.Heartbeat(beat, cl.TrialID); err != nil {
		t.Errorf("heartbeat with the main pool exhausted: %v", err)
	}
	if _, err := store.ReapStale(beat, info.ID, time.Hour); err != nil {
		t.Errorf("reap with the main pool exhausted: %v", err)
	}
}

// TestReliability_ReapRepairsLostRetry is TestReap_RepairsRetryLostBetweenStatements
// on PostgreSQL: a trial marked FAIL "stale" whose retry was never queued
// gets it from the next Reap, once.
func TestReliability_ReapRepairsLostRetry(t *testing.T) {
	store, admin, _, info := pgStudy(t, reliabilitySpec("5"))
	ctx := context.Background()
	cl, err := store.ClaimTrial(ctx, info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, `UPDATE trials SET state = 'FAIL', reason = 'stale', finished_at = now() WHERE id = $1`, cl.TrialID); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 0} {
		r, err := sweep.Reap(ctx, store, info.ID, time.Hour, search.RetrySpec{Max: 1})
		if err != nil || len(r.Retried) != want {
			t.Fatalf("reap %d = %+v, %v: want %d retry queued", i, r, err, want)
		}
	}
	var n int
	if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM trials WHERE retry_of = $1 AND state = 'WAITING'`, cl.TrialID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d WAITING retries of the stale trial (%v), want 1", n, err)
	}
}

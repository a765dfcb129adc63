package sweep_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/search"
	"sweep/sweep"
)

// Reap on the in-memory store: a stale original is retried once, a stale
// retry that used up the policy is not.
func TestReap_RetriesStaleTrialsWithinPolicy(t *testing.T) {
	store, _, info := setup(t, 10, 1, 1)
	ctx := context.Background()
	claim, err := store.ClaimTrial(ctx, info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	policy := search.RetrySpec{Max: 1}
	r, err := sweep.Reap(ctx, store, info.ID, -time.Second, policy)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Stale) != 1 || r.Stale[0] != claim.TrialID || len(r.Retried) != 1 {
		t.Fatalf("first reap %+v, want trial %d stale and retried", r, claim.TrialID)
	}
	retry, err := store.ClaimTrial(ctx, info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	if retry.TrialID != r.Retried[0] || retry.Attempt != 1 || retry.RetryOf != claim.TrialID {
		t.Fatalf("claimed %+v, want the retry (attempt 1 of trial %d)", retry, claim.TrialID)
	}
	r, err = sweep.Reap(ctx, store, info.ID, -time.Second, policy)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Stale) != 1 || len(r.Retried) != 0 {
		t.Fatalf("second reap %+v, want the retry stale and not retried again (max 1)", r)
	}
}

// A reaper that dies between marking a trial FAIL "stale" and queueing its
// retry (two statements) must not lose the retry: the next Reap finds the
// FAIL trial without a copy and queues it, once.
func TestReap_RepairsRetryLostBetweenStatements(t *testing.T) {
	store, _, info := setup(t, 10, 1, 1)
	ctx := context.Background()
	claim, err := store.ClaimTrial(ctx, info.ID, "w", "h")
	if err != nil {
		t.Fatal(err)
	}
	// The first statement only, as a reaper killed right after it leaves it.
	if ids, err := store.ReapStale(ctx, info.ID, -time.Second); err != nil || len(ids) != 1 {
		t.Fatalf("ReapStale = %v, %v", ids, err)
	}
	policy := search.RetrySpec{Max: 1}
	r, err := sweep.Reap(ctx, store, info.ID, time.Hour, policy)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Stale) != 0 || len(r.Retried) != 1 {
		t.Fatalf("reap after the lost retry = %+v, want nothing stale and one retry queued", r)
	}
	if r, err = sweep.Reap(ctx, store, info.ID, time.Hour, policy); err != nil || len(r.Retried) != 0 {
		t.Fatalf("second reap = %+v, %v: want no second retry", r, err)
	}
	retry, err := store.ClaimTrial(ctx, info.ID, "w", "h")
	if err != nil || retry.RetryOf != claim.TrialID || retry.Attempt != 1 {
		t.Fatalf("claimed %+v, %v: want the retry of trial id %d", retry, err, claim.TrialID)
	}
}

// TestWorker_StaysToReap: a worker whose study's budget is spent does not
// leave while another worker's trial is RUNNING: when that worker is dead
// (here it claimed trial 0 and never beat), the staying worker reaps the
// trial after the grace period, so nothing is left RUNNING once the last
// worker is gone.
func TestWorker_StaysToReap(t *testing.T) {
	store, spec, info := setup(t, 2, 1, 0)
	ctx := context.Background()
	dead, err := store.ClaimTrial(ctx, info.ID, "dead", "h")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: synthetic(t, spec), Display: sweep.NewDisplay(&log, false, 1, nil)}
	if _, err := w.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tr, err := store.GetTrial(dead.TrialID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.State != goptuna.TrialStateFail || store.Reason(dead.TrialID) != "stale" {
		t.Fatalf("dead worker's trial %s (%q) after the last worker left, want FAIL stale\n%s", tr.State, store.Reason(dead.TrialID), log.String())
	}
}

package sweep_test

import (
	"context"
	"testing"
	"time"

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

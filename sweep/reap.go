package sweep

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sweep/search"
)

// TrialAttempter is implemented by stores that can say which attempt a
// trial is (0 for an original, n for its n-th retry) and which trial it
// re-runs. Reap needs it to apply the retry limit to trials it did not run
// itself; sweep/postgres.Storage implements it.
type TrialAttempter interface {
	TrialAttempt(ctx context.Context, trialID int) (attempt, retryOf int, err error)
}

// Reaped is what one Reap call did.
type Reaped struct {
	Stale   []int // IDs of the trials marked FAIL "stale"
	Retried []int // IDs of the WAITING copies this call enqueued for them
}

// Reap marks the study's RUNNING trials whose heartbeat is older than
// grace as FAIL with reason "stale" (one compare-and-set in the store, so
// a late result of such a trial is rejected with ErrTrialFinished), then
// enqueues a retry of each per policy: while its attempt is below
// policy.Max and the budget allows. Any worker and `sweep status` may call
// it at any time; retries are idempotent (RetryTrial makes at most one
// copy per trial), so concurrent reapers agree.
//
// A store that does not implement TrialAttempter (directly or through
// Unwrap) gets no retries for stale trials.
//
// When store saw a connection error less than grace ago (a
// BufferedStore's LastFault), Reap reaps nothing: after an outage longer
// than grace every heartbeat looks old, yet the workers behind them are
// alive and cut off just like this one; they refresh their heartbeats
// within an interval of the database coming back.
func Reap(ctx context.Context, store Store, studyID int, grace time.Duration, policy search.RetrySpec) (Reaped, error) {
	if f, ok := store.(interface{ LastFault() time.Time }); ok && time.Since(f.LastFault()) < grace {
		return Reaped{}, nil
	}
	ids, err := store.ReapStale(ctx, studyID, grace)
	if err != nil {
		return Reaped{}, fmt.Errorf("reap stale trials: %w", err)
	}
	r := Reaped{Stale: ids}
	if policy.Max <= 0 || len(ids) == 0 {
		return r, nil
	}
	att := attempter(store)
	if att == nil {
		return r, nil
	}
	var errs []error
	for _, id := range ids {
		attempt, _, err := att.TrialAttempt(ctx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("retry stale trial id %d: %w", id, err))
			continue
		}
		if attempt >= policy.Max {
			continue
		}
		newID, created, err := store.RetryTrial(ctx, id, policy.InheritIntermediate)
		switch {
		case errors.Is(err, ErrBudgetExhausted):
		case err != nil:
			errs = append(errs, fmt.Errorf("retry stale trial id %d: %w", id, err))
		case created:
			r.Retried = append(r.Retried, newID)
		}
	}
	return r, errors.Join(errs...)
}

// attempter finds a TrialAttempter in store or the stores it wraps.
func attempter(store Store) TrialAttempter {
	for store != nil {
		if a, ok := store.(TrialAttempter); ok {
			return a
		}
		u, ok := store.(interface{ Unwrap() Store })
		if !ok {
			return nil
		}
		store = u.Unwrap()
	}
	return nil
}

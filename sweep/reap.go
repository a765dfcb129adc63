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

// UnretriedLister is implemented by stores that can list a study's FAIL
// trials below a retry attempt that have no retry copy yet. Reap uses it
// to repair a retry lost between marking a trial FAIL and queueing its
// copy (two statements: a reaper or a worker dying in between would
// otherwise lose the retry for good); sweep/postgres.Storage implements it.
type UnretriedLister interface {
	UnretriedFailures(ctx context.Context, studyID, belowAttempt int) ([]int, error)
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
// policy.Max and the budget allows. With a store that implements
// UnretriedLister it retries every FAIL trial of the study that lacks its
// retry, so a retry lost between the two statements (or between a slot's
// FinishTrial and RetryTrial) is queued by the next reap. Any worker and `sweep status` may call
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
	if policy.Max <= 0 {
		return r, nil
	}
	var errs []error
	if l, ok := find[UnretriedLister](store); ok {
		// Every FAIL trial without its retry, the ones just reaped included:
		// this also finds those whose retry a dead reaper or worker never
		// queued.
		if ids, err = l.UnretriedFailures(ctx, studyID, policy.Max); err != nil {
			errs = append(errs, fmt.Errorf("list unretried failures: %w", err))
			ids = r.Stale
		}
	}
	att, ok := find[TrialAttempter](store)
	if !ok {
		return r, errors.Join(errs...)
	}
	for _, id := range ids {
		attempt, _, err := att.TrialAttempt(ctx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("retry failed trial id %d: %w", id, err))
			continue
		}
		if attempt >= policy.Max {
			continue
		}
		newID, created, err := store.RetryTrial(ctx, id, policy.InheritIntermediate)
		switch {
		case errors.Is(err, ErrBudgetExhausted):
			return r, errors.Join(errs...) // no budget for any other either
		case err != nil:
			errs = append(errs, fmt.Errorf("retry failed trial id %d: %w", id, err))
		case created:
			r.Retried = append(r.Retried, newID)
		}
	}
	return r, errors.Join(errs...)
}

// find finds an implementation of the optional interface T in store or
// the stores it wraps (Unwrap).
func find[T any](store Store) (T, bool) {
	for store != nil {
		if a, ok := store.(T); ok {
			return a, true
		}
		u, ok := store.(interface{ Unwrap() Store })
		if !ok {
			break
		}
		store = u.Unwrap()
	}
	var zero T
	return zero, false
}

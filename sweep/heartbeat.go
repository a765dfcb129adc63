package sweep

import (
	"context"
	"errors"
	"sync"
	"time"
)

// heartbeat refreshes one RUNNING trial's heartbeat_at every interval, on
// its own goroutine so that a long epoch or a blocked objective cannot
// starve it: silence then really means the process is gone. When the store
// says the trial is no longer RUNNING (another worker marked it stale), lost
// is called once and the heartbeat stops.
type heartbeat struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// startHeartbeat starts beating for trialID; logf reports transient errors.
func startHeartbeat(ctx context.Context, store Store, trialID int, interval time.Duration, lost func(), logf func(string, ...any)) *heartbeat {
	ctx, cancel := context.WithCancel(ctx)
	h := &heartbeat{cancel: cancel}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := store.Heartbeat(ctx, trialID)
			switch {
			case err == nil, ctx.Err() != nil:
			case errors.Is(err, ErrTrialFinished):
				lost()
				return
			default:
				logf("heartbeat of trial id %d: %v (will retry)", trialID, err)
			}
		}
	}()
	return h
}

// stop ends the heartbeat and waits for its goroutine.
func (h *heartbeat) stop() {
	h.cancel()
	h.done.Wait()
}

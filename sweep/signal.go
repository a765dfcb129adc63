package sweep

import (
	"context"
	"os"
)

// Interrupts implements the two-stage stop. The first signal on sigs, or
// the end of parent, closes drain: slots take no new trials and let running
// ones finish. The second signal cancels the returned context: running
// trials stop now and are marked FAIL with reason "interrupted". The
// returned context ignores parent's cancellation (parent ending only
// drains), so database writes that record the outcome still succeed.
// stop releases the watcher; call it when done.
func Interrupts(parent context.Context, sigs <-chan os.Signal, logf func(string, ...any)) (ctx context.Context, drain <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	drainc := make(chan struct{})
	done := make(chan struct{})
	go func() {
		drained, signals := false, 0
		startDrain := func() {
			if !drained {
				drained = true
				close(drainc)
				logf("interrupt: finishing running trials, starting no new ones (interrupt again to stop now)")
			}
		}
		parentDone := parent.Done()
		for {
			select {
			case <-done:
				return
			case <-parentDone:
				parentDone = nil
				startDrain()
			case <-sigs:
				// Count signals, not drains: with signal.NotifyContext in
				// main, one Ctrl-C both ends parent and arrives here.
				if signals++; signals >= 2 {
					logf("interrupt: stopping now; running trials are marked FAIL (interrupted)")
					cancel()
					return
				}
				startDrain()
			}
		}
	}()
	return ctx, drainc, func() {
		close(done)
		cancel()
	}
}

package sweep

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/c-bata/goptuna"
)

// ReasonInterrupted is the FAIL reason of trials stopped by a second
// interrupt. Such failures are the user's doing, not the trial's, so
// stop.max_failed does not count them.
const ReasonInterrupted = "interrupted"

// StopRecorder is implemented by stores that keep why a study stopped
// taking trials before its budget was spent (StudyInfo.StopReason, shown
// by `sweep status`); sweep/postgres.Storage implements it. Without it the
// reason is only logged.
type StopRecorder interface {
	// RecordStop sets the study's stop reason unless one is set already:
	// the first worker to see a condition wins, later calls change nothing.
	RecordStop(ctx context.Context, studyID int, reason string) error
}

// FailureCounter is implemented by stores that count a study's FAIL
// trials other than interrupted ones (ReasonInterrupted), which is what
// stop.max_failed limits; sweep/postgres.Storage implements it. Without it
// every FAIL trial counts.
type FailureCounter interface {
	CountFailures(ctx context.Context, studyID int) (int, error)
}

// stopReason evaluates the stored stop reason and the spec's stop
// conditions before a claim: "" while the study may take new trials, else
// why not. Timeout uses the worker's clock against the study's creation
// time in the database, so the machines' clocks should agree (NTP) to
// within what the timeout can tolerate.
func (w *Worker) stopReason(ctx context.Context) (string, error) {
	// A stop recorded elsewhere (sweep dashboard's stop button, or
	// another worker's condition) ends this worker's claims too. Errors
	// leave the decision to the spec's conditions and the next claim.
	if info, err := w.Store.Study(ctx, w.Study.Name); err == nil && info.ID == w.Study.ID && info.StopReason != "" {
		return info.StopReason, nil
	}
	st := w.Spec.Stop
	if st.Timeout > 0 {
		if ran := w.Now().Sub(w.Study.Created); ran >= st.Timeout {
			return fmt.Sprintf("timeout: the study has run %s (stop.timeout %s)", ran.Round(time.Second), st.Timeout), nil
		}
	}
	if st.MaxFailed > 0 {
		n, err := w.failures(ctx)
		if err != nil {
			return "", err
		}
		if n >= st.MaxFailed {
			return fmt.Sprintf("max_failed: %d trials failed (stop.max_failed %d)", n, st.MaxFailed), nil
		}
	}
	if st.Target != nil {
		best, err := w.Store.GetBestTrial(w.Study.ID)
		if err != nil || best.State != goptuna.TrialStateComplete {
			return "", nil // no COMPLETE trial yet (or the next claim reports the store's trouble)
		}
		cmp, reached := "≥", best.Value >= *st.Target
		if w.Spec.Direction == "minimize" {
			cmp, reached = "≤", best.Value <= *st.Target
		}
		if reached {
			return fmt.Sprintf("target: trial %d reached %s=%s (stop.target %s %s)", best.Number, w.Spec.Metric,
				strconv.FormatFloat(best.Value, 'g', 6, 64), cmp, strconv.FormatFloat(*st.Target, 'g', -1, 64)), nil
		}
	}
	return "", nil
}

// failures counts the study's FAIL trials for stop.max_failed.
func (w *Worker) failures(ctx context.Context) (int, error) {
	if c, ok := find[FailureCounter](w.Store); ok {
		return c.CountFailures(ctx, w.Study.ID)
	}
	trials, err := w.Store.GetAllTrials(w.Study.ID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range trials {
		if t.State == goptuna.TrialStateFail {
			n++
		}
	}
	return n, nil
}

// stop records once that the study stopped taking trials, and why.
func (w *Worker) stop(ctx context.Context, reason string) {
	w.mu.Lock()
	first := w.summary.Stopped == ""
	if first {
		w.summary.Stopped = reason
	}
	w.mu.Unlock()
	if !first {
		return
	}
	w.Display.Logf("study stopped taking trials: %s", reason)
	if r, ok := find[StopRecorder](w.Store); ok {
		if err := r.RecordStop(ctx, w.Study.ID, reason); err != nil {
			w.Display.Logf("record stop reason: %v", err)
		}
	}
}

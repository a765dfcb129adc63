package sweep

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"sweep/objective"
)

// reporter is the objective.Reporter of one trial: it stores each
// intermediate value, then asks the study's pruner, which reads the stored
// values of all trials so that every worker judges alike. It also records
// named metrics (objective.MetricsRecorder) and tells the objective its
// study and trial number (objective.TrialIdentifier).
type reporter struct {
	slot    *slot
	ctx     context.Context
	trialID int
	number  int
	step    int
	last    float64      // last reported value; NaN before the first report
	own     map[int]bool // steps this run reported (not inherited from a failed attempt)
}

var (
	_ objective.Reporter        = (*reporter)(nil)
	_ objective.MetricsRecorder = (*reporter)(nil)
	_ objective.TrialIdentifier = (*reporter)(nil)
	_ objective.LogWriter       = (*reporter)(nil)
)

// Report implements objective.Reporter.
func (r *reporter) Report(step int, value float64) (bool, error) {
	st := r.slot.w.Store
	if err := st.SetTrialIntermediateValue(r.trialID, step, value); err != nil {
		return false, fmt.Errorf("store intermediate value: %w", err)
	}
	r.step, r.last = step, value
	if r.own == nil {
		r.own = map[int]bool{}
	}
	r.own[step] = true
	r.slot.w.Display.TrialReported(r.slot.index, step, value)
	pruner := r.slot.study.Pruner
	if pruner == nil {
		return false, nil
	}
	frozen, err := st.GetTrial(r.trialID)
	if err == nil {
		frozen.IntermediateValues = r.ownValues(frozen.IntermediateValues)
		var prune bool
		if prune, err = pruner.Prune(r.slot.study, frozen); err == nil {
			return prune, nil
		}
	}
	if Transient(err) {
		// The database is unreachable (values are buffered): keep
		// training rather than lose the trial; the next report asks again.
		r.slot.w.Display.Logf("trial %d step %d: pruner skipped: %v", r.number, step, err)
		return false, nil
	}
	return false, fmt.Errorf("prune: %w", err)
}

// ownValues keeps the values of the steps this run reported. A retry
// with retry.inherit_intermediate starts with its failed attempt's values,
// but its objective starts again at step 1: the inherited values are
// history (for reports and plots, overwritten step by step as the rerun
// reports), and the pruner judges the rerun on its own reports only, at
// the step it just reported. Otherwise the pruners would read the dead
// run's highest step as the current one, and ASHA would record rungs the
// rerun has not reached, from stale values.
func (r *reporter) ownValues(all map[int]float64) map[int]float64 {
	out := make(map[int]float64, len(r.own))
	for s, v := range all {
		if r.own[s] {
			out[s] = v
		}
	}
	return out
}

// RecordMetrics implements objective.MetricsRecorder.
func (r *reporter) RecordMetrics(step int, metrics map[string]float64) error {
	return r.slot.w.Store.RecordMetrics(r.ctx, r.trialID, step, metrics)
}

// TrialID implements objective.TrialIdentifier.
func (r *reporter) TrialID() (string, int) { return r.slot.w.Spec.Study, r.number }

// LogWriter implements objective.LogWriter: each line goes to the
// display's log as "trial N: line".
func (r *reporter) LogWriter() io.Writer {
	return &logLines{logf: r.slot.w.Display.Logf, prefix: fmt.Sprintf("trial %d: ", r.number)}
}

// logLines turns writes into log lines, keeping an unfinished line until
// its end arrives. It is used by one goroutine at a time, as
// objective.Reporter is.
type logLines struct {
	logf    func(format string, args ...any)
	prefix  string
	partial []byte
}

func (l *logLines) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.logf("%s%s", l.prefix, l.partial[:i])
		l.partial = l.partial[i+1:]
	}
}

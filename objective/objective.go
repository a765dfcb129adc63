// Package objective turns a trial's parameters into a measured value.
//
// An Objective knows nothing about studies, storage or samplers: it receives
// concrete parameter values and a Reporter, runs (a synthetic curve, a
// training run), and returns the final value. Pruning decisions come back
// through the Reporter; the objective only has to stop promptly when told.
package objective

import (
	"context"
	"errors"
	"io"
)

// Params holds one trial's parameter values by name. Values are float64,
// int, string or bool, already converted from the search space's internal
// representation. Conditional parameters that were not sampled are absent.
type Params map[string]any

// Reporter receives intermediate values while an objective runs.
//
// Report records value at step (steps are epochs for the built-in objectives,
// counted from 1) and reports whether the trial should stop now. When prune
// is true the objective returns promptly with ErrPruned (wrapped or not).
// A Reporter is used by one goroutine at a time.
type Reporter interface {
	Report(step int, value float64) (prune bool, err error)
}

// MetricsRecorder is an optional interface a Reporter may implement to store
// named per-step metrics (train_loss, val_loss, lr, img_per_s, grad_norm...)
// beside the intermediate value. Objectives check for it with a type
// assertion and skip recording when it is absent.
type MetricsRecorder interface {
	RecordMetrics(step int, metrics map[string]float64) error
}

// Result is what a finished run returns: the objective value (the study's
// metric), string attributes stored as trial user attrs (test accuracy,
// checkpoint paths, wall time), and final named metrics (val_acc,
// train_seconds, params_m, ece) that a multi-objective study's metrics
// and a spec's constraints are read from. Metrics may be nil.
type Result struct {
	Value   float64
	Attrs   map[string]string
	Metrics map[string]float64
}

// Objective runs one trial. Run must honour ctx cancellation and must be safe
// to call from several goroutines at once (one call per trial slot).
type Objective interface {
	Run(ctx context.Context, params Params, r Reporter) (Result, error)
}

// ErrPruned is returned by Run when the Reporter asked the trial to stop.
var ErrPruned = errors.New("objective: trial pruned")

// TrialIdentifier is an optional interface a Reporter may implement to tell
// the objective which trial it runs, so that outputs (checkpoint
// directories) are named <study>/<trial number>. Objectives check for it
// with a type assertion and fall back to a timestamp.
type TrialIdentifier interface {
	TrialID() (study string, number int)
}

// StepCounter is an optional interface an Objective may implement to say
// how many steps Run reports for params in all (epochs for the built-in
// objectives), so that progress displays can show "step 3/10" and a bar.
// 0 means it cannot tell. Steps must be cheap and safe for concurrent use.
type StepCounter interface {
	Steps(params Params) int
}

// StepsOf returns obj's step count for params when it is a StepCounter,
// else 0. Wrappers forward their inner objective's through it.
func StepsOf(obj Objective, params Params) int {
	if c, ok := obj.(StepCounter); ok {
		return c.Steps(params)
	}
	return 0
}

// LogWriter is an optional interface a Reporter may implement to take an
// objective's progress lines (cifar10's per-epoch lines with `log: true`)
// instead of the process's stderr, so that a live display prints them
// above its block rather than through it. Objectives check for it with a
// type assertion.
type LogWriter interface {
	LogWriter() io.Writer
}

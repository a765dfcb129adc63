// Package objectivetest holds a recording Reporter and the conformance
// suite every objective.Objective runs (synthetic, cifar10 on synthetic
// data, command), so that the sweep worker can rely on the same behaviour
// from all of them: increasing report steps, prompt stops on prune and on
// cancellation, errors from the Reporter passed up, concurrent runs.
//
// It checks behaviour only, not values: each objective's own tests check
// what it computes.
package objectivetest

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"

	"sweep/objective"
)

// Reporter is an objective.Reporter (with MetricsRecorder and
// TrialIdentifier) that records every call. ReportFunc, when set, decides
// each report's prune answer and error; nil never prunes. Safe for
// concurrent use, though an objective uses it from one goroutine.
type Reporter struct {
	Study      string
	Number     int
	ReportFunc func(step int, value float64) (bool, error)

	mu      sync.Mutex
	steps   []int
	values  []float64
	metrics map[int]map[string]float64
}

var (
	_ objective.Reporter        = (*Reporter)(nil)
	_ objective.MetricsRecorder = (*Reporter)(nil)
	_ objective.TrialIdentifier = (*Reporter)(nil)
)

// Report implements objective.Reporter.
func (r *Reporter) Report(step int, value float64) (bool, error) {
	r.mu.Lock()
	r.steps = append(r.steps, step)
	r.values = append(r.values, value)
	f := r.ReportFunc
	r.mu.Unlock()
	if f == nil {
		return false, nil
	}
	return f(step, value)
}

// RecordMetrics implements objective.MetricsRecorder.
func (r *Reporter) RecordMetrics(step int, m map[string]float64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.metrics == nil {
		r.metrics = map[int]map[string]float64{}
	}
	if r.metrics[step] == nil {
		r.metrics[step] = map[string]float64{}
	}
	for k, v := range m {
		r.metrics[step][k] = v
	}
	return nil
}

// TrialID implements objective.TrialIdentifier.
func (r *Reporter) TrialID() (string, int) { return r.Study, r.Number }

// Steps returns the reported steps in order.
func (r *Reporter) Steps() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.steps...)
}

// Values returns the reported values in order.
func (r *Reporter) Values() []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]float64(nil), r.values...)
}

// Metrics returns the metrics recorded at step (nil if none).
func (r *Reporter) Metrics(step int) map[string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.metrics[step]
}

// Suite describes the objective under test. New returns a ready objective;
// Params are the params every run gets. The objective must report at least
// two steps per run, and must take long enough after its first report for
// a cancellation to arrive (a sleep or an epoch of training).
type Suite struct {
	New    func(tb testing.TB) objective.Objective
	Params objective.Params
}

// Run runs the conformance checks as subtests of t.
func (s Suite) Run(t *testing.T) {
	t.Run("Completes", s.completes)
	t.Run("Prunes", s.prunes)
	t.Run("Cancel", s.cancel)
	t.Run("ReporterError", s.reporterError)
	t.Run("Concurrent", s.concurrent)
}

// completes: a run nobody stops reports increasing steps and returns a
// finite value.
func (s Suite) completes(t *testing.T) {
	obj := s.New(t)
	rep := &Reporter{Study: "conformance", Number: 1}
	res, err := obj.Run(context.Background(), s.Params, rep)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if math.IsNaN(res.Value) || math.IsInf(res.Value, 0) {
		t.Errorf("value %v, want finite", res.Value)
	}
	steps := rep.Steps()
	if len(steps) < 2 {
		t.Fatalf("reported steps %v, want at least 2", steps)
	}
	for i := 1; i < len(steps); i++ {
		if steps[i] <= steps[i-1] {
			t.Errorf("steps %v are not increasing", steps)
		}
	}
}

// prunes: a prune answer ends the run with ErrPruned and no later report.
func (s Suite) prunes(t *testing.T) {
	obj := s.New(t)
	rep := &Reporter{Study: "conformance", Number: 2, ReportFunc: func(int, float64) (bool, error) { return true, nil }}
	_, err := obj.Run(context.Background(), s.Params, rep)
	if !errors.Is(err, objective.ErrPruned) {
		t.Fatalf("Run after prune: %v, want objective.ErrPruned", err)
	}
	if steps := rep.Steps(); len(steps) != 1 {
		t.Errorf("reported steps %v after pruning at the first, want exactly one report", steps)
	}
}

// cancel: cancelling the context after the first report ends the run with
// an error that says so.
func (s Suite) cancel(t *testing.T) {
	obj := s.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep := &Reporter{Study: "conformance", Number: 3, ReportFunc: func(int, float64) (bool, error) {
		cancel()
		return false, nil
	}}
	_, err := obj.Run(ctx, s.Params, rep)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v, want context.Canceled", err)
	}
}

// errReporter is what the failing Reporter returns.
var errReporter = errors.New("objectivetest: store unreachable")

// reporterError: an error from Report ends the run with that error.
func (s Suite) reporterError(t *testing.T) {
	obj := s.New(t)
	rep := &Reporter{Study: "conformance", Number: 4, ReportFunc: func(int, float64) (bool, error) { return false, errReporter }}
	_, err := obj.Run(context.Background(), s.Params, rep)
	if !errors.Is(err, errReporter) {
		t.Fatalf("Run with a failing Reporter: %v, want it to wrap %v", err, errReporter)
	}
}

// concurrent: runs of one objective in parallel all complete, each with
// its own reports.
func (s Suite) concurrent(t *testing.T) {
	obj := s.New(t)
	const n = 4
	errs := make([]error, n)
	reps := make([]*Reporter, n)
	var wg sync.WaitGroup
	for i := range n {
		reps[i] = &Reporter{Study: "conformance", Number: 10 + i}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = obj.Run(context.Background(), s.Params, reps[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		} else if len(reps[i].Steps()) < 2 {
			t.Errorf("run %d reported %v", i, reps[i].Steps())
		}
	}
}

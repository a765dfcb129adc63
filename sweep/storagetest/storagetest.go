// Package storagetest is the conformance suite every sweep.Store runs, in
// the manner of optuna's StorageTestCase: the same tests, unchanged, against
// each implementation.
//
// It checks behaviour through the interfaces only (goptuna.Storage plus
// sweep.Store, and MetricsReader, sweep.StopRecorder and sweep.FailureCounter
// where implemented); it knows nothing about SQL. An implementation's own
// package adds tests of what is specific to it.
package storagetest

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/sweep"
)

// NewStore returns a Store for the test t. Calls with the same t must
// return handles on the same, shared storage (several handles stand for
// several processes); calls with different t must return independent,
// empty storages. Handles are closed by the factory's own t.Cleanup.
type NewStore func(t *testing.T) sweep.Store

// MetricsReader is implemented by stores that can return what
// RecordMetrics stored; the suite checks metrics only when it is present.
type MetricsReader interface {
	// TrialMetrics returns step → name → value.
	TrialMetrics(ctx context.Context, trialID int) (map[int]map[string]float64, error)
}

// Run runs the whole suite as subtests of t.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"StudyCreateDelete", testStudyCreateDelete},
		{"StudyDirectionAttrs", testStudyDirectionAttrs},
		{"StudySummaries", testStudySummaries},
		{"EnsureStudy", testEnsureStudy},
		{"HostileNames", testHostileNames},
		{"TrialNumbers", testTrialNumbers},
		{"TrialParams", testTrialParams},
		{"TrialValuesAttrs", testTrialValuesAttrs},
		{"NonFiniteValues", testNonFiniteValues},
		{"FinishedIsImmutable", testFinishedIsImmutable},
		{"ReturnsCopies", testReturnsCopies},
		{"SeesOtherHandles", testSeesOtherHandles},
		{"BestTrial", testBestTrial},
		{"Budget", testBudget},
		{"ClaimWaitingFirst", testClaimWaitingFirst},
		{"RetryTrial", testRetryTrial},
		{"StopReason", testStopReason},
		{"CountFailures", testCountFailures},
		{"HeartbeatReapStale", testHeartbeatReapStale},
		{"WorkerIndex", testWorkerIndex},
		{"Metrics", testMetrics},
		{"Values", testValues},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ConcurrentReads", testConcurrentReads},
		{"GoptunaStudy", testGoptunaStudy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// result carries a call's value and error to must, so that
// res(s.CreateNewStudy("a")).must(t) reads as one step.
type result[T any] struct {
	v   T
	err error
}

func res[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) must(t *testing.T) T {
	t.Helper()
	must(t, r.err)
	return r.v
}

// neverPrune is a goptuna.Pruner that stores reports and never prunes.
type neverPrune struct{}

func (neverPrune) Prune(*goptuna.Study, goptuna.FrozenTrial) (bool, error) { return false, nil }

// wantErr checks that err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v; want one wrapping %q", what, err, target)
	}
}

// ensure creates a study through EnsureStudy.
func ensure(t *testing.T, s sweep.Store, name string, budget int) sweep.StudyInfo {
	t.Helper()
	info, created, err := s.EnsureStudy(ctx(t), sweep.StudyInfo{
		Name: name, Direction: "maximize", Metric: "val_acc", Spec: []byte("study: " + name + "\n"), Trials: budget,
	}, false)
	must(t, err)
	if !created {
		t.Fatalf("EnsureStudy(%q): created = false for a new study", name)
	}
	return info
}

// claim claims a trial and fails the test on error.
func claim(t *testing.T, s sweep.Store, studyID int, worker string) sweep.Claim {
	t.Helper()
	c, err := s.ClaimTrial(ctx(t), studyID, worker, "host-1")
	must(t, err)
	return c
}

// sameFloat compares floats treating NaN as equal to NaN.
func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

// Distributions used throughout, one of each kind goptuna has.
var (
	distUniform  = goptuna.UniformDistribution{Low: -1, High: 1}
	distLog      = goptuna.LogUniformDistribution{Low: 1e-5, High: 1}
	distInt      = goptuna.IntUniformDistribution{Low: 16, High: 512}
	distStepInt  = goptuna.StepIntUniformDistribution{Low: 0, High: 100, Step: 10}
	distDiscrete = goptuna.DiscreteUniformDistribution{Low: 0, High: 1, Q: 0.25}
	distCat      = goptuna.CategoricalDistribution{Choices: []string{"sgd", "adamw", "it's \"quoted\""}}
)

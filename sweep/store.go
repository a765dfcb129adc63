// Package sweep runs studies: it creates or resumes a study from its spec,
// runs trial slots that ask the sampler for parameters, call the objective,
// report intermediate values to the pruner and record the outcome, and keeps
// running trials alive with heartbeats. It does not parse specs (package
// search), train models (package trainer) or format reports (package reports).
package sweep

import (
	"context"
	"errors"
	"time"

	"github.com/c-bata/goptuna"
)

// Sentinel errors returned by Store implementations.
var (
	// ErrBudgetExhausted means the study already has its total number of
	// trials; no new trial was created.
	ErrBudgetExhausted = errors.New("sweep: trial budget exhausted")
	// ErrTrialFinished means a state change was attempted on a trial that is
	// already COMPLETE, PRUNED or FAIL (a second "tell", or a late result
	// after the trial was marked stale).
	ErrTrialFinished = errors.New("sweep: trial already finished")
	// ErrSpecChanged means a study exists under that name with another spec.
	ErrSpecChanged = errors.New("sweep: study exists with a different spec")
	// ErrStudyNotFound means no study has that name.
	ErrStudyNotFound = errors.New("sweep: study not found")
	// ErrNoLateResults means the store cannot keep a late result (it does
	// not implement LateResultRecorder).
	ErrNoLateResults = errors.New("sweep: store cannot keep late results")
)

// StudyInfo describes a stored study.
type StudyInfo struct {
	ID        int
	Name      string
	Direction string // "maximize" or "minimize"
	Metric    string
	Spec      []byte // the spec file as given (YAML)
	Status    string // "running", "finished"
	Trials    int    // the study's total trial budget: every trial row counts, failed and retried ones too
	Created   time.Time
	// StopReason says why a stop condition of the spec ended the study
	// before its budget (see StopRecorder); "" when none did. A forced
	// spec update clears it.
	StopReason string
}

// Claim is a trial a worker owns: RUNNING, with the worker recorded.
type Claim struct {
	TrialID int
	Number  int
	// Params holds the internal values of a re-queued (WAITING) trial; nil
	// for a fresh trial, whose params the sampler will suggest.
	Params map[string]float64
	// Attempt is 0 for an original trial and n for the n-th retry.
	Attempt int
	// RetryOf is the trial ID this one re-runs; 0 for an original trial.
	RetryOf int
}

// Store is what the orchestrator needs beyond goptuna.Storage. The
// PostgreSQL implementation is sweep/postgres.Storage. All methods are safe
// for concurrent use by many goroutines and many processes.
//
// CONTRACT shared between sweep and sweep/postgres; methods may be added.
type Store interface {
	goptuna.Storage

	// EnsureStudy creates the study or, when one exists under info.Name,
	// returns it. When the stored spec differs from info.Spec it returns the
	// stored study and ErrSpecChanged, unless force is set, in which case the
	// stored spec is replaced. created reports whether a new row was made.
	EnsureStudy(ctx context.Context, info StudyInfo, force bool) (stored StudyInfo, created bool, err error)
	// Study loads a study by name.
	Study(ctx context.Context, name string) (StudyInfo, error)

	// ClaimTrial gives the calling worker a trial to run: the oldest WAITING
	// trial if any, else a new RUNNING trial with the next contiguous number,
	// as long as the study's budget allows (else ErrBudgetExhausted).
	ClaimTrial(ctx context.Context, studyID int, workerID, host string) (Claim, error)
	// FinishTrial sets a RUNNING trial's final state, value (NaN allowed) and
	// reason in one compare-and-set; ErrTrialFinished if it is not RUNNING.
	FinishTrial(ctx context.Context, trialID int, state goptuna.TrialState, value float64, reason string) error
	// Heartbeat refreshes a RUNNING trial's heartbeat_at.
	// ErrTrialFinished if it is no longer RUNNING.
	Heartbeat(ctx context.Context, trialID int) error
	// ReapStale marks RUNNING trials of the study whose heartbeat is older
	// than grace as FAIL with reason "stale" and returns their IDs.
	ReapStale(ctx context.Context, studyID int, grace time.Duration) ([]int, error)
	// WorkerIndex returns a small integer unique to workerID within the study,
	// assigned on first call; samplers derive per-worker seeds from it.
	WorkerIndex(ctx context.Context, studyID int, workerID string) (int, error)
	// RecordMetrics stores named per-step metrics of a trial.
	RecordMetrics(ctx context.Context, trialID int, step int, metrics map[string]float64) error

	// RetryTrial enqueues a WAITING copy of the finished trial trialID: same
	// params, attempt+1, linked to it, and its intermediate values too when
	// inheritIntermediate is set. The copy takes the next trial number and
	// one unit of budget (ErrBudgetExhausted when none is left). A trial is
	// retried at most once: a second call returns the existing copy's ID
	// with created false. Workers claim WAITING trials before new ones.
	RetryTrial(ctx context.Context, trialID int, inheritIntermediate bool) (newTrialID int, created bool, err error)
	// SetStudyStatus sets a study's status: "finished" (stamping the time)
	// or "running" (clearing it).
	SetStudyStatus(ctx context.Context, studyID int, status string) error
}

// LateResultAttr and LateStateAttr are the trial user attrs that hold a
// result which arrived after its trial was finished elsewhere (reaped as
// stale while its worker was cut off): the value and the state the worker
// would have recorded.
const (
	LateResultAttr = "late_value"
	LateStateAttr  = "late_state"
)

// LateResultRecorder is implemented by stores that can keep a late result
// on a finished trial as the user attrs LateResultAttr and LateStateAttr,
// leaving its state and value as they are: the one change a finished
// trial accepts, so that hours of training are never dropped silently.
// sweep/postgres.Storage implements it.
type LateResultRecorder interface {
	RecordLateResult(ctx context.Context, trialID int, state goptuna.TrialState, value float64) error
}

package sweep

import (
	"context"
	"time"

	"github.com/c-bata/goptuna"
)

// Reads and idempotent writes that a trial makes before its objective runs
// (the sampler loads the study's trials and stores the params it draws)
// are retried on connection errors for up to ReadPatience, so that a
// trial starting during a database restart waits for it instead of
// failing. They are all safe to repeat: reads, and upserts keyed by trial
// and name.
//
// GetTrial of a trial whose reports are being buffered fails at once
// instead: that is the pruner asking during an outage, and the reporter
// then skips pruning for that step rather than stall the training.

// readPatience is how long reads retry; zero ReadPatience means 15 s.
func (b *BufferedStore) readPatience() time.Duration {
	if b.ReadPatience > 0 {
		return b.ReadPatience
	}
	return 15 * time.Second
}

// again runs fn with retries within the read patience.
func again[T any](b *BufferedStore, fn func() (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.readPatience())
	defer cancel()
	var v T
	err := b.retry(ctx, func() error {
		var err error
		v, err = fn()
		return err
	})
	return v, err
}

// againErr is again for calls that return only an error.
func againErr(b *BufferedStore, fn func() error) error {
	_, err := again(b, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

// GetTrial implements goptuna.Storage, with retries (see above).
func (b *BufferedStore) GetTrial(trialID int) (goptuna.FrozenTrial, error) {
	b.mu.Lock()
	_, buffering := b.pending[trialID]
	b.mu.Unlock()
	if buffering {
		return b.Store.GetTrial(trialID)
	}
	return again(b, func() (goptuna.FrozenTrial, error) { return b.Store.GetTrial(trialID) })
}

// GetAllTrials implements goptuna.Storage, with retries.
func (b *BufferedStore) GetAllTrials(studyID int) ([]goptuna.FrozenTrial, error) {
	return again(b, func() ([]goptuna.FrozenTrial, error) { return b.Store.GetAllTrials(studyID) })
}

// GetTrialParams implements goptuna.Storage, with retries.
func (b *BufferedStore) GetTrialParams(trialID int) (map[string]interface{}, error) {
	return again(b, func() (map[string]interface{}, error) { return b.Store.GetTrialParams(trialID) })
}

// GetTrialParam implements goptuna.Storage, with retries.
func (b *BufferedStore) GetTrialParam(trialID int, name string) (float64, error) {
	return again(b, func() (float64, error) { return b.Store.GetTrialParam(trialID, name) })
}

// GetTrialNumberFromID implements goptuna.Storage, with retries.
func (b *BufferedStore) GetTrialNumberFromID(trialID int) (int, error) {
	return again(b, func() (int, error) { return b.Store.GetTrialNumberFromID(trialID) })
}

// GetTrialSystemAttrs implements goptuna.Storage, with retries.
func (b *BufferedStore) GetTrialSystemAttrs(trialID int) (map[string]string, error) {
	return again(b, func() (map[string]string, error) { return b.Store.GetTrialSystemAttrs(trialID) })
}

// GetStudyIDFromTrialID implements goptuna.Storage, with retries.
func (b *BufferedStore) GetStudyIDFromTrialID(trialID int) (int, error) {
	return again(b, func() (int, error) { return b.Store.GetStudyIDFromTrialID(trialID) })
}

// GetStudyDirection implements goptuna.Storage, with retries.
func (b *BufferedStore) GetStudyDirection(studyID int) (goptuna.StudyDirection, error) {
	return again(b, func() (goptuna.StudyDirection, error) { return b.Store.GetStudyDirection(studyID) })
}

// GetStudySystemAttrs implements goptuna.Storage, with retries.
func (b *BufferedStore) GetStudySystemAttrs(studyID int) (map[string]string, error) {
	return again(b, func() (map[string]string, error) { return b.Store.GetStudySystemAttrs(studyID) })
}

// SetTrialParam implements goptuna.Storage, with retries (an upsert).
func (b *BufferedStore) SetTrialParam(trialID int, name string, internal float64, distribution interface{}) error {
	return againErr(b, func() error { return b.Store.SetTrialParam(trialID, name, internal, distribution) })
}

// SetTrialSystemAttr implements goptuna.Storage, with retries (an upsert).
func (b *BufferedStore) SetTrialSystemAttr(trialID int, key, value string) error {
	return againErr(b, func() error { return b.Store.SetTrialSystemAttr(trialID, key, value) })
}

// SetTrialUserAttr implements goptuna.Storage, with retries (an upsert).
func (b *BufferedStore) SetTrialUserAttr(trialID int, key, value string) error {
	return againErr(b, func() error { return b.Store.SetTrialUserAttr(trialID, key, value) })
}

// RetryTrial implements Store, with retries: it is idempotent (a trial is
// retried at most once; a repeated call returns the same copy).
func (b *BufferedStore) RetryTrial(ctx context.Context, trialID int, inheritIntermediate bool) (int, bool, error) {
	type result struct {
		id      int
		created bool
	}
	r, err := again(b, func() (result, error) {
		id, created, err := b.Store.RetryTrial(ctx, trialID, inheritIntermediate)
		return result{id, created}, err
	})
	return r.id, r.created, err
}

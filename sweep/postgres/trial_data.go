package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/c-bata/goptuna"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// liveTrial starts every write to a trial's child tables. It share-locks
// the trial row only while the trial is unfinished: a concurrent
// FinishTrial waits for the write, or the write sees the finished state
// and inserts nothing. So nothing is ever added to a finished trial, which
// is what makes caching finished trials safe across processes.
const liveTrial = `WITH t AS (SELECT id FROM trials WHERE id = $1 AND state IN ('RUNNING', 'WAITING') FOR SHARE) `

// writeLive runs liveTrial+query with trialID as $1; no row written means
// the trial is missing or finished.
func (s *Storage) writeLive(ctx context.Context, op string, trialID int, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, liveTrial+query, append([]any{trialID}, args...)...)
	if err != nil {
		return fmt.Errorf("%s %d: %w", op, trialID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.trialStateError(ctx, op, trialID)
	}
	return nil
}

// SetTrialIntermediateValue records the value reported at step. Writing a
// step again replaces it, so a worker that re-sends buffered reports after
// a lost connection cannot fail or duplicate them. Finished trials reject it.
func (s *Storage) SetTrialIntermediateValue(trialID int, step int, value float64) error {
	ctx, cancel := s.call()
	defer cancel()
	return s.writeLive(ctx, "set intermediate value of trial", trialID, `
		INSERT INTO trial_values (trial_id, step, value) SELECT id, $2, $3 FROM t
		ON CONFLICT (trial_id, step) DO UPDATE SET value = EXCLUDED.value, recorded_at = now()`, step, value)
}

// SetTrialParam records a sampled parameter: goptuna's internal value, the
// external value as jsonb for SQL users, and the distribution as
// goptuna.DistributionToJSON writes it.
func (s *Storage) SetTrialParam(trialID int, name string, internal float64, distribution interface{}) error {
	ctx, cancel := s.call()
	defer cancel()
	dist, ext, err := paramJSON(distribution, internal)
	if err != nil {
		return fmt.Errorf("set param %q of trial %d: %w", name, trialID, err)
	}
	return s.writeLive(ctx, "set param of trial", trialID, `
		INSERT INTO trial_params (trial_id, name, value, external, distribution) SELECT id, $2, $3, $4, $5 FROM t
		ON CONFLICT (trial_id, name) DO UPDATE
		SET value = EXCLUDED.value, external = EXCLUDED.external, distribution = EXCLUDED.distribution`,
		name, internal, string(ext), string(dist))
}

// paramJSON encodes a distribution and the external value of internal.
func paramJSON(distribution interface{}, internal float64) (dist, ext []byte, err error) {
	if dist, err = goptuna.DistributionToJSON(distribution); err != nil {
		return nil, nil, fmt.Errorf("encode distribution: %w", err)
	}
	x, err := goptuna.ToExternalRepresentation(distribution, internal)
	if err != nil {
		return nil, nil, fmt.Errorf("convert value %v: %w", internal, err)
	}
	if f, ok := x.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		x = nil // jsonb has no NaN; the internal value column keeps it
	}
	if ext, err = json.Marshal(x); err != nil {
		return nil, nil, fmt.Errorf("encode value %v: %w", x, err)
	}
	return dist, ext, nil
}

// SetTrialUserAttr sets a user attribute of an unfinished trial.
func (s *Storage) SetTrialUserAttr(trialID int, key, value string) error {
	ctx, cancel := s.call()
	defer cancel()
	return s.writeLive(ctx, "set user attr of trial", trialID, `
		INSERT INTO trial_user_attrs (trial_id, key, value) SELECT id, $2, $3 FROM t
		ON CONFLICT (trial_id, key) DO UPDATE SET value = EXCLUDED.value`, key, value)
}

// SetTrialSystemAttr sets a system attribute of an unfinished trial.
func (s *Storage) SetTrialSystemAttr(trialID int, key, value string) error {
	ctx, cancel := s.call()
	defer cancel()
	return s.writeLive(ctx, "set system attr of trial", trialID, `
		INSERT INTO trial_system_attrs (trial_id, key, value) SELECT id, $2, $3 FROM t
		ON CONFLICT (trial_id, key) DO UPDATE SET value = EXCLUDED.value`, key, value)
}

// RecordMetrics stores named metrics of a trial at step in one statement;
// recording a (step, name) again replaces it. Finished trials reject it.
func (s *Storage) RecordMetrics(ctx context.Context, trialID int, step int, metrics map[string]float64) error {
	if len(metrics) == 0 {
		return nil
	}
	names := make([]string, 0, len(metrics))
	values := make([]float64, 0, len(metrics))
	for k, v := range metrics {
		names = append(names, k)
		values = append(values, v)
	}
	return s.writeLive(ctx, "record metrics of trial", trialID, `
		INSERT INTO trial_metrics (trial_id, step, name, value)
		SELECT t.id, $2, m.name, m.value FROM t, unnest($3::text[], $4::double precision[]) AS m (name, value)
		ON CONFLICT (trial_id, step, name) DO UPDATE SET value = EXCLUDED.value, recorded_at = now()`,
		step, pq.StringArray(names), pq.Float64Array(values))
}

// CloneTrial creates a trial from base (goptuna's EnqueueTrial uses it
// with WAITING trials). It takes the next number and one unit of budget
// like any other trial.
func (s *Storage) CloneTrial(studyID int, base goptuna.FrozenTrial) (int, error) {
	ctx, cancel := s.call()
	defer cancel()
	state, err := stateName(base.State)
	if err != nil {
		return -1, err
	}
	var id int
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var number int
		err := tx.GetContext(ctx, &number, takeNumber, studyID)
		if errors.Is(err, sql.ErrNoRows) {
			return noNumber(ctx, tx, "clone trial", studyID)
		} else if err != nil {
			return fmt.Errorf("clone trial: %w", err)
		}
		started, finished := nullTime(base.DatetimeStart), nullTime(base.DatetimeComplete)
		if !base.State.IsFinished() {
			finished = sql.NullTime{}
		}
		err = tx.GetContext(ctx, &id, `
			INSERT INTO trials (study_id, number, state, value, started_at, finished_at, heartbeat_at)
			VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $3 = 'RUNNING' THEN now() END)
			RETURNING id`, studyID, number, state, nullValue(base.State, base.Value), started, finished)
		if err != nil {
			return fmt.Errorf("clone trial: %w", err)
		}
		return insertChildren(ctx, tx, id, base)
	})
	if err != nil {
		return -1, err
	}
	return id, nil
}

// insertChildren writes a cloned trial's params, values and attrs.
func insertChildren(ctx context.Context, tx *sqlx.Tx, id int, base goptuna.FrozenTrial) error {
	for name, ir := range base.InternalParams {
		d, ok := base.Distributions[name]
		if !ok {
			return fmt.Errorf("clone trial: param %q has no distribution", name)
		}
		dist, ext, err := paramJSON(d, ir)
		if err != nil {
			return fmt.Errorf("clone trial: param %q: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO trial_params (trial_id, name, value, external, distribution)
			VALUES ($1, $2, $3, $4, $5)`, id, name, ir, string(ext), string(dist)); err != nil {
			return fmt.Errorf("clone trial: param %q: %w", name, err)
		}
	}
	for step, v := range base.IntermediateValues {
		if _, err := tx.ExecContext(ctx, `INSERT INTO trial_values (trial_id, step, value) VALUES ($1, $2, $3)`, id, step, v); err != nil {
			return fmt.Errorf("clone trial: step %d: %w", step, err)
		}
	}
	for table, m := range map[string]map[string]string{"trial_user_attrs": base.UserAttrs, "trial_system_attrs": base.SystemAttrs} {
		for k, v := range m {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (trial_id, key, value) VALUES ($1, $2, $3)`, id, k, v); err != nil {
				return fmt.Errorf("clone trial: attr %q: %w", k, err)
			}
		}
	}
	return nil
}

// WorkerIndex returns the worker's small index within the study, assigning
// the next free one on first call. Assignment locks the study row (NO KEY
// UPDATE: trial inserts are not blocked) so two new workers cannot both
// take max+1.
func (s *Storage) WorkerIndex(ctx context.Context, studyID int, workerID string) (int, error) {
	var idx int
	err := s.db.GetContext(ctx, &idx, `
		UPDATE study_workers SET last_seen = now() WHERE study_id = $1 AND worker_id = $2 RETURNING idx`, studyID, workerID)
	if err == nil {
		return idx, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find worker %q: %w", workerID, err)
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var one int
		err := tx.GetContext(ctx, &one, `SELECT 1 FROM studies WHERE id = $1 FOR NO KEY UPDATE`, studyID)
		if err != nil {
			return notFound(err, "register worker in study", studyID, goptuna.ErrInvalidStudyID)
		}
		return tx.GetContext(ctx, &idx, `
			INSERT INTO study_workers (study_id, worker_id, idx)
			VALUES ($1, $2, (SELECT COALESCE(max(idx) + 1, 0) FROM study_workers WHERE study_id = $1))
			ON CONFLICT (study_id, worker_id) DO UPDATE SET last_seen = now()
			RETURNING idx`, studyID, workerID)
	})
	if err != nil {
		return 0, fmt.Errorf("register worker %q: %w", workerID, err)
	}
	return idx, nil
}

func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t, Valid: !t.IsZero()}
}

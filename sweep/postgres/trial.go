package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/c-bata/goptuna"
	"github.com/jmoiron/sqlx"

	"sweep/search/sampler"
	"sweep/sweep"
)

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Storage) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// takeNumber is the one place a trial number is handed out: it bumps the
// study's counter if the budget allows. The row lock it takes serialises
// creators until their transaction ends, so numbers are contiguous and the
// budget is never overshot.
const takeNumber = `
	UPDATE studies SET next_number = next_number + 1
	WHERE id = $1 AND (trial_budget IS NULL OR next_number < trial_budget)
	RETURNING next_number - 1`

// noNumber explains why takeNumber matched no row.
func noNumber(ctx context.Context, q sqlx.QueryerContext, op string, studyID int) error {
	var exists bool
	if err := sqlx.GetContext(ctx, q, &exists, `SELECT EXISTS (SELECT 1 FROM studies WHERE id = $1)`, studyID); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if !exists {
		return fmt.Errorf("%s: study %d: %w", op, studyID, goptuna.ErrInvalidStudyID)
	}
	return fmt.Errorf("%s: study %d: %w", op, studyID, sweep.ErrBudgetExhausted)
}

// CreateNewTrial creates a RUNNING trial with the next number; the error
// wraps sweep.ErrBudgetExhausted when the study's budget is spent.
func (s *Storage) CreateNewTrial(studyID int) (int, error) {
	ctx, cancel := s.call()
	defer cancel()
	c, err := s.newRunning(ctx, studyID, "", "")
	return c.TrialID, err
}

// newRunning takes a number and inserts the RUNNING trial in one
// statement (one round trip, atomic without an explicit transaction).
func (s *Storage) newRunning(ctx context.Context, studyID int, workerID, host string) (sweep.Claim, error) {
	var c sweep.Claim
	err := s.db.QueryRowxContext(ctx, `
		WITH n AS (`+takeNumber+` AS number), `+touchWorker+`
		INSERT INTO trials (study_id, number, state, worker_id, host, started_at, heartbeat_at)
		SELECT $1, number, 'RUNNING', NULLIF($2, ''), NULLIF($3, ''), now(), now() FROM n
		RETURNING id, number`, studyID, workerID, host).Scan(&c.TrialID, &c.Number)
	if errors.Is(err, sql.ErrNoRows) {
		return c, noNumber(ctx, s.db, "create trial", studyID)
	}
	if err != nil {
		return c, fmt.Errorf("create trial: %w", err)
	}
	return c, nil
}

// ClaimTrial hands the worker the oldest WAITING trial (SKIP LOCKED, so
// concurrent claimers never wait for or take the same one), else a new
// RUNNING trial within the budget.
func (s *Storage) ClaimTrial(ctx context.Context, studyID int, workerID, host string) (sweep.Claim, error) {
	c, err := s.claimWaiting(ctx, studyID, workerID, host)
	if errors.Is(err, sql.ErrNoRows) {
		c, err = s.newRunning(ctx, studyID, workerID, host)
	}
	if err != nil {
		return sweep.Claim{}, err
	}
	return c, nil
}

// touchWorker is a CTE the claim statements carry: it records the
// claiming worker's host and last activity in study_workers (a no-op for
// workers that never asked for a WorkerIndex) without a round trip.
const touchWorker = `w AS (UPDATE study_workers SET last_seen = now(), host = $3 WHERE study_id = $1 AND worker_id = $2)`

// claimWaiting returns sql.ErrNoRows when the study has no WAITING trial.
func (s *Storage) claimWaiting(ctx context.Context, studyID int, workerID, host string) (sweep.Claim, error) {
	var c sweep.Claim
	var retryOf sql.NullInt64
	err := s.db.QueryRowxContext(ctx, `
		WITH `+touchWorker+`
		UPDATE trials
		SET state = 'RUNNING', worker_id = $2, host = $3, started_at = now(), heartbeat_at = now()
		WHERE id = (SELECT id FROM trials WHERE study_id = $1 AND state = 'WAITING'
		            ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id, number, attempt, retry_of`, studyID, workerID, host).Scan(&c.TrialID, &c.Number, &c.Attempt, &retryOf)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return c, err
		}
		return c, fmt.Errorf("claim waiting trial: %w", err)
	}
	c.RetryOf = int(retryOf.Int64)
	rows, err := s.db.QueryxContext(ctx, `SELECT name, value FROM trial_params WHERE trial_id = $1`, c.TrialID)
	if err != nil {
		return c, fmt.Errorf("load params of trial %d: %w", c.TrialID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var v float64
		if err := rows.Scan(&name, &v); err != nil {
			return c, fmt.Errorf("load params of trial %d: %w", c.TrialID, err)
		}
		if c.Params == nil {
			c.Params = map[string]float64{}
		}
		c.Params[name] = v
	}
	return c, rows.Err()
}

// RetryTrial enqueues a WAITING copy of a finished trial; see sweep.Store.
// It copies params (and intermediate values when asked), not attrs: those
// describe the failed run.
func (s *Storage) RetryTrial(ctx context.Context, trialID int, inheritIntermediate bool) (int, bool, error) {
	var newID int
	created := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var t struct {
			StudyID int    `db:"study_id"`
			State   string `db:"state"`
			Attempt int    `db:"attempt"`
		}
		err := tx.GetContext(ctx, &t, `SELECT study_id, state, attempt FROM trials WHERE id = $1`, trialID)
		if err != nil {
			return notFound(err, "retry trial", trialID, goptuna.ErrInvalidTrialID)
		}
		if t.State == stateRunning || t.State == stateWaiting {
			return fmt.Errorf("retry trial %d: trial is %s; only finished trials are retried", trialID, t.State)
		}
		err = tx.GetContext(ctx, &newID, `SELECT id FROM trials WHERE retry_of = $1`, trialID)
		if err == nil {
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("retry trial %d: %w", trialID, err)
		}
		// A concurrent retry of the same trial waits on the study row in
		// takeNumber, then conflicts on the unique retry_of: no row here.
		err = tx.GetContext(ctx, &newID, `
			WITH n AS (`+takeNumber+` AS number)
			INSERT INTO trials (study_id, number, state, retry_of, attempt)
			SELECT $1, number, 'WAITING', $2, $3 FROM n
			ON CONFLICT (retry_of) WHERE retry_of IS NOT NULL DO NOTHING
			RETURNING id`, t.StudyID, trialID, t.Attempt+1)
		if errors.Is(err, sql.ErrNoRows) {
			return noNumberOrRetried(ctx, tx, t.StudyID, trialID)
		}
		if err != nil {
			return fmt.Errorf("retry trial %d: %w", trialID, err)
		}
		created = true
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO trial_params (trial_id, name, value, external, distribution)
			SELECT $1, name, value, external, distribution FROM trial_params WHERE trial_id = $2`, newID, trialID); err != nil {
			return fmt.Errorf("copy params of trial %d: %w", trialID, err)
		}
		// Samplers that hand out points by claim (the grid) skip retries.
		if _, err := tx.ExecContext(ctx, `INSERT INTO trial_system_attrs (trial_id, key, value) VALUES ($1, $2, $3)`,
			newID, sampler.RetryOfAttr, strconv.Itoa(trialID)); err != nil {
			return fmt.Errorf("mark retry of trial %d: %w", trialID, err)
		}
		if inheritIntermediate {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO trial_values (trial_id, step, value, recorded_at)
				SELECT $1, step, value, recorded_at FROM trial_values WHERE trial_id = $2`, newID, trialID); err != nil {
				return fmt.Errorf("copy intermediate values of trial %d: %w", trialID, err)
			}
		}
		return nil
	})
	if errors.Is(err, errRetriedConcurrently) {
		err = s.db.GetContext(ctx, &newID, `SELECT id FROM trials WHERE retry_of = $1`, trialID)
		return newID, false, notFound(err, "retry trial", trialID, goptuna.ErrInvalidTrialID)
	}
	return newID, created, err
}

var errRetriedConcurrently = errors.New("postgres: trial retried concurrently")

func noNumberOrRetried(ctx context.Context, tx *sqlx.Tx, studyID, trialID int) error {
	var exists bool
	if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM trials WHERE retry_of = $1)`, trialID); err != nil {
		return fmt.Errorf("retry trial %d: %w", trialID, err)
	}
	if exists {
		return errRetriedConcurrently
	}
	return noNumber(ctx, tx, fmt.Sprintf("retry trial %d", trialID), studyID)
}

// FinishTrial ends a RUNNING trial in one compare-and-set statement.
func (s *Storage) FinishTrial(ctx context.Context, trialID int, state goptuna.TrialState, value float64, reason string) error {
	if !state.IsFinished() {
		return fmt.Errorf("finish trial %d: state %s is not a final state", trialID, state)
	}
	name, err := stateName(state)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `
		UPDATE trials SET state = $2, value = $3, reason = $4, finished_at = now()
		WHERE id = $1 AND state = 'RUNNING'`, trialID, name, value, reason)
	if err != nil {
		return fmt.Errorf("finish trial %d: %w", trialID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.trialStateError(ctx, "finish trial", trialID)
	}
	return nil
}

// RecordLateResult keeps the result of a trial finished elsewhere as its
// user attrs late_value and late_state (see sweep.LateResultRecorder),
// in one statement; the trial's state and value stay as they are.
func (s *Storage) RecordLateResult(ctx context.Context, trialID int, state goptuna.TrialState, value float64) error {
	name, err := stateName(state)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO trial_user_attrs (trial_id, key, value)
		SELECT id, a.key, a.value FROM trials, (VALUES ($2, $3), ($4, $5)) AS a (key, value) WHERE id = $1
		ON CONFLICT (trial_id, key) DO UPDATE SET value = EXCLUDED.value`,
		trialID, sweep.LateResultAttr, strconv.FormatFloat(value, 'g', -1, 64), sweep.LateStateAttr, name)
	if err != nil {
		return fmt.Errorf("record late result of trial %d: %w", trialID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("record late result of trial %d: %w", trialID, goptuna.ErrInvalidTrialID)
	}
	return nil
}

// Heartbeat refreshes a RUNNING trial's heartbeat (database clock).
func (s *Storage) Heartbeat(ctx context.Context, trialID int) error {
	res, err := s.beat.ExecContext(ctx, `UPDATE trials SET heartbeat_at = now() WHERE id = $1 AND state = 'RUNNING'`, trialID)
	if err != nil {
		return fmt.Errorf("heartbeat trial %d: %w", trialID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.trialStateError(ctx, "heartbeat trial", trialID)
	}
	return nil
}

// ReapStale fails RUNNING trials whose heartbeat is older than grace. Both
// sides use the database clock, so clock skew between machines does not
// matter. The UPDATE is the compare-and-set: a result arriving later finds
// the trial FAIL and gets sweep.ErrTrialFinished. Nothing is reaped until
// the server has been up for grace: after a restart every heartbeat is old,
// and the workers need that long to reconnect and beat again.
func (s *Storage) ReapStale(ctx context.Context, studyID int, grace time.Duration) ([]int, error) {
	if grace <= 0 {
		return nil, fmt.Errorf("reap stale trials: grace %v must be positive", grace)
	}
	var ids []int
	err := s.beat.SelectContext(ctx, &ids, `
		UPDATE trials SET state = 'FAIL', reason = 'stale', finished_at = now()
		WHERE study_id = $1 AND state = 'RUNNING'
		  AND COALESCE(heartbeat_at, started_at, created_at) < now() - make_interval(secs => $2)
		  AND pg_postmaster_start_time() < now() - make_interval(secs => $2)
		RETURNING id`, studyID, grace.Seconds())
	if err != nil {
		return nil, fmt.Errorf("reap stale trials: %w", err)
	}
	return ids, nil
}

// SetTrialState moves a trial between states with goptuna's rules:
// WAITING → RUNNING (taking a queued trial; another taker gets
// goptuna.ErrTrialCannotBeUpdated unwrapped, which goptuna's queue
// expects), RUNNING/WAITING → WAITING, and RUNNING/WAITING → a final
// state. A finished trial never changes (sweep.ErrTrialFinished).
func (s *Storage) SetTrialState(trialID int, state goptuna.TrialState) error {
	ctx, cancel := s.call()
	defer cancel()
	name, err := stateName(state)
	if err != nil {
		return err
	}
	query, args := `UPDATE trials SET state = $2, finished_at = now() WHERE id = $1 AND state IN ('RUNNING', 'WAITING')`, []any{trialID, name}
	switch state {
	case goptuna.TrialStateRunning:
		query, args = `UPDATE trials SET state = 'RUNNING', started_at = now(), heartbeat_at = now() WHERE id = $1 AND state = 'WAITING'`, args[:1]
	case goptuna.TrialStateWaiting:
		query = `UPDATE trials SET state = $2 WHERE id = $1 AND state IN ('RUNNING', 'WAITING')`
	}
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("set trial state %d: %w", trialID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	err = s.trialStateError(ctx, "set trial state", trialID)
	if state == goptuna.TrialStateRunning && !errors.Is(err, sweep.ErrTrialFinished) && errors.Is(err, goptuna.ErrTrialCannotBeUpdated) {
		return goptuna.ErrTrialCannotBeUpdated
	}
	return err
}

// SetTrialValue sets the objective value of an unfinished trial. NaN and
// ±Inf are stored as such.
func (s *Storage) SetTrialValue(trialID int, value float64) error {
	ctx, cancel := s.call()
	defer cancel()
	res, err := s.db.ExecContext(ctx, `UPDATE trials SET value = $2 WHERE id = $1 AND state IN ('RUNNING', 'WAITING')`, trialID, value)
	if err != nil {
		return fmt.Errorf("set trial value %d: %w", trialID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.trialStateError(ctx, "set trial value", trialID)
	}
	return nil
}

// nullValue stores a zero value of an unfinished clone as NULL: goptuna
// fills Value with 0 for trials that have none.
func nullValue(st goptuna.TrialState, v float64) sql.NullFloat64 {
	return sql.NullFloat64{Float64: v, Valid: st.IsFinished() || (v != 0 && !math.IsNaN(v))}
}

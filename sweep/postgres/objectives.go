package postgres

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"sweep/search/mo"
	"sweep/sweep"
)

var (
	_ sweep.ValuesRecorder     = (*Storage)(nil)
	_ sweep.ObjectivesRecorder = (*Storage)(nil)
)

// RecordValues stores a multi-objective trial's values and its constraint
// values (see sweep.ValuesRecorder) in the columns of migration 0004 and,
// in the same statement, as the system attrs the samplers read. Finished
// trials reject it.
func (s *Storage) RecordValues(ctx context.Context, trialID int, values, constraints []float64) error {
	var keys, texts []string
	var violation any
	if values != nil {
		keys, texts = append(keys, mo.ValuesAttr), append(texts, mo.FormatValues(values))
	}
	if constraints != nil {
		keys, texts = append(keys, mo.ConstraintsAttr), append(texts, mo.FormatValues(constraints))
		violation = mo.Violation(constraints)
	}
	const op = "record values of trial"
	var n int
	err := s.db.QueryRowxContext(ctx, `
		WITH t AS (SELECT id FROM trials WHERE id = $1 AND state IN ('RUNNING', 'WAITING') FOR UPDATE),
		u AS (
			UPDATE trials SET objective_values = $2, constraint_values = $3, constraint_violation = $4
			FROM t WHERE trials.id = t.id RETURNING trials.id),
		a AS (
			INSERT INTO trial_system_attrs (trial_id, key, value)
			SELECT u.id, x.key, x.value FROM u, unnest($5::text[], $6::text[]) AS x (key, value)
			ON CONFLICT (trial_id, key) DO UPDATE SET value = EXCLUDED.value)
		SELECT count(*) FROM u`,
		trialID, pq.Float64Array(values), pq.Float64Array(constraints), violation,
		pq.StringArray(keys), pq.StringArray(texts)).Scan(&n)
	if err != nil {
		return fmt.Errorf("%s %d: %w", op, trialID, err)
	}
	if n == 0 {
		return s.trialStateError(ctx, op, trialID)
	}
	return nil
}

// SetStudyObjectives records a multi-objective study's metrics and
// directions (see sweep.ObjectivesRecorder); nil lists make it a
// single-objective study again.
func (s *Storage) SetStudyObjectives(ctx context.Context, studyID int, metrics, directions []string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE studies SET metrics = $2, directions = $3 WHERE id = $1`,
		studyID, pq.StringArray(metrics), pq.StringArray(directions))
	if err != nil {
		return fmt.Errorf("set objectives of study %d: %w", studyID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set objectives of study %d: %w", studyID, sweep.ErrStudyNotFound)
	}
	return nil
}

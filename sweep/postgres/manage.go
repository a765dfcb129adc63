package postgres

import (
	"context"
	"fmt"

	"github.com/c-bata/goptuna"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"sweep/sweep"
)

var (
	_ sweep.StopRecorder   = (*Storage)(nil)
	_ sweep.FailureCounter = (*Storage)(nil)
)

// RecordStop keeps the first stop reason of a study; see
// sweep.StopRecorder. A forced spec update (EnsureStudy) clears it.
func (s *Storage) RecordStop(ctx context.Context, studyID int, reason string) error {
	res, err := s.db.ExecContext(ctx, `
		UPDATE studies SET stop_reason = CASE WHEN stop_reason = '' THEN $2 ELSE stop_reason END
		WHERE id = $1`, studyID, reason)
	return checkOne(res, err, "record stop of study", studyID, goptuna.ErrInvalidStudyID)
}

// CountFailures counts the study's FAIL trials that an interrupt did not
// cause; see sweep.FailureCounter.
func (s *Storage) CountFailures(ctx context.Context, studyID int) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `
		SELECT count(*) FROM trials WHERE study_id = $1 AND state = 'FAIL' AND reason <> $2`, studyID, sweep.ReasonInterrupted)
	if err != nil {
		return 0, fmt.Errorf("count failures of study %d: %w", studyID, err)
	}
	return n, nil
}

// RenameStudy gives a study a new name and the spec that says it (see
// search.SetStudyName), in one statement. Every other table refers to the
// study by id, so nothing else changes. Another study holding the name is
// an error naming it.
func (s *Storage) RenameStudy(ctx context.Context, studyID int, name string, spec []byte) error {
	res, err := s.db.ExecContext(ctx, `UPDATE studies SET name = $2, spec = $3 WHERE id = $1`, studyID, name, string(spec))
	if pqCode(err) == codeUniqueViolation {
		return fmt.Errorf("rename study %d: a study named %q exists", studyID, name)
	}
	return checkOne(res, err, "rename study", studyID, goptuna.ErrInvalidStudyID)
}

// SetStudyNote replaces a study's note, or with appendLine adds text as
// a new line at its end, and returns the note as stored.
func (s *Storage) SetStudyNote(ctx context.Context, studyID int, text string, appendLine bool) (string, error) {
	query := `UPDATE studies SET note = $2 WHERE id = $1 RETURNING note`
	if appendLine {
		query = `UPDATE studies SET note = CASE WHEN note = '' THEN $2 ELSE note || E'\n' || $2 END WHERE id = $1 RETURNING note`
	}
	var note string
	err := s.db.GetContext(ctx, &note, query, studyID, text)
	return note, notFound(err, "set note of study", studyID, goptuna.ErrInvalidStudyID)
}

// StudyNote returns a study's note ("" when it has none).
func (s *Storage) StudyNote(ctx context.Context, studyID int) (string, error) {
	var note string
	err := s.db.GetContext(ctx, &note, `SELECT note FROM studies WHERE id = $1`, studyID)
	return note, notFound(err, "get note of study", studyID, goptuna.ErrInvalidStudyID)
}

// TagStudy adds the tags in add and removes those in remove (adding a tag
// the study has, or removing one it lacks, changes nothing), then returns
// the study's tags in order. With neither it only reads them.
func (s *Storage) TagStudy(ctx context.Context, studyID int, add, remove []string) ([]string, error) {
	var tags []string
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM studies WHERE id = $1)`, studyID); err != nil {
			return fmt.Errorf("tag study %d: %w", studyID, err)
		}
		if !exists {
			return fmt.Errorf("tag study %d: %w", studyID, goptuna.ErrInvalidStudyID)
		}
		if len(add) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO study_tags (study_id, tag) SELECT $1, unnest($2::text[])
				ON CONFLICT DO NOTHING`, studyID, pq.Array(add)); err != nil {
				return fmt.Errorf("tag study %d: %w", studyID, err)
			}
		}
		if len(remove) > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM study_tags WHERE study_id = $1 AND tag = ANY($2::text[])`,
				studyID, pq.Array(remove)); err != nil {
				return fmt.Errorf("untag study %d: %w", studyID, err)
			}
		}
		if err := tx.SelectContext(ctx, &tags, `SELECT tag FROM study_tags WHERE study_id = $1 ORDER BY tag`, studyID); err != nil {
			return fmt.Errorf("list tags of study %d: %w", studyID, err)
		}
		return nil
	})
	return tags, err
}

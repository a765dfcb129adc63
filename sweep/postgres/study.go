package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/c-bata/goptuna"
	"github.com/jmoiron/sqlx"

	"sweep/sweep"
)

// studyRow is a studies row as sweep.StudyInfo needs it.
type studyRow struct {
	ID        int           `db:"id"`
	Name      string        `db:"name"`
	Direction string        `db:"direction"`
	Metric    string        `db:"metric"`
	Spec      []byte        `db:"spec"`
	Status    string        `db:"status"`
	Budget    sql.NullInt64 `db:"trial_budget"`
	Created   time.Time     `db:"created_at"`
	Finished  sql.NullTime  `db:"finished_at"`
	Stop      string        `db:"stop_reason"`
}

const studyCols = `id, name, direction, metric, spec, status, trial_budget, created_at, finished_at, stop_reason`

func (r studyRow) info() sweep.StudyInfo {
	return sweep.StudyInfo{
		ID: r.ID, Name: r.Name, Direction: r.Direction, Metric: r.Metric, Spec: r.Spec,
		Status: r.Status, Trials: int(r.Budget.Int64), Created: r.Created, StopReason: r.Stop,
	}
}

// budget maps StudyInfo.Trials to the column: 0 (or less) is unlimited.
func budget(n int) sql.NullInt64 {
	return sql.NullInt64{Int64: int64(n), Valid: n > 0}
}

func checkDirection(d string) error {
	if d != string(goptuna.StudyDirectionMaximize) && d != string(goptuna.StudyDirectionMinimize) {
		return fmt.Errorf("direction %q: want maximize or minimize", d)
	}
	return nil
}

// EnsureStudy creates the study or returns the stored one; see sweep.Store.
// The spec comparison is byte for byte: the stored spec is the file as the
// user gave it, and a resumed study must be the same experiment. A forced
// update also sets direction, metric and budget from info and marks the
// study running again (a raised budget reopens a finished study).
func (s *Storage) EnsureStudy(ctx context.Context, info sweep.StudyInfo, force bool) (sweep.StudyInfo, bool, error) {
	if err := checkDirection(info.Direction); err != nil {
		return sweep.StudyInfo{}, false, fmt.Errorf("ensure study %q: %w", info.Name, err)
	}
	if info.Name == "" {
		return sweep.StudyInfo{}, false, fmt.Errorf("ensure study: empty name")
	}
	var r studyRow
	err := s.db.QueryRowxContext(ctx, `
		INSERT INTO studies (name, direction, metric, spec, trial_budget)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO NOTHING
		RETURNING `+studyCols,
		info.Name, info.Direction, info.Metric, string(info.Spec), budget(info.Trials)).StructScan(&r)
	if err == nil {
		return r.info(), true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return sweep.StudyInfo{}, false, fmt.Errorf("create study %q: %w", info.Name, err)
	}
	if err := s.db.GetContext(ctx, &r, `SELECT `+studyCols+` FROM studies WHERE name = $1`, info.Name); err != nil {
		return sweep.StudyInfo{}, false, fmt.Errorf("load study %q: %w", info.Name, err)
	}
	if bytes.Equal(r.Spec, info.Spec) {
		return r.info(), false, nil
	}
	if !force {
		return r.info(), false, fmt.Errorf("ensure study %q: %w", info.Name, sweep.ErrSpecChanged)
	}
	err = s.db.QueryRowxContext(ctx, `
		UPDATE studies
		SET spec = $2, direction = $3, metric = $4, trial_budget = $5, status = 'running', finished_at = NULL,
		    stop_reason = ''
		WHERE id = $1
		RETURNING `+studyCols,
		r.ID, string(info.Spec), info.Direction, info.Metric, budget(info.Trials)).StructScan(&r)
	if err != nil {
		return sweep.StudyInfo{}, false, fmt.Errorf("update study %q: %w", info.Name, err)
	}
	return r.info(), false, nil
}

// Study loads a study by name; sweep.ErrStudyNotFound when there is none.
func (s *Storage) Study(ctx context.Context, name string) (sweep.StudyInfo, error) {
	var r studyRow
	err := s.db.GetContext(ctx, &r, `SELECT `+studyCols+` FROM studies WHERE name = $1`, name)
	if errors.Is(err, sql.ErrNoRows) {
		return sweep.StudyInfo{}, fmt.Errorf("load study %q: %w", name, sweep.ErrStudyNotFound)
	}
	if err != nil {
		return sweep.StudyInfo{}, fmt.Errorf("load study %q: %w", name, err)
	}
	return r.info(), nil
}

// SetStudyStatus marks a study finished or running again.
func (s *Storage) SetStudyStatus(ctx context.Context, studyID int, status string) error {
	if status != "running" && status != "finished" {
		return fmt.Errorf("set study status %q: want running or finished", status)
	}
	res, err := s.db.ExecContext(ctx, `
		UPDATE studies
		SET status = $2, finished_at = CASE WHEN $2 = 'finished' THEN now() END
		WHERE id = $1`, studyID, status)
	return checkOne(res, err, "set study status", studyID, goptuna.ErrInvalidStudyID)
}

// checkOne turns "no row changed" into notFound.
func checkOne(res sql.Result, err error, op string, id int, notFound error) error {
	if err != nil {
		return fmt.Errorf("%s %d: %w", op, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s %d: %w", op, id, err)
	} else if n == 0 {
		return fmt.Errorf("%s %d: %w", op, id, notFound)
	}
	return nil
}

// CreateNewStudy creates a study with goptuna's defaults (minimize, no
// budget). An empty name gets goptuna's prefix and a random suffix.
func (s *Storage) CreateNewStudy(name string) (int, error) {
	ctx, cancel := s.call()
	defer cancel()
	if name == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		name = goptuna.DefaultStudyNamePrefix + hex.EncodeToString(b[:])
	}
	var id int
	err := s.db.QueryRowxContext(ctx, `INSERT INTO studies (name) VALUES ($1) RETURNING id`, name).Scan(&id)
	if pqCode(err) == codeUniqueViolation {
		return -1, fmt.Errorf("create study %q: a study with that name exists", name)
	}
	if err != nil {
		return -1, fmt.Errorf("create study %q: %w", name, err)
	}
	return id, nil
}

// DeleteStudy deletes a study and, by cascade, all its trials.
func (s *Storage) DeleteStudy(studyID int) error {
	ctx, cancel := s.call()
	defer cancel()
	res, err := s.db.ExecContext(ctx, `DELETE FROM studies WHERE id = $1`, studyID)
	if err := checkOne(res, err, "delete study", studyID, goptuna.ErrInvalidStudyID); err != nil {
		return err
	}
	s.cache.dropStudy(studyID)
	return nil
}

// SetStudyDirection sets the optimisation direction.
func (s *Storage) SetStudyDirection(studyID int, direction goptuna.StudyDirection) error {
	ctx, cancel := s.call()
	defer cancel()
	if err := checkDirection(string(direction)); err != nil {
		return fmt.Errorf("set study direction %d: %w", studyID, err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE studies SET direction = $2 WHERE id = $1`, studyID, string(direction))
	return checkOne(res, err, "set study direction", studyID, goptuna.ErrInvalidStudyID)
}

// SetStudyUserAttr sets (or replaces) a user attribute of a study.
func (s *Storage) SetStudyUserAttr(studyID int, key, value string) error {
	return s.setStudyAttr("study_user_attrs", studyID, key, value)
}

// SetStudySystemAttr sets (or replaces) a system attribute of a study.
func (s *Storage) SetStudySystemAttr(studyID int, key, value string) error {
	return s.setStudyAttr("study_system_attrs", studyID, key, value)
}

// setStudyAttr upserts into table, one of the two study attr tables (a
// constant chosen by the caller, never user input).
func (s *Storage) setStudyAttr(table string, studyID int, key, value string) error {
	ctx, cancel := s.call()
	defer cancel()
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO `+table+` (study_id, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (study_id, key) DO UPDATE SET value = EXCLUDED.value`, studyID, key, value)
	if pqCode(err) == codeForeignKeyViolation {
		return fmt.Errorf("set study attr %q: %w", key, goptuna.ErrInvalidStudyID)
	}
	if err != nil {
		return fmt.Errorf("set study attr %q: %w", key, err)
	}
	return nil
}

// GetStudyIDFromName returns the ID of the named study; the error wraps
// sweep.ErrStudyNotFound when there is none.
func (s *Storage) GetStudyIDFromName(name string) (int, error) {
	ctx, cancel := s.call()
	defer cancel()
	var id int
	err := s.db.GetContext(ctx, &id, `SELECT id FROM studies WHERE name = $1`, name)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, fmt.Errorf("find study %q: %w", name, sweep.ErrStudyNotFound)
	}
	if err != nil {
		return -1, fmt.Errorf("find study %q: %w", name, err)
	}
	return id, nil
}

// GetStudyIDFromTrialID returns the study a trial belongs to.
func (s *Storage) GetStudyIDFromTrialID(trialID int) (int, error) {
	ctx, cancel := s.call()
	defer cancel()
	var id int
	err := s.db.GetContext(ctx, &id, `SELECT study_id FROM trials WHERE id = $1`, trialID)
	return id, notFound(err, "find study of trial", trialID, goptuna.ErrInvalidTrialID)
}

// GetStudyNameFromID returns a study's name.
func (s *Storage) GetStudyNameFromID(studyID int) (string, error) {
	ctx, cancel := s.call()
	defer cancel()
	var name string
	err := s.db.GetContext(ctx, &name, `SELECT name FROM studies WHERE id = $1`, studyID)
	return name, notFound(err, "find study name", studyID, goptuna.ErrInvalidStudyID)
}

// GetStudyDirection returns a study's direction.
func (s *Storage) GetStudyDirection(studyID int) (goptuna.StudyDirection, error) {
	ctx, cancel := s.call()
	defer cancel()
	var d string
	err := s.db.GetContext(ctx, &d, `SELECT direction FROM studies WHERE id = $1`, studyID)
	return goptuna.StudyDirection(d), notFound(err, "get study direction", studyID, goptuna.ErrInvalidStudyID)
}

// notFound wraps err, mapping sql.ErrNoRows to sentinel.
func notFound(err error, op string, id int, sentinel error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %d: %w", op, id, sentinel)
	}
	if err != nil {
		return fmt.Errorf("%s %d: %w", op, id, err)
	}
	return nil
}

// GetStudyUserAttrs returns a copy of a study's user attributes.
func (s *Storage) GetStudyUserAttrs(studyID int) (map[string]string, error) {
	ctx, cancel := s.call()
	defer cancel()
	return s.studyAttrs(ctx, s.db, "study_user_attrs", studyID)
}

// GetStudySystemAttrs returns a copy of a study's system attributes.
func (s *Storage) GetStudySystemAttrs(studyID int) (map[string]string, error) {
	ctx, cancel := s.call()
	defer cancel()
	return s.studyAttrs(ctx, s.db, "study_system_attrs", studyID)
}

func (s *Storage) studyAttrs(ctx context.Context, q sqlx.QueryerContext, table string, studyID int) (map[string]string, error) {
	m, err := attrs(ctx, q, `SELECT key, value FROM `+table+` WHERE study_id = $1`, studyID)
	if err != nil {
		return nil, fmt.Errorf("get study attrs %d: %w", studyID, err)
	}
	if len(m) == 0 {
		var exists bool
		if err := sqlx.GetContext(ctx, q, &exists, `SELECT EXISTS (SELECT 1 FROM studies WHERE id = $1)`, studyID); err != nil {
			return nil, fmt.Errorf("get study attrs %d: %w", studyID, err)
		}
		if !exists {
			return nil, fmt.Errorf("get study attrs %d: %w", studyID, goptuna.ErrInvalidStudyID)
		}
	}
	return m, nil
}

// attrs runs a (key, value) query into a map.
func attrs(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (map[string]string, error) {
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, rows.Err()
}

// GetAllStudySummaries returns every study with its best COMPLETE trial
// (zero when none) and the start of its first trial.
func (s *Storage) GetAllStudySummaries() ([]goptuna.StudySummary, error) {
	ctx, cancel := s.call()
	defer cancel()
	var rows []struct {
		ID        int           `db:"id"`
		Name      string        `db:"name"`
		Direction string        `db:"direction"`
		Start     sql.NullTime  `db:"start"`
		Best      sql.NullInt64 `db:"best"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		SELECT s.id, s.name, s.direction,
		       (SELECT min(t.started_at) FROM trials t WHERE t.study_id = s.id) AS start,
		       (SELECT t.id FROM trials t
		        WHERE t.study_id = s.id AND t.state = 'COMPLETE' AND t.value IS NOT NULL AND t.value <> 'NaN'
		        ORDER BY CASE WHEN s.direction = 'maximize' THEN -t.value ELSE t.value END, t.number
		        LIMIT 1) AS best
		FROM studies s ORDER BY s.id`)
	if err != nil {
		return nil, fmt.Errorf("list studies: %w", err)
	}
	out := make([]goptuna.StudySummary, 0, len(rows))
	for _, r := range rows {
		sum := goptuna.StudySummary{ID: r.ID, Name: r.Name, Direction: goptuna.StudyDirection(r.Direction),
			DatetimeStart: r.Start.Time}
		if r.Best.Valid {
			if sum.BestTrial, err = s.getTrial(ctx, int(r.Best.Int64)); err != nil {
				return nil, err
			}
		}
		if sum.UserAttrs, err = s.studyAttrs(ctx, s.db, "study_user_attrs", r.ID); err != nil {
			return nil, err
		}
		if sum.SystemAttrs, err = s.studyAttrs(ctx, s.db, "study_system_attrs", r.ID); err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, nil
}

package optuna

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	_ "github.com/lib/pq" // ReadRDB opens Optuna's PostgreSQL storage

	"sweep/internal/pyjson"
)

// readRDB reads one study from Optuna's tables on db.
func readRDB(ctx context.Context, db *sql.DB, name string) (*Study, error) {
	st := &Study{Name: name, UserAttrs: map[string]json.RawMessage{}}
	var studyID, objectives int
	var direction string
	err := db.QueryRowContext(ctx, `SELECT s.study_id, min(d.direction::text), count(d.*) FROM studies s
LEFT JOIN study_directions d ON d.study_id = s.study_id WHERE s.study_name = $1 GROUP BY s.study_id`, name).
		Scan(&studyID, &direction, &objectives)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read optuna storage: %w: %q", ErrStudyNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read optuna storage: %w", err)
	}
	if objectives != 1 {
		return nil, ErrMultiObjective
	}
	st.Direction = map[string]string{"MAXIMIZE": "maximize"}[direction]
	if st.Direction == "" {
		st.Direction = "minimize"
	}
	if err := eachRow(ctx, db, `SELECT key, value_json FROM study_user_attributes WHERE study_id = $1`, studyID,
		func(r *sql.Rows) error {
			var k, v string
			err := r.Scan(&k, &v)
			st.UserAttrs[k] = json.RawMessage(pyjson.Quote([]byte(v)))
			return err
		}); err != nil {
		return nil, fmt.Errorf("read study attrs: %w", err)
	}
	byID := map[int]*Trial{}
	var order []*Trial
	if err := eachRow(ctx, db, `SELECT t.trial_id, t.number, t.state::text, t.datetime_start, t.datetime_complete,
	v.value, v.value_type::text
FROM trials t LEFT JOIN trial_values v ON v.trial_id = t.trial_id AND v.objective = 0
WHERE t.study_id = $1 ORDER BY t.number`, studyID, func(r *sql.Rows) error {
		var id int
		var start, end sql.NullTime
		var v sql.NullFloat64
		var typ sql.NullString
		t := newTrial(0)
		if err := r.Scan(&id, &t.Number, &t.State, &start, &end, &v, &typ); err != nil {
			return err
		}
		t.Start, t.End = localTime(start), localTime(end)
		if typ.Valid {
			x := optunaValue(v, typ.String)
			t.Value = &x
		}
		byID[id], order = t, append(order, t)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read trials: %w", err)
	}
	if err := readRDBDetails(ctx, db, studyID, byID); err != nil {
		return nil, err
	}
	for _, t := range order {
		st.Trials = append(st.Trials, *t)
	}
	return st, nil
}

// readRDBDetails adds params, intermediate values, user attrs and fail
// reasons to the study's trials (by Optuna trial id).
func readRDBDetails(ctx context.Context, db *sql.DB, studyID int, byID map[int]*Trial) error {
	in := ` WHERE trial_id IN (SELECT trial_id FROM trials WHERE study_id = $1)`
	parts := []struct {
		query string
		scan  func(r *sql.Rows) error
	}{
		{`SELECT trial_id, param_name, param_value, distribution_json FROM trial_params` + in + ` ORDER BY param_id`,
			func(r *sql.Rows) error {
				var id int
				var name, dist string
				var x float64
				if err := r.Scan(&id, &name, &x, &dist); err != nil {
					return err
				}
				if t := byID[id]; t != nil {
					t.setParam(name, x, json.RawMessage(dist))
				}
				return nil
			}},
		{`SELECT trial_id, step, intermediate_value, intermediate_value_type::text FROM trial_intermediate_values` + in,
			func(r *sql.Rows) error {
				var id, step int
				var v sql.NullFloat64
				var typ string
				if err := r.Scan(&id, &step, &v, &typ); err != nil {
					return err
				}
				if t := byID[id]; t != nil {
					t.Intermediate[step] = optunaValue(v, typ)
				}
				return nil
			}},
		{`SELECT trial_id, key, value_json FROM trial_user_attributes` + in, func(r *sql.Rows) error {
			var id int
			var k, v string
			if err := r.Scan(&id, &k, &v); err != nil {
				return err
			}
			if t := byID[id]; t != nil {
				t.UserAttrs[k] = json.RawMessage(pyjson.Quote([]byte(v)))
			}
			return nil
		}},
		{`SELECT trial_id, value_json FROM trial_system_attributes` + in + ` AND key = 'fail_reason'`, func(r *sql.Rows) error {
			var id int
			var v string
			if err := r.Scan(&id, &v); err != nil {
				return err
			}
			if t := byID[id]; t != nil {
				json.Unmarshal([]byte(v), &t.FailReason)
			}
			return nil
		}},
	}
	for _, p := range parts {
		if err := eachRow(ctx, db, p.query, studyID, p.scan); err != nil {
			return fmt.Errorf("read trials: %w", err)
		}
	}
	return nil
}

// localTime reads Optuna's naive local datetime (lib/pq returns it in UTC
// with the same wall clock) as a time in time.Local.
func localTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	w := t.Time
	l := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.Local)
	return &l
}

package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// This file is the only one in the package that speaks SQL. Every query
// reads a report_* view from sql/views, documented in docs/reports.md, so a
// psql user who runs the same SELECT sees the same numbers.

// Data is what a report reads from the database for one study, as plain
// rows. Tests and benchmarks build it directly.
type Data struct {
	Study       StudyRow
	Summary     SummaryRow
	Trials      []TrialRow    // every trial, by number
	Params      []ParamRow    // parameters in spec order
	History     []HistoryRow  // finished trials by number, with best-so-far
	Curves      []CurvePoint  // intermediate values, by trial number then step
	BestMetrics []MetricPoint // trial_metrics of the best trial, by name then step
}

// StudyRow is a study as stored.
type StudyRow struct {
	ID        int       `db:"id" json:"id"`
	Name      string    `db:"name" json:"name"`
	Direction string    `db:"direction" json:"direction"`
	Metric    string    `db:"metric" json:"metric"`
	Spec      string    `db:"spec" json:"-"`
	Status    string    `db:"status" json:"status"`
	Created   time.Time `db:"created_at" json:"created_at"`
}

// SummaryRow is one row of the report_study_summary view. Steps are report
// steps (epochs); times are seconds; shares are fractions in [0,1].
type SummaryRow struct {
	Trials   int `db:"trials" json:"trials"`
	Complete int `db:"complete" json:"complete"`
	Pruned   int `db:"pruned" json:"pruned"`
	Failed   int `db:"failed" json:"failed"`
	Running  int `db:"running" json:"running"`
	Waiting  int `db:"waiting" json:"waiting"`
	// FullSteps is the steps of a trial run to the end: the most steps any
	// complete trial reported.
	FullSteps      int        `db:"full_steps" json:"full_steps"`
	StepsUsed      int        `db:"steps_used" json:"steps_used"`
	StepsFull      int        `db:"steps_full" json:"steps_full"`
	StepsSaved     float64    `db:"steps_saved_share" json:"steps_saved_share"`
	WallUsedS      float64    `db:"wall_used_s" json:"wall_used_s"`
	WallFullS      float64    `db:"wall_full_s" json:"wall_full_s"`
	WallSaved      float64    `db:"wall_saved_share" json:"wall_saved_share"`
	ElapsedS       float64    `db:"elapsed_s" json:"elapsed_s"`
	Workers        int        `db:"workers" json:"workers"`
	Hosts          int        `db:"hosts" json:"hosts"`
	BestNumber     *int       `db:"best_number" json:"best_number,omitempty"`
	BestValue      *float64   `db:"best_value" json:"best_value,omitempty"`
	WorkerNames    string     `db:"worker_names" json:"worker_names"`
	FirstStartedAt *time.Time `db:"started_at" json:"started_at,omitempty"`
}

// TrialRow is one row of the report_trials view.
type TrialRow struct {
	Number    int            `json:"number"`
	State     string         `json:"state"`
	Value     *float64       `json:"value"` // nil: no (finite) value
	Params    map[string]any `json:"params"`
	Steps     int            `json:"steps"` // last reported step, 0 if none
	DurationS float64        `json:"duration_s"`
	Worker    string         `json:"worker"`
	Reason    string         `json:"reason,omitempty"`
	TestAcc   *float64       `json:"test_acc,omitempty"` // user attr test_acc
	// Started and Finished are the trial's start and end (UTC); nil before
	// it starts and while it runs. Worker is "<worker id>/<slot>", so
	// together they give the timeline of each slot.
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
}

// ParamRow is one row of the report_params view: a parameter and its
// distribution as stored with the trials.
type ParamRow struct {
	Name    string  `json:"name"`
	Kind    string  `json:"kind"` // "float", "int" or "categorical"
	Log     bool    `json:"log,omitempty"`
	Low     float64 `json:"low,omitempty"`
	High    float64 `json:"high,omitempty"`
	Choices []any   `json:"choices,omitempty"`
	Trials  int     `json:"trials"` // trials that sampled it
}

// HistoryRow is one row of the report_history view: the n-th finished
// trial and the best complete value among the first n.
type HistoryRow struct {
	N         int      `db:"n" json:"n"`
	Number    int      `db:"number" json:"number"`
	State     string   `db:"state" json:"state"`
	Value     *float64 `db:"value" json:"value"`
	BestSoFar *float64 `db:"best_so_far" json:"best_so_far"`
}

// CurvePoint is one intermediate value (report_curves view). ElapsedS is
// seconds from the trial's start to the report, or -1 when unknown.
type CurvePoint struct {
	Number   int     `db:"number"`
	Step     int     `db:"step"`
	Value    float64 `db:"value"`
	ElapsedS float64 `db:"elapsed_s"`
}

// MetricPoint is one per-step training metric (report_metrics view).
type MetricPoint struct {
	Name  string  `db:"name" json:"name"`
	Step  int     `db:"step" json:"step"`
	Value float64 `db:"value" json:"value"`
}

// Load reads one study's report rows in one read-only, repeatable-read
// transaction, so that every table agrees even while workers are still
// writing. The returned error wraps ErrNoStudy when no study has that name.
func Load(ctx context.Context, pool *sqlx.DB, study string) (*Data, error) {
	tx, err := pool.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("load study %q: %w", study, err)
	}
	defer tx.Rollback() // read-only: nothing to commit
	return load(ctx, tx, study)
}

func load(ctx context.Context, db sqlx.QueryerContext, study string) (*Data, error) {
	d := &Data{}
	err := sqlx.GetContext(ctx, db, &d.Study, `
		SELECT id, name, direction, metric, coalesce(spec, '') AS spec,
		       coalesce(status, '') AS status, created_at
		FROM studies WHERE name = $1`, study)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load study %q: %w", study, ErrNoStudy)
	}
	if err != nil {
		return nil, fmt.Errorf("load study %q: %w", study, err)
	}
	id := d.Study.ID
	steps := []struct {
		what string
		fn   func() error
	}{
		{"summary", func() error { return loadSummary(ctx, db, id, &d.Summary) }},
		{"trials", func() error { return loadTrials(ctx, db, id, &d.Trials) }},
		{"params", func() error { return loadParams(ctx, db, id, d.Study.Spec, &d.Params) }},
		{"history", func() error {
			return sqlx.SelectContext(ctx, db, &d.History, `
				SELECT n, number, state, value, best_so_far
				FROM report_history WHERE study_id = $1 ORDER BY n`, id)
		}},
		{"curves", func() error {
			return sqlx.SelectContext(ctx, db, &d.Curves, `
				SELECT number, step, value, coalesce(elapsed_s, -1) AS elapsed_s
				FROM report_curves WHERE study_id = $1 ORDER BY number, step`, id)
		}},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return nil, fmt.Errorf("load %s of study %q: %w", s.what, study, err)
		}
	}
	// Times print the same whatever the session's TimeZone.
	d.Study.Created = d.Study.Created.UTC()
	if t := d.Summary.FirstStartedAt; t != nil {
		u := t.UTC()
		d.Summary.FirstStartedAt = &u
	}
	if d.Summary.BestNumber != nil {
		err := sqlx.SelectContext(ctx, db, &d.BestMetrics, `
			SELECT name, step, value FROM report_metrics
			WHERE study_id = $1 AND number = $2 ORDER BY name, step`, id, *d.Summary.BestNumber)
		if err != nil {
			return nil, fmt.Errorf("load metrics of study %q: %w", study, err)
		}
	}
	return d, nil
}

func loadSummary(ctx context.Context, db sqlx.QueryerContext, id int, s *SummaryRow) error {
	return sqlx.GetContext(ctx, db, s, `
		SELECT trials, complete, pruned, failed, running, waiting,
		       full_steps, steps_used, steps_full, steps_saved_share,
		       wall_used_s, wall_full_s, wall_saved_share, elapsed_s,
		       workers, hosts, worker_names, best_number, best_value, started_at
		FROM report_study_summary WHERE study_id = $1`, id)
}

func loadTrials(ctx context.Context, db sqlx.QueryerContext, id int, out *[]TrialRow) error {
	return loadTrialRows(ctx, db, `WHERE study_id = $1`, out, id)
}

// loadTrialRows reads the report_trials rows that where selects, by number.
func loadTrialRows(ctx context.Context, db sqlx.QueryerContext, where string, out *[]TrialRow, args ...any) error {
	rows, err := db.QueryxContext(ctx, `
		SELECT number, state, value, params, steps, duration_s,
		       coalesce(worker, '') AS worker, coalesce(reason, '') AS reason, test_acc,
		       started, finished
		FROM report_trials `+where+` ORDER BY number`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t TrialRow
		var params []byte
		var value, testAcc sql.NullFloat64
		var started, finished sql.NullTime
		if err := rows.Scan(&t.Number, &t.State, &value, &params, &t.Steps, &t.DurationS,
			&t.Worker, &t.Reason, &testAcc, &started, &finished); err != nil {
			return err
		}
		// Times print the same whatever the session's TimeZone.
		if started.Valid {
			u := started.Time.UTC()
			t.Started = &u
		}
		if finished.Valid {
			u := finished.Time.UTC()
			t.Finished = &u
		}
		if value.Valid {
			t.Value = &value.Float64
		}
		if testAcc.Valid {
			t.TestAcc = &testAcc.Float64
		}
		if err := json.Unmarshal(params, &t.Params); err != nil {
			return fmt.Errorf("decode params of trial %d: %w", t.Number, err)
		}
		*out = append(*out, t)
	}
	return rows.Err()
}

func loadParams(ctx context.Context, db sqlx.QueryerContext, id int, spec string, out *[]ParamRow) error {
	rows, err := db.QueryxContext(ctx, `
		SELECT name, distribution, trials FROM report_params
		WHERE study_id = $1 ORDER BY first_trial, name`, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var p ParamRow
		var dist []byte
		if err := rows.Scan(&p.Name, &dist, &p.Trials); err != nil {
			return err
		}
		if err := parseDistribution(dist, &p); err != nil {
			return fmt.Errorf("decode distribution of %q: %w", p.Name, err)
		}
		*out = append(*out, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	orderBySpec(*out, spec)
	return nil
}

// StudyListRow is one study in a list of studies: a study_overview row
// plus the mean duration of its finished trials, which an ETA needs.
type StudyListRow struct {
	Name       string    `db:"study" json:"name"`
	Direction  string    `db:"direction" json:"direction"`
	Metric     string    `db:"metric" json:"metric"`
	Status     string    `db:"status" json:"status"`
	Budget     int       `db:"budget" json:"budget"` // 0: no budget stored
	Trials     int       `db:"trials" json:"trials"`
	Complete   int       `db:"complete" json:"complete"`
	Pruned     int       `db:"pruned" json:"pruned"`
	Failed     int       `db:"failed" json:"failed"`
	Running    int       `db:"running" json:"running"`
	Waiting    int       `db:"waiting" json:"waiting"`
	Best       *float64  `db:"best_value" json:"best,omitempty"`
	Created    time.Time `db:"created" json:"created"`
	Note       string    `db:"note" json:"note,omitempty"`
	StopReason string    `db:"stop_reason" json:"stop_reason,omitempty"`
	// MeanTrialS is the mean start-to-finish seconds of the finished
	// trials that have a duration; 0 when none has.
	MeanTrialS float64 `db:"mean_trial_s" json:"mean_trial_s"`
}

// LoadStudies reads every study's list row (view study_overview, and
// report_trials for the durations), oldest first.
func LoadStudies(ctx context.Context, pool *sqlx.DB) ([]StudyListRow, error) {
	var out []StudyListRow
	err := sqlx.SelectContext(ctx, pool, &out, `
		SELECT o.study, o.direction, o.metric, coalesce(o.status, '') AS status,
		       coalesce(o.budget, 0) AS budget, o.trials, o.complete, o.pruned, o.failed,
		       o.running, o.waiting,
		       CASE WHEN o.best_value IN ('Infinity'::float8, '-Infinity'::float8) THEN NULL
		            ELSE o.best_value END AS best_value,
		       o.created, o.note, o.stop_reason,
		       coalesce((SELECT avg(r.duration_s) FROM report_trials r
		                 WHERE r.study_id = o.study_id AND r.state IN ('COMPLETE', 'PRUNED', 'FAIL')
		                   AND r.duration_s > 0), 0)::float8 AS mean_trial_s
		FROM study_overview o ORDER BY o.created, o.study`)
	if err != nil {
		return nil, fmt.Errorf("load studies: %w", err)
	}
	for i := range out {
		out[i].Created = out[i].Created.UTC()
	}
	return out, nil
}

// TrialData is what one trial's page reads: the study, its parameters,
// the trial's report_trials row, user attrs, intermediate values and
// every per-step metric.
type TrialData struct {
	Study   StudyRow
	Params  []ParamRow
	Trial   TrialRow
	Attrs   map[string]string // user attrs as stored (JSON text), by key
	Curve   []CurvePoint      // intermediate values, by step
	Metrics []MetricPoint     // trial_metrics, by name then step
}

// LoadTrial reads one trial of a study in one read-only transaction. The
// error wraps ErrNoStudy or ErrNoTrial when either is missing.
func LoadTrial(ctx context.Context, pool *sqlx.DB, study string, number int) (*TrialData, error) {
	tx, err := pool.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("load trial %d of study %q: %w", number, study, err)
	}
	defer tx.Rollback() // read-only: nothing to commit
	d := &TrialData{}
	err = sqlx.GetContext(ctx, tx, &d.Study, `
		SELECT id, name, direction, metric, coalesce(spec, '') AS spec,
		       coalesce(status, '') AS status, created_at
		FROM studies WHERE name = $1`, study)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load study %q: %w", study, ErrNoStudy)
	}
	if err != nil {
		return nil, fmt.Errorf("load study %q: %w", study, err)
	}
	d.Study.Created = d.Study.Created.UTC()
	id := d.Study.ID
	var trials []TrialRow
	if err := loadTrialRows(ctx, tx, `WHERE study_id = $1 AND number = $2`, &trials, id, number); err != nil {
		return nil, fmt.Errorf("load trial %d of study %q: %w", number, study, err)
	}
	if len(trials) == 0 {
		return nil, fmt.Errorf("load trial %d of study %q: %w", number, study, ErrNoTrial)
	}
	d.Trial = trials[0]
	var attrs []byte
	steps := []struct {
		what string
		fn   func() error
	}{
		{"params", func() error { return loadParams(ctx, tx, id, d.Study.Spec, &d.Params) }},
		{"attrs", func() error {
			return tx.GetContext(ctx, &attrs, `SELECT attrs FROM report_trials WHERE study_id = $1 AND number = $2`, id, number)
		}},
		{"curve", func() error {
			return sqlx.SelectContext(ctx, tx, &d.Curve, `
				SELECT number, step, value, coalesce(elapsed_s, -1) AS elapsed_s
				FROM report_curves WHERE study_id = $1 AND number = $2 ORDER BY step`, id, number)
		}},
		{"metrics", func() error {
			return sqlx.SelectContext(ctx, tx, &d.Metrics, `
				SELECT name, step, value FROM report_metrics
				WHERE study_id = $1 AND number = $2 ORDER BY name, step`, id, number)
		}},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return nil, fmt.Errorf("load %s of trial %d of study %q: %w", s.what, number, study, err)
		}
	}
	var raw map[string]any
	if err := json.Unmarshal(attrs, &raw); err != nil {
		return nil, fmt.Errorf("decode attrs of trial %d: %w", number, err)
	}
	d.Attrs = map[string]string{}
	for k, v := range raw {
		if s, ok := v.(string); ok {
			d.Attrs[k] = s
		} else {
			b, _ := json.Marshal(v)
			d.Attrs[k] = string(b)
		}
	}
	return d, nil
}

// ObjectiveRow is one row of the report_objectives view: one value of one
// finished trial.
type ObjectiveRow struct {
	Number    int      `db:"number"`
	State     string   `db:"state"`
	Objective int      `db:"objective"` // 0-based, in the spec's metrics order
	Metric    string   `db:"metric"`
	Direction string   `db:"direction"`
	Value     *float64 `db:"value"`     // nil: not finite
	Violation *float64 `db:"violation"` // nil: the spec has no constraints
	Feasible  bool     `db:"feasible"`
}

// LoadObjectives reads a study and its report_objectives rows (by trial
// number, then objective) in one read-only transaction, for the Pareto
// report. The error wraps ErrNoStudy when no study has that name.
func LoadObjectives(ctx context.Context, pool *sqlx.DB, study string) (StudyRow, []ObjectiveRow, error) {
	tx, err := pool.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return StudyRow{}, nil, fmt.Errorf("load objectives of study %q: %w", study, err)
	}
	defer tx.Rollback() // read-only: nothing to commit
	var s StudyRow
	err = sqlx.GetContext(ctx, tx, &s, `
		SELECT id, name, direction, metric, coalesce(spec, '') AS spec, coalesce(status, '') AS status, created_at
		FROM studies WHERE name = $1`, study)
	if errors.Is(err, sql.ErrNoRows) {
		return StudyRow{}, nil, fmt.Errorf("load objectives of study %q: %w", study, ErrNoStudy)
	}
	if err != nil {
		return StudyRow{}, nil, fmt.Errorf("load objectives of study %q: %w", study, err)
	}
	var rows []ObjectiveRow
	err = sqlx.SelectContext(ctx, tx, &rows, `
		SELECT number, state, objective, metric, direction, value, violation, feasible
		FROM report_objectives WHERE study_id = $1 ORDER BY number, objective`, s.ID)
	if err != nil {
		return StudyRow{}, nil, fmt.Errorf("load objectives of study %q: %w", study, err)
	}
	return s, rows, nil
}

package postgres_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/internal/pgtest"
	"sweep/sweep"
)

// TestViews fills a study through the Storage and reads it back through
// the views people query.
func TestViews(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, _, err := s.EnsureStudy(ctx, sweep.StudyInfo{Name: "views", Direction: "maximize", Metric: "val_acc",
		Spec: []byte("x"), Trials: 10}, false)
	if err != nil {
		t.Fatal(err)
	}
	lr := goptuna.LogUniformDistribution{Low: 1e-4, High: 1}
	opt := goptuna.CategoricalDistribution{Choices: []string{"sgd", "adamw"}}
	outcomes := []struct {
		state  goptuna.TrialState
		value  float64
		reason string
	}{
		{goptuna.TrialStateComplete, 0.7, ""},
		{goptuna.TrialStateComplete, 0.9, ""},
		{goptuna.TrialStateComplete, math.NaN(), ""},
		{goptuna.TrialStatePruned, 0.2, ""},
		{goptuna.TrialStateFail, math.NaN(), "stale"},
	}
	var failed int
	for i, o := range outcomes {
		cl, err := s.ClaimTrial(ctx, st.ID, "w1", "host-a")
		if err != nil {
			t.Fatal(err)
		}
		failed = cl.TrialID
		must(t, s.SetTrialParam(cl.TrialID, "lr", 0.01*float64(i+1), lr))
		must(t, s.SetTrialParam(cl.TrialID, "opt", float64(i%2), opt))
		for step := 1; step <= i+1; step++ {
			must(t, s.SetTrialIntermediateValue(cl.TrialID, step, float64(step)/10))
		}
		must(t, s.SetTrialUserAttr(cl.TrialID, "test_acc", "0.5"))
		must(t, s.FinishTrial(ctx, cl.TrialID, o.state, o.value, o.reason))
	}
	if _, err := s.ClaimTrial(ctx, st.ID, "w2", "host-b"); err != nil {
		t.Fatal(err)
	}
	retry, _, err := s.RetryTrial(ctx, failed, false)
	if err != nil {
		t.Fatal(err)
	}
	db := s.DB()

	t.Run("TrialSummary", func(t *testing.T) {
		var rows []struct {
			Study    string   `db:"study"`
			Number   int      `db:"number"`
			State    string   `db:"state"`
			Value    *float64 `db:"value"`
			Params   string   `db:"params"`
			Steps    int      `db:"steps"`
			LastStep *int     `db:"last_step"`
			Duration *float64 `db:"duration_s"`
			Reason   string   `db:"reason"`
			Worker   *string  `db:"worker"`
			Host     *string  `db:"host"`
			Attempt  int      `db:"attempt"`
			RetryOf  *int     `db:"retry_of"`
			Attrs    string   `db:"attrs"`
			TrialID  int      `db:"trial_id"`
		}
		err := db.SelectContext(ctx, &rows, `
			SELECT study, number, state, value, params::text AS params, steps, last_step, duration_s, reason,
			       worker, host, attempt, retry_of, attrs::text AS attrs, trial_id
			FROM trial_summary WHERE study = 'views' ORDER BY number`)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 7 {
			t.Fatalf("%d rows; want 7", len(rows))
		}
		first := rows[0]
		if first.State != "COMPLETE" || *first.Value != 0.7 || first.Params != `{"lr": 0.01, "opt": "sgd"}` ||
			first.Steps != 1 || *first.LastStep != 1 || first.Duration == nil || *first.Duration < 0 ||
			*first.Worker != "w1" || *first.Host != "host-a" || first.Attrs != `{"test_acc": "0.5"}` {
			t.Errorf("trial 0 = %+v", first)
		}
		if !math.IsNaN(*rows[2].Value) {
			t.Errorf("NaN stored as %v", *rows[2].Value)
		}
		if rows[4].State != "FAIL" || rows[4].Reason != "stale" || rows[4].Steps != 5 {
			t.Errorf("trial 4 = %+v", rows[4])
		}
		if rows[5].State != "RUNNING" || rows[5].Duration == nil || rows[5].Value != nil {
			t.Errorf("running trial = %+v", rows[5])
		}
		if r := rows[6]; r.State != "WAITING" || r.Attempt != 1 || r.RetryOf == nil || *r.RetryOf != 4 ||
			r.Duration != nil || r.Params != rows[4].Params || r.TrialID != retry {
			t.Errorf("retry = %+v", r)
		}
	})

	t.Run("StudyLeaderboard", func(t *testing.T) {
		var rows []struct {
			Rank   int     `db:"rank"`
			Number int     `db:"number"`
			Value  float64 `db:"value"`
		}
		if err := db.SelectContext(ctx, &rows, `SELECT rank, number, value FROM study_leaderboard WHERE study = 'views' ORDER BY rank`); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Number != 1 || rows[0].Rank != 1 || rows[1].Number != 0 || rows[1].Rank != 2 {
			t.Errorf("leaderboard = %+v; want trial 1 then 0 (NaN, pruned, failed left out)", rows)
		}
	})

	t.Run("StudyOverview", func(t *testing.T) {
		var o struct {
			Trials   int     `db:"trials"`
			Complete int     `db:"complete"`
			Pruned   int     `db:"pruned"`
			Failed   int     `db:"failed"`
			Running  int     `db:"running"`
			Waiting  int     `db:"waiting"`
			Retries  int     `db:"retries"`
			Budget   int     `db:"budget"`
			Best     float64 `db:"best_value"`
		}
		if err := db.GetContext(ctx, &o, `
			SELECT trials, complete, pruned, failed, running, waiting, retries, budget, best_value
			FROM study_overview WHERE study = 'views'`); err != nil {
			t.Fatal(err)
		}
		if o.Trials != 7 || o.Complete != 3 || o.Pruned != 1 || o.Failed != 1 || o.Running != 1 || o.Waiting != 1 ||
			o.Retries != 1 || o.Budget != 10 || o.Best != 0.9 {
			t.Errorf("overview = %+v", o)
		}
	})

	t.Run("Comments", func(t *testing.T) {
		for _, v := range []string{"trial_summary", "study_leaderboard", "study_overview"} {
			var c *string
			if err := db.GetContext(ctx, &c, `SELECT obj_description($1::regclass, 'pg_class')`, v); err != nil || c == nil || *c == "" {
				t.Errorf("view %s has no COMMENT (%v)", v, err)
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestViews_Objectives checks report_objectives and the objective columns
// of report_trials on a constrained two-objective study beside a
// single-objective one, and the Optuna views' rows per objective.
func TestViews_Objectives(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, _, err := s.EnsureStudy(ctx, sweep.StudyInfo{Name: "mo", Direction: "maximize", Metric: "val_acc", Spec: []byte("x")}, false)
	must(t, err)
	must(t, s.SetStudyObjectives(ctx, st.ID, []string{"val_acc", "train_seconds"}, []string{"maximize", "minimize"}))
	for i, v := range [][]float64{{0.9, 100}, {0.8, 50}} {
		cl, err := s.ClaimTrial(ctx, st.ID, "w", "h")
		must(t, err)
		must(t, s.RecordValues(ctx, cl.TrialID, v, []float64{float64(i) - 0.5}))
		must(t, s.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateComplete, v[0], ""))
	}
	single, _, err := s.EnsureStudy(ctx, sweep.StudyInfo{Name: "single", Direction: "minimize", Metric: "loss", Spec: []byte("y")}, false)
	must(t, err)
	cl, err := s.ClaimTrial(ctx, single.ID, "w", "h")
	must(t, err)
	must(t, s.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateComplete, 0.25, ""))

	rows, err := s.DB().QueryContext(ctx, `SELECT study, number, objective, metric, direction, value, feasible
		FROM report_objectives ORDER BY study, number, objective`)
	must(t, err)
	var got []string
	for rows.Next() {
		var study, metric, dir string
		var number, obj int
		var value float64
		var feasible bool
		must(t, rows.Scan(&study, &number, &obj, &metric, &dir, &value, &feasible))
		got = append(got, fmt.Sprintf("%s %d %d %s %s %g %v", study, number, obj, metric, dir, value, feasible))
	}
	must(t, rows.Err())
	want := []string{"mo 0 0 val_acc maximize 0.9 true", "mo 0 1 train_seconds minimize 100 true",
		"mo 1 0 val_acc maximize 0.8 false", "mo 1 1 train_seconds minimize 50 false", "single 0 0 loss minimize 0.25 true"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("report_objectives:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var n int
	must(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM report_trials WHERE study = 'mo' AND NOT feasible
		AND objective_values = ARRAY[0.8, 50]::float8[] AND violation = 0.5`).Scan(&n))
	if n != 1 {
		t.Errorf("report_trials: %d infeasible trials with their values, want 1", n)
	}
	var exists bool
	must(t, s.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'optuna')`).Scan(&exists))
	if !exists {
		return
	}
	var dirs, values int
	must(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM optuna.study_directions WHERE study_id = $1`, st.ID).Scan(&dirs))
	must(t, s.DB().QueryRowContext(ctx, `SELECT count(DISTINCT trial_value_id) FROM optuna.trial_values v
		JOIN trials t ON t.id = v.trial_id WHERE t.study_id = $1`, st.ID).Scan(&values))
	if dirs != 2 || values != 4 {
		t.Errorf("optuna views: %d directions and %d values; want 2 and 4 (one per objective)", dirs, values)
	}
}

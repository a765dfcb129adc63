package reports_test

import (
	"context"
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sweep/reports"
	"sweep/reports/reportstest"
)

// groupSQL is the psql query docs/reports.md gives for a comparison table
// (one categorical parameter, convergence target $2). The test below checks
// that it returns the numbers `sweep report` prints.
const groupSQL = `
WITH reach AS (
    SELECT number, min(step) AS epochs, min(elapsed_s) / 60 AS minutes
    FROM report_curves WHERE study = $1 AND value >= $2 GROUP BY number)
SELECT t.params->>'optimizer'                                     AS optimizer,
       count(*)                                                   AS trials,
       count(*) FILTER (WHERE t.state = 'COMPLETE')               AS complete,
       count(*) FILTER (WHERE t.state = 'PRUNED')                 AS pruned,
       max(t.value) FILTER (WHERE t.state = 'COMPLETE')           AS best,
       avg(t.value) FILTER (WHERE t.state = 'COMPLETE')           AS mean,
       count(r.number)                                            AS reached,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.epochs)      AS median_epochs,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.minutes)     AS median_minutes
FROM report_trials t LEFT JOIN reach r USING (number)
WHERE t.study = $1 AND t.state IN ('COMPLETE', 'PRUNED')
GROUP BY 1`

// binSQL is the psql query for quantile bins of a numeric parameter.
const binSQL = `
SELECT bin - 1 AS bin, count(*) AS trials, min(lr) AS lo, max(lr) AS hi,
       max(value) FILTER (WHERE state = 'COMPLETE') AS best
FROM (SELECT ntile($2) OVER (ORDER BY (params->>'lr')::float8, number) AS bin,
             (params->>'lr')::float8 AS lr, state, value
      FROM report_trials
      WHERE study = $1 AND state IN ('COMPLETE', 'PRUNED') AND params ? 'lr') x
GROUP BY bin ORDER BY bin`

func TestGroups_MatchDocumentedSQL(t *testing.T) {
	db := fixtureDB(t)
	reach := 0.85
	r := build(t, db, "cifar-tpe", reports.Options{GroupBy: []string{"optimizer"}, Reach: &reach})
	rows, err := db.QueryContext(context.Background(), groupSQL, "cifar-tpe", reach)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var opt string
		var trials, complete, pruned, reached int
		var best, mean, medEpochs, medMin sql.NullFloat64
		if err := rows.Scan(&opt, &trials, &complete, &pruned, &best, &mean, &reached, &medEpochs, &medMin); err != nil {
			t.Fatal(err)
		}
		var g *reports.GroupRow
		for i := range r.Groups[0].Rows {
			if r.Groups[0].Rows[i].Key[0] == opt {
				g = &r.Groups[0].Rows[i]
			}
		}
		if g == nil {
			t.Fatalf("SQL has group %q, the report does not", opt)
		}
		seen++
		if g.Trials != trials || g.Complete != complete || g.Pruned != pruned || g.Reached != reached {
			t.Errorf("%s: report counts %d/%d/%d/%d, SQL %d/%d/%d/%d (trials/complete/pruned/reached)",
				opt, g.Trials, g.Complete, g.Pruned, g.Reached, trials, complete, pruned, reached)
		}
		for _, c := range []struct {
			name string
			got  *float64
			want sql.NullFloat64
		}{{"best", g.Best, best}, {"mean", g.Mean, mean}, {"median epochs", g.MedianSteps, medEpochs}, {"median minutes", g.MedianMinutes, medMin}} {
			if (c.got != nil) != c.want.Valid || (c.got != nil && math.Abs(*c.got-c.want.Float64) > 1e-9) {
				t.Errorf("%s %s: report %v, SQL %v", opt, c.name, deref(c.got), c.want)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(r.Groups[0].Rows) || seen == 0 {
		t.Errorf("SQL returned %d groups, the report %d", seen, len(r.Groups[0].Rows))
	}
}

func TestBins_MatchDocumentedSQL(t *testing.T) {
	db := fixtureDB(t)
	const bins = 4
	r := build(t, db, "cifar-tpe", reports.Options{GroupBy: []string{"lr"}, Bins: bins})
	rows, err := db.QueryContext(context.Background(), binSQL, "cifar-tpe", bins)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := r.Groups[0].Rows
	i := 0
	for ; rows.Next(); i++ {
		var bin, trials int
		var lo, hi float64
		var best sql.NullFloat64
		if err := rows.Scan(&bin, &trials, &lo, &hi, &best); err != nil {
			t.Fatal(err)
		}
		if i >= len(got) {
			t.Fatalf("SQL has more bins than the report (%d)", len(got))
		}
		if got[i].Trials != trials || (got[i].Best != nil) != best.Valid || (best.Valid && *got[i].Best != best.Float64) {
			t.Errorf("bin %d: report %d trials best %v, SQL %d trials best %v", bin, got[i].Trials, deref(got[i].Best), trials, best)
		}
	}
	if i != len(got) {
		t.Errorf("SQL has %d bins, the report %d", i, len(got))
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// TestSummaryView_ComputeSaved checks report_study_summary by hand on three
// trials: COMPLETE 10 epochs in 100 s, PRUNED after 3 epochs in 30 s, FAIL
// after 2 epochs in 20 s. Run to the end, the pruned one would have taken
// 10 epochs and 100 s: 22 epochs and 220 s instead of 15 and 150.
func TestSummaryView_ComputeSaved(t *testing.T) {
	db := reportstest.OpenDB(t)
	v := func(x float64) *float64 { return &x }
	curve := func(n int) []float64 {
		c := make([]float64, n)
		for i := range c {
			c[i] = 0.1 * float64(i+1) / 2
		}
		return c
	}
	trials := []reportstest.Trial{
		{ID: 1, Number: 0, State: "COMPLETE", Value: v(0.5), Curve: curve(10), EpochSec: 10, Started: fixtureT0, Worker: "a", Host: "h", TestAcc: "0.49", Params: map[string]any{"lr": 0.1}},
		{ID: 2, Number: 1, State: "PRUNED", Value: v(0.15), Curve: curve(3), EpochSec: 10, Started: fixtureT0.Add(100 * time.Second), Worker: "b", Host: "h", Params: map[string]any{"lr": 0.01}},
		{ID: 3, Number: 2, State: "FAIL", Curve: curve(2), EpochSec: 10, Started: fixtureT0.Add(130 * time.Second), Worker: "a", Host: "h", Params: map[string]any{"lr": 0.5}},
	}
	reportstest.Insert(t, db, "tiny", "study: tiny\n", trials, fixtureT0)
	d, err := reports.Load(context.Background(), db, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	s := d.Summary
	if s.Trials != 3 || s.Complete != 1 || s.Pruned != 1 || s.Failed != 1 {
		t.Errorf("counts = %+v", s)
	}
	if s.FullSteps != 10 || s.StepsUsed != 15 || s.StepsFull != 22 {
		t.Errorf("steps: full %d used %d if-unpruned %d, want 10, 15, 22", s.FullSteps, s.StepsUsed, s.StepsFull)
	}
	if math.Abs(s.StepsSaved-(1-15.0/22)) > 1e-12 || math.Abs(s.WallSaved-(1-150.0/220)) > 1e-12 {
		t.Errorf("saved shares = %v, %v; want %v, %v", s.StepsSaved, s.WallSaved, 1-15.0/22, 1-150.0/220)
	}
	if s.WallUsedS != 150 || s.WallFullS != 220 {
		t.Errorf("wall: used %v full %v, want 150, 220", s.WallUsedS, s.WallFullS)
	}
	// Elapsed: first start (t0) to the last finish (t0 + 130 s + 20 s).
	if s.ElapsedS != 150 {
		t.Errorf("elapsed = %v s, want 150", s.ElapsedS)
	}
	if s.Workers != 5 || s.WorkerNames != "a, b, w1, w2, w3" {
		t.Errorf("workers = %d (%s); want a, b from trials plus w1..w3 from study_workers", s.Workers, s.WorkerNames)
	}
	if s.BestNumber == nil || *s.BestNumber != 0 || d.Trials[0].TestAcc == nil || *d.Trials[0].TestAcc != 0.49 {
		t.Errorf("best = %v, test_acc = %v; want trial 0 with test_acc 0.49", s.BestNumber, d.Trials[0].TestAcc)
	}
	if h := d.History; len(h) != 3 || *h[1].Value != 0.15 || *h[2].BestSoFar != 0.5 {
		t.Errorf("history = %+v", h)
	}
}

// TestViews_Documented checks that every report_* view has a COMMENT ON
// VIEW and a section in docs/reports.md, so psql users can find them.
func TestViews_Documented(t *testing.T) {
	db := reportstest.OpenDB(t)
	var views []struct {
		Name    string         `db:"relname"`
		Comment sql.NullString `db:"comment"`
	}
	err := db.Select(&views, `SELECT c.relname, obj_description(c.oid, 'pg_class') AS comment
		FROM pg_class c WHERE c.relkind = 'v' AND c.relname LIKE 'report\_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile(filepath.Join("..", "docs", "reports.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(views) < 6 {
		t.Errorf("found %d report_* views, want at least 6", len(views))
	}
	for _, v := range views {
		if !v.Comment.Valid || len(v.Comment.String) < 40 {
			t.Errorf("view %s has no useful COMMENT ON VIEW: %q", v.Name, v.Comment.String)
		}
		if !strings.Contains(string(docs), "### "+v.Name) {
			t.Errorf("docs/reports.md has no section for view %s", v.Name)
		}
	}
}

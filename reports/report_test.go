package reports_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"sweep/reports"
	"sweep/reports/reportstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var fixtureT0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// fixtureDB stores the two synthetic studies every golden test reads:
// "cifar-tpe" (40 trials, seed 1) and "cifar-random" (30 trials, seed 2).
func fixtureDB(tb testing.TB) *sqlx.DB {
	tb.Helper()
	db := reportstest.OpenDB(tb)
	reportstest.Insert(tb, db, "cifar-tpe", fmt.Sprintf(reportstest.Spec, "cifar-tpe", 40), reportstest.MakeTrials(40, 1, fixtureT0), fixtureT0)
	reportstest.Insert(tb, db, "cifar-random", fmt.Sprintf(reportstest.Spec, "cifar-random", 30), reportstest.MakeTrials(30, 2, fixtureT0), fixtureT0)
	return db
}

func build(tb testing.TB, db *sqlx.DB, study string, opts reports.Options) *reports.Report {
	tb.Helper()
	d, err := reports.Load(context.Background(), db, study)
	if err != nil {
		tb.Fatalf("load %s: %v", study, err)
	}
	r, err := reports.Build(d, opts)
	if err != nil {
		tb.Fatalf("build %s: %v", study, err)
	}
	return r
}

// golden compares got with testdata/report/<name>.golden, rewriting the file
// under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "report", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./reports -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (rerun with -update if the change is intended)\n--- got ---\n%s", name, path, clip(got))
	}
}

func clip(b []byte) string {
	if len(b) > 4000 {
		return string(b[:4000]) + "\n...(clipped)"
	}
	return string(b)
}

func TestRender_Golden(t *testing.T) {
	db := fixtureDB(t)
	reach := 0.85
	cases := []struct {
		name   string
		format string
		opts   reports.Options
	}{
		{"table", "table", reports.Options{}},
		{"markdown", "markdown", reports.Options{}},
		{"csv", "csv", reports.Options{}},
		{"json", "json", reports.Options{}},
		{"html", "html", reports.Options{}},
		{"groupby-table", "table", reports.Options{GroupBy: []string{"optimizer", "scheduler"}, Reach: &reach, Top: 5}},
		{"groupby-bins-markdown", "markdown", reports.Options{GroupBy: []string{"lr"}, Reach: &reach, Bins: 3}},
		{"best-yaml", "yaml", reports.Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := build(t, db, "cifar-tpe", c.opts)
			var buf bytes.Buffer
			if err := reports.Render(&buf, r, c.format); err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, buf.Bytes())
		})
	}
	for _, format := range []string{"table", "markdown", "csv", "json", "html"} {
		t.Run("compare-"+format, func(t *testing.T) {
			a := build(t, db, "cifar-tpe", reports.Options{Top: 3})
			b := build(t, db, "cifar-random", reports.Options{Top: 3})
			var buf bytes.Buffer
			if err := reports.RenderComparison(&buf, reports.Compare(a, b), format); err != nil {
				t.Fatal(err)
			}
			golden(t, "compare-"+format, buf.Bytes())
		})
	}
}

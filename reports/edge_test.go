package reports_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"sweep/reports"
	"sweep/reports/reportstest"
)

// edgeDB stores the edge-case studies, each through the report_* views:
//
//   - "all-failed": 6 trials that all failed after one epoch, under a spec
//     that runs trials to 4 epochs;
//   - "one-trial": a single complete trial;
//   - "no-curves": 8 trials whose objective reported no intermediate value;
//   - "only-conditional": 12 trials, none of whose parameters every trial
//     sampled (each has one of lr, momentum, step_size).
func edgeDB(t *testing.T) *sqlx.DB {
	t.Helper()
	db := reportstest.OpenDB(t)
	spec := func(name string, n int) string { return fmt.Sprintf(reportstest.Spec, name, n) }

	failed := reportstest.MakeTrials(6, 4, fixtureT0)
	for i := range failed {
		failed[i].State, failed[i].Value, failed[i].TestAcc = "FAIL", nil, ""
		if len(failed[i].Curve) > 1 {
			failed[i].Curve = failed[i].Curve[:1]
		}
	}
	reportstest.Insert(t, db, "all-failed", strings.Replace(spec("all-failed", 6), "epochs: 10", "epochs: 4", 1), failed, fixtureT0)

	reportstest.Insert(t, db, "one-trial", spec("one-trial", 1), reportstest.MakeTrials(1, 5, fixtureT0), fixtureT0)

	flat := reportstest.MakeTrials(8, 6, fixtureT0)
	for i := range flat {
		flat[i].Curve = nil
		if flat[i].State == "PRUNED" { // pruning needs intermediate values
			flat[i].State = "COMPLETE"
		}
	}
	reportstest.Insert(t, db, "no-curves", spec("no-curves", 8), flat, fixtureT0)
	// With no curve the fixture's trials would take no time; give each 40 s.
	if _, err := db.Exec(`UPDATE trials SET finished_at = started_at + interval '40 seconds'
		WHERE started_at IS NOT NULL AND study_id = (SELECT id FROM studies WHERE name = 'no-curves')`); err != nil {
		t.Fatal(err)
	}

	cond := reportstest.MakeTrials(12, 7, fixtureT0)
	for i := range cond {
		if cond[i].State == "WAITING" {
			continue
		}
		switch i % 3 {
		case 0:
			cond[i].Params = map[string]any{"lr": cond[i].Params["lr"]}
		case 1:
			cond[i].Params = map[string]any{"momentum": cond[i].Params["momentum"]}
		default:
			cond[i].Params = map[string]any{"step_size": float64(5 + i)}
		}
	}
	reportstest.Insert(t, db, "only-conditional", spec("only-conditional", 12), cond, fixtureT0)
	return db
}

// TestRender_EdgeStudies renders each edge-case study as Markdown and HTML
// (goldens) and checks what each must show.
func TestRender_EdgeStudies(t *testing.T) {
	db := edgeDB(t)
	checks := map[string]func(t *testing.T, r *reports.Report, markdown string){
		"all-failed": func(t *testing.T, r *reports.Report, md string) {
			if !strings.Contains(md, "every trial run to 4 epochs") {
				t.Errorf("summary does not take the full run from the spec (epochs: 4):\n%s", md)
			}
			for _, id := range []string{"slice", "contour", "edf"} {
				if hasFigure(r, id) {
					t.Errorf("figure %s drawn without a complete trial", id)
				}
			}
			failedBars := 0
			for _, e := range parseSVG(t, figure(t, r, "timeline").SVG) {
				if e.name == "rect" && strings.HasPrefix(e.title, "trial ") && strings.Contains(e.title, " FAIL,") {
					failedBars++
				}
			}
			if failedBars != 6 {
				t.Errorf("timeline shows %d failed trials, want 6", failedBars)
			}
			curves := figure(t, r, "curves")
			if strings.Contains(curves.SVG, ">complete<") {
				t.Errorf("curves legend lists complete trials, though all failed")
			}
			// Five trials reported one epoch each: a one-point line is a dot.
			dots := 0
			for _, e := range parseSVG(t, curves.SVG) {
				if e.name == "circle" && strings.HasSuffix(e.title, "(FAIL)") {
					dots++
				}
			}
			if dots != 5 {
				t.Errorf("curves show %d one-epoch failed trials, want 5", dots)
			}
			for _, id := range []string{"history", "parallel"} {
				if f := figure(t, r, id); f.SVG != "" || f.Note == "" {
					t.Errorf("%s figure without values = %+v, want a note instead of empty axes", id, f)
				}
			}
		},
		"one-trial": func(t *testing.T, r *reports.Report, md string) {
			for _, id := range []string{"history", "curves", "parallel", "slice", "edf", "timeline"} {
				if !hasFigure(r, id) {
					t.Errorf("no %s figure for one complete trial", id)
				}
			}
			if hasFigure(r, "contour") {
				t.Error("contour drawn without an importance estimate")
			}
		},
		"no-curves": func(t *testing.T, r *reports.Report, md string) {
			f := figure(t, r, "curves")
			if f.SVG != "" || !strings.Contains(f.Note, "No intermediate values") {
				t.Errorf("curves figure of a study without intermediate values = %+v, want a note and no chart", f)
			}
			if strings.Contains(md, "every trial run to 0 epochs") {
				t.Errorf("summary says trials run to 0 epochs; the spec says 10:\n%s", md)
			}
		},
		"only-conditional": func(t *testing.T, r *reports.Report, md string) {
			v := checkParallel(t, r)
			if v.lines != r.Summary.Complete || v.lines == 0 {
				t.Errorf("drew %d lines, want %d", v.lines, r.Summary.Complete)
			}
			if hasFigure(r, "contour") {
				t.Error("contour drawn though no trial sampled two parameters")
			}
			if !strings.Contains(figure(t, r, "slice").SVG, " of ") {
				t.Error("slice panels do not say how many trials sampled their parameter")
			}
		},
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			r := build(t, db, name, reports.Options{})
			for _, f := range r.Figures() {
				if f.SVG == "" {
					continue
				}
				parseSVG(t, f.SVG)
				if strings.Contains(f.SVG, "NaN") || strings.Contains(f.SVG, "Inf") {
					t.Errorf("figure %s has a NaN or Inf coordinate", f.ID)
				}
			}
			var md, page bytes.Buffer
			if err := reports.Render(&md, r, "markdown"); err != nil {
				t.Fatal(err)
			}
			if err := reports.Render(&page, r, "html"); err != nil {
				t.Fatal(err)
			}
			check(t, r, md.String())
			golden(t, "edge-"+name+"-markdown", md.Bytes())
			golden(t, "edge-"+name+"-html", page.Bytes())
		})
	}
}

// TestFigures_HostileNames parses every figure of the hostile study: each
// must be well-formed SVG made only of drawing elements, so no name,
// choice or worker id became markup.
func TestFigures_HostileNames(t *testing.T) {
	r := hostileDB(t)
	allowed := map[string]bool{"svg": true, "text": true, "title": true, "line": true, "rect": true,
		"circle": true, "path": true, "polyline": true}
	for _, f := range r.Figures() {
		for _, e := range parseSVG(t, f.SVG) {
			if !allowed[e.name] {
				t.Errorf("figure %s has a <%s> element", f.ID, e.name)
			}
			for k := range e.attr {
				if strings.HasPrefix(strings.ToLower(k), "on") {
					t.Errorf("figure %s has an event attribute %s", f.ID, k)
				}
			}
		}
	}
	if tl := figure(t, r, "timeline"); !strings.Contains(tl.SVG, "+cmd|") {
		t.Error("the hostile worker's lane is not labelled (cleaned, it should still show)")
	}
}

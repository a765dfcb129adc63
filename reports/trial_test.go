package reports_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sweep/reports"
)

func TestLoadStudies(t *testing.T) {
	db := fixtureDB(t)
	rows, err := reports.LoadStudies(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d studies, want 2", len(rows))
	}
	for _, row := range rows {
		r := build(t, db, row.Name, reports.Options{})
		s := r.Summary
		if row.Trials != s.Trials || row.Complete != s.Complete || row.Pruned != s.Pruned || row.Failed != s.Failed ||
			row.Waiting != s.Waiting || row.Budget != s.Trials {
			t.Errorf("%s: list row %+v disagrees with the report summary %+v", row.Name, row, s)
		}
		if row.Best == nil || r.Best == nil || *row.Best != r.Best.Value {
			t.Errorf("%s: best %v, report's %v", row.Name, row.Best, r.Best)
		}
		if row.MeanTrialS <= 0 {
			t.Errorf("%s: mean trial seconds %v; the fixture's trials have durations", row.Name, row.MeanTrialS)
		}
	}
}

func TestLoadTrial(t *testing.T) {
	db := fixtureDB(t)
	ctx := context.Background()
	r := build(t, db, "cifar-tpe", reports.Options{})
	best := r.Best.Number
	d, err := reports.LoadTrial(ctx, db, "cifar-tpe", best)
	if err != nil {
		t.Fatal(err)
	}
	if d.Trial.Number != best || d.Trial.State != "COMPLETE" || len(d.Curve) != 10 {
		t.Errorf("trial %d %s with %d curve points; want the best trial, COMPLETE, 10 epochs", d.Trial.Number, d.Trial.State, len(d.Curve))
	}
	if d.Attrs["test_acc"] == "" {
		t.Errorf("attrs %v lack test_acc", d.Attrs)
	}
	figs := d.Figures()
	var ids []string
	for _, f := range figs {
		ids = append(ids, f.ID)
		if f.SVG == "" {
			t.Errorf("figure %s has no SVG: %s", f.ID, f.Note)
		}
	}
	// The study metric, then grad_norm, lr, train_loss, val_loss.
	if len(figs) != 5 || !strings.Contains(figs[4].SVG, "val_loss of trial") {
		t.Errorf("figures %v; want the curve and one per metric, by name", ids)
	}
	tables := d.Tables()
	if len(tables) != 3 || tables[0].Rows[0][1] != "COMPLETE" {
		t.Fatalf("tables %+v", tables)
	}
	for _, row := range tables[1].Rows {
		if _, ok := d.Trial.Params[row[0]]; !ok {
			t.Errorf("params table lists %s, which trial %d did not draw", row[0], best)
		}
	}
	if len(tables[1].Rows) != len(d.Trial.Params) {
		t.Errorf("params table has %d rows for %d params", len(tables[1].Rows), len(d.Trial.Params))
	}

	// The last trial is WAITING: no curve yet, one figure saying so.
	w, err := reports.LoadTrial(ctx, db, "cifar-tpe", 39)
	if err != nil {
		t.Fatal(err)
	}
	if f := w.Figures(); w.Trial.State != "WAITING" || len(f) != 1 || f[0].SVG != "" {
		t.Errorf("waiting trial: state %s, figures %+v", w.Trial.State, f)
	}
	if _, err := reports.LoadTrial(ctx, db, "cifar-tpe", 40); !errors.Is(err, reports.ErrNoTrial) {
		t.Errorf("trial 40 of 40: err %v, want ErrNoTrial", err)
	}
	if _, err := reports.LoadTrial(ctx, db, "nope", 1); !errors.Is(err, reports.ErrNoStudy) {
		t.Errorf("unknown study: err %v, want ErrNoStudy", err)
	}
}

package reports_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"sweep/reports"
	"sweep/reports/reportstest"
)

// BenchmarkReport_1000Trials measures a whole `sweep report` on a stored
// 1000-trial study (10 epochs each, 4 training metrics per epoch): loading
// the report_* views, building (importance, comparison tables) and
// rendering. Goal: under 1 s per op for every format.
func BenchmarkReport_1000Trials(b *testing.B) {
	db := reportstest.OpenDB(b)
	const n = 1000
	reportstest.Insert(b, db, "bench", fmt.Sprintf(reportstest.Spec, "bench", n), reportstest.MakeTrials(n, 7, fixtureT0), fixtureT0)
	ctx := context.Background()
	d, err := reports.Load(ctx, db, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if len(d.Trials) != n {
		b.Fatalf("loaded %d trials, want %d", len(d.Trials), n)
	}
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			if _, err := reports.Load(ctx, db, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, err := reports.Build(d, reports.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, format := range reports.Formats {
		b.Run("load+build+render/"+format, func(b *testing.B) {
			for b.Loop() {
				d, err := reports.Load(ctx, db, "bench")
				if err != nil {
					b.Fatal(err)
				}
				r, err := reports.Build(d, reports.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := reports.Render(io.Discard, r, format); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

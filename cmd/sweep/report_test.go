package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sweep/internal/pgtest"
	"sweep/reports/reportstest"
	"sweep/sweep/postgres"
)

func TestNewReportCmd(t *testing.T) {
	cases := []struct {
		argv    string
		check   func(o *reportOptions) string
		wantErr string
	}{
		{argv: "demo", check: func(o *reportOptions) string {
			if o.Format != "table" || o.Bins != 4 || o.Top != 10 || o.Reach != nil || len(o.Studies) != 1 {
				return fmt.Sprintf("defaults: %+v", o)
			}
			return ""
		}},
		{argv: "demo --group-by optimizer,scheduler --reach 0.9 --format html -o r.html --bins 3 --top 5", check: func(o *reportOptions) string {
			if strings.Join(o.GroupBy, "|") != "optimizer|scheduler" || o.Reach == nil || *o.Reach != 0.9 ||
				o.Format != "html" || o.Out != "r.html" || o.Bins != 3 || o.Top != 5 {
				return fmt.Sprintf("parsed: %+v", o)
			}
			return ""
		}},
		{argv: "a b --format markdown", check: func(o *reportOptions) string {
			if strings.Join(o.Studies, "|") != "a|b" {
				return fmt.Sprintf("studies: %v", o.Studies)
			}
			return ""
		}},
		{argv: "", wantErr: "accepts between 1 and 2 arg(s), received 0"},
		{argv: "a b c", wantErr: "accepts between 1 and 2 arg(s), received 3"},
		{argv: "demo --format pdf", wantErr: `--format "pdf": want one of table, markdown, csv, json, html, yaml`},
		{argv: "demo --bins 0", wantErr: "--bins 0: want at least 1"},
		{argv: "a b --group-by lr", wantErr: "--group-by applies to one study, not a comparison of two"},
		{argv: "mo --pareto --weights 1,0.2 --format html", check: func(o *reportOptions) string {
			if !o.Pareto || len(o.Weights) != 2 || o.Weights[0] != 1 || o.Weights[1] != 0.2 || o.Format != "html" {
				return fmt.Sprintf("parsed: %+v", o)
			}
			return ""
		}},
		{argv: "mo --weights 1,2", wantErr: "--weights picks a trade-off trial of --pareto; add --pareto"},
		{argv: "a b --pareto", wantErr: "--pareto reports one study as table, markdown, csv, json or html, without --group-by or --show"},
		{argv: "mo --pareto --format yaml", wantErr: "--pareto reports one study as table, markdown, csv, json or html, without --group-by or --show"},
	}
	for _, c := range cases {
		t.Run(c.argv, func(t *testing.T) {
			var got *reportOptions
			cmd := newReportCmd(&env{Getenv: func(string) string { return "" }}, func(_ context.Context, o *reportOptions) error {
				got = o
				return nil
			})
			cmd.SetArgs(strings.Fields(c.argv))
			cmd.SetOut(new(bytes.Buffer))
			cmd.SetErr(new(bytes.Buffer))
			err := cmd.Execute()
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("error = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := c.check(got); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestRunReport(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	store, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	t0 := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	reportstest.Insert(t, store.DB(), "cli-a", fmt.Sprintf(reportstest.Spec, "cli-a", 20), reportstest.MakeTrials(20, 1, t0), t0)
	reportstest.Insert(t, store.DB(), "cli-b", fmt.Sprintf(reportstest.Spec, "cli-b", 20), reportstest.MakeTrials(20, 2, t0), t0)

	runCLI := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		e := &env{Out: &out, Err: &errb, Now: func() time.Time { return t0 }, Getenv: func(string) string { return "" }}
		code := run(ctx, e, append(args, "--db", dsn))
		return out.String(), errb.String(), code
	}
	t.Run("JSON", func(t *testing.T) {
		out, stderr, code := runCLI("report", "cli-a", "--format", "json", "--top", "3")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var r struct {
			Best        struct{ Number int }
			Leaderboard []struct{ Rank, Number int }
			BestConfig  string `json:"best_config"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if len(r.Leaderboard) != 3 || r.Leaderboard[0].Number != r.Best.Number || !strings.Contains(r.BestConfig, "epochs: 10") {
			t.Errorf("leaderboard %+v, best %d, config:\n%s", r.Leaderboard, r.Best.Number, r.BestConfig)
		}
	})
	t.Run("HTMLToFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "r.html")
		out, stderr, code := runCLI("report", "cli-a", "--format", "html", "--out", path)
		if code != 0 || out != "" || !strings.Contains(stderr, "report written to "+path) {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("html file: err %v, %d bytes", err, len(b))
		}
	})
	t.Run("Compare", func(t *testing.T) {
		out, stderr, code := runCLI("report", "cli-a", "cli-b", "--format", "markdown")
		if code != 0 || !strings.Contains(out, "## Best val_acc after n finished trials") || !strings.Contains(out, "| cli-a ") {
			t.Fatalf("exit %d: %s\n%s", code, stderr, out)
		}
	})
	t.Run("GroupBy", func(t *testing.T) {
		out, _, code := runCLI("report", "cli-a", "--group-by", "optimizer,scheduler", "--reach", "0.8")
		if code != 0 || !strings.Contains(out, "By optimizer × scheduler (convergence: first epoch with val_acc ≥ 0.8)") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, c := range []struct{ args, want string }{
			{"report nope", `sweep: load study "nope": reports: no such study` + "\n"},
			{"report cli-a --group-by nope", `sweep: group by "nope": reports: unknown parameter (have lr, momentum, batch_size, optimizer, scheduler, step_size)` + "\n"},
		} {
			_, stderr, code := runCLI(strings.Fields(c.args)...)
			if code != 1 || stderr != c.want {
				t.Errorf("%s: exit %d, stderr %q, want 1 and %q", c.args, code, stderr, c.want)
			}
		}
	})
}

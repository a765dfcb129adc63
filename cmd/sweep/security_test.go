package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sweep/internal/pgtest"
)

const leakStudy = `study: leak-check
direction: maximize
trials: 6
workers: 2
sampler: {type: random, seed: 3}
pruner: {type: median, startup_trials: 2, warmup_steps: 1}
objective: {type: synthetic, epochs: 3, fail_rate: 0.4}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  opt: {type: categorical, choices: [sgd, adam]}
`

// TestPasswordNeverShown runs a study on a DSN that holds a password and
// looks for the password in every output: the commands' stdout and stderr
// (logs and errors included), every report format, every table of the
// database (stored spec, workers, attrs, reasons) and the server log.
func TestPasswordNeverShown(t *testing.T) {
	ctx := context.Background()
	dsn, pw := pgtest.PasswordDSN(t)
	dir := t.TempDir()
	spec := writeFile(t, dir, "leak.yaml", leakStudy)
	dsnFile := filepath.Join(dir, "dsn")
	if err := os.WriteFile(dsnFile, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{} // command (subcommand and first argument) → stdout and stderr
	cli := func(getenv func(string) string, args ...string) (string, int) {
		t.Helper()
		e, out, errOut, _ := newTestEnv(false)
		if getenv != nil {
			e.Getenv = getenv
		}
		code := run(ctx, e, args)
		all := out.String() + errOut.String()
		outputs[args[0]+" #"+strconv.Itoa(len(outputs))] = all
		return all, code
	}
	viaEnv := func(k string) string {
		if k == "SWEEP_DB" {
			return dsn
		}
		return ""
	}

	got, code := cli(nil, "start", spec, "--db", dsn)
	if code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	if !strings.Contains(got, "warning: --db carries a password") {
		t.Errorf("start with a password in --db gave no warning:\n%s", got)
	}
	if got, code := cli(nil, "worker", "leak-check", "--db", "@"+dsnFile); code != 0 || strings.Contains(got, "warning") {
		t.Errorf("worker --db @FILE: exit %d, output:\n%s", code, got)
	}
	if got, code := cli(viaEnv, "status"); code != 0 || strings.Contains(got, "warning") {
		t.Errorf("status with SWEEP_DB: exit %d, output:\n%s", code, got)
	}
	for _, args := range [][]string{
		{"status", "leak-check"},
		{"trials", "leak-check"},
		{"report", "leak-check", "--format", "table"},
		{"report", "leak-check", "--format", "markdown"},
		{"report", "leak-check", "--format", "csv"},
		{"report", "leak-check", "--format", "json"},
		{"report", "leak-check", "--format", "html"},
		{"report", "leak-check", "--format", "yaml"},
	} {
		if _, code := cli(viaEnv, args...); code != 0 {
			t.Errorf("%s: exit %d", strings.Join(args, " "), code)
		}
	}
	// Errors quote DSNs they cannot parse: the password must not follow.
	broken := "postgres://sweep:" + pw + "@127.0.0.1:notaport/x"
	if got, code := cli(nil, "status", "--db", broken); code != 1 || !strings.Contains(got, "notaport") {
		t.Errorf("status on a broken DSN: exit %d, output:\n%s", code, got)
	}

	var joined strings.Builder
	for cmd, o := range outputs {
		joined.WriteString(o)
		if strings.Contains(o, pw) {
			t.Errorf("password shown by sweep %s:\n%s", cmd, o)
		}
	}
	if !strings.Contains(joined.String(), "workers seen") || !strings.Contains(joined.String(), "<!DOCTYPE html>") {
		t.Fatalf("outputs lack the report's workers line or the HTML report:\n%s", joined.String())
	}
	for table, text := range dumpTables(t, dsn) {
		if strings.Contains(text, pw) {
			t.Errorf("password stored in table %s", table)
		}
	}
	if log := pgtest.ServerLog(); log != "" {
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), pw) {
			t.Errorf("password in the server log %s", log)
		}
	}
}

// dumpTables returns every table of the public schema as text, row by row.
func dumpTables(t *testing.T, dsn string) map[string]string {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	if len(names) < 5 {
		t.Fatalf("only %d tables found: %v", len(names), names)
	}
	out := map[string]string{}
	for _, n := range names {
		var text string
		q := `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM "` + n + `" t`
		if err := db.QueryRow(q).Scan(&text); err != nil {
			t.Fatalf("dump %s: %v", n, err)
		}
		out[n] = text
	}
	if !strings.Contains(out["studies"], "leak-check") {
		t.Errorf("table studies lacks the study:\n%s", out["studies"])
	}
	return out
}

// TestTables_HostileText stores escape sequences, tabs and line breaks in a
// trial's reason, worker and choice (as a hostile objective or another tool
// could) and checks sweep status and sweep trials on a terminal and in a
// pipe: no control character is printed, and every TSV row keeps its
// column count.
func TestTables_HostileText(t *testing.T) {
	dsn := startStudy(t, smallStudy)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const evil = "\x1b]0;pwned\x07boom\x1b[2J\tcol\nline\u202e"
	for _, q := range []string{
		`UPDATE trials SET reason = $1 WHERE number = 0`,
		`UPDATE trials SET state = 'RUNNING', value = NULL, worker_id = $1, heartbeat_at = now(), finished_at = NULL WHERE number = 1`,
		`UPDATE trial_params SET external = to_jsonb($1::text) WHERE name = 'opt' AND trial_id = (SELECT id FROM trials WHERE number = 2)`,
	} {
		if _, err := db.Exec(q, evil); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, tty := range []bool{false, true} {
		for _, args := range [][]string{{"status", "cli-small"}, {"trials", "cli-small"}, {"status"}} {
			e, out, errOut, _ := newTestEnv(tty)
			if code := run(context.Background(), e, append(args, "--db", dsn)); code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errOut)
			}
			text := out.String() + errOut.String()
			if strings.ContainsAny(text, "\x1b\x07\r\u202e") {
				t.Errorf("tty=%v %v printed control characters:\n%q", tty, args, text)
			}
			if !tty {
				checkTSV(t, args, out.String())
			}
			if args[0] == "trials" && !strings.Contains(text, "boom") {
				t.Errorf("tty=%v trials lacks the cleaned reason:\n%s", tty, text)
			}
		}
	}
}

// checkTSV checks that each table in a plain output has rows as wide as its
// header (a header line holds only upper-case names).
func checkTSV(t *testing.T, args []string, out string) {
	t.Helper()
	cols := 0
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		n := strings.Count(line, "\t") + 1
		switch {
		case line == "":
			cols = 0
		case strings.ToUpper(line) == line && n > 2:
			cols = n
		case cols > 0 && n != cols:
			t.Errorf("%v: row %q has %d columns, header %d", args, line, n, cols)
		}
	}
}

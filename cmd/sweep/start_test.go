package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"sweep/internal/pgtest"
	"sweep/internal/termtest"
)

func TestNewStartCmd(t *testing.T) {
	cases := []struct {
		argv    string
		want    startOptions
		wantErr string
	}{
		{argv: "s.yaml", want: startOptions{File: "s.yaml", MaxConns: 2}},
		{argv: "s.yaml --db postgres://x/y --workers 3 --force-update --pg-dir /d", want: startOptions{File: "s.yaml", DB: "postgres://x/y", Workers: 3, ForceUpdate: true, PGDir: "/d", MaxConns: 2}},
		{argv: "s.yaml --db-dir /d", want: startOptions{File: "s.yaml", PGDir: "/d", MaxConns: 2}},
		{argv: "s.yaml --data-dir /d", wantErr: "--data-dir names a dataset directory; the PostgreSQL cluster directory is --pg-dir"},
		{argv: "s.yaml -w 2", want: startOptions{File: "s.yaml", Workers: 2, MaxConns: 2}},
		{argv: "s.yaml --dry-run", want: startOptions{File: "s.yaml", DryRun: true, MaxConns: 2}},
		{argv: "", wantErr: "accepts 1 arg(s), received 0"},
		{argv: "a.yaml b.yaml", wantErr: "accepts 1 arg(s), received 2"},
		{argv: "s.yaml --workers -1", wantErr: "--workers -1: want between 1 and 256"},
		{argv: "s.yaml --workers 1000", wantErr: "--workers 1000: want between 1 and 256"},
		{argv: "s.yaml --workers two", wantErr: `invalid value "two" for --workers: want an integer`},
		{argv: "s.yaml --dry-run=maybe", wantErr: `invalid value "maybe" for --dry-run: want true or false`},
		{argv: "s.yaml --colour", wantErr: "unknown flag: --colour"},
	}
	for _, c := range cases {
		t.Run(c.argv, func(t *testing.T) {
			got, err := parseArgv(t, newStartCmd, c.argv)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.env = nil
			if *got != c.want {
				t.Errorf("opts = %+v, want %+v", *got, c.want)
			}
		})
	}
}

// smallStudy is a 6-trial synthetic study that runs in well under a second.
const smallStudy = `study: cli-small
direction: maximize
metric: val_acc
trials: 6
workers: 1
sampler: {type: random, seed: 5}
pruner: {type: median, startup_trials: 2, warmup_steps: 1}
objective: {type: synthetic, epochs: 4}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  opt: {type: categorical, choices: [sgd, adam]}
`

func TestRunStart(t *testing.T) {
	for _, tty := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "tty"}[tty]
		t.Run(name, func(t *testing.T) {
			e, out, errOut, _ := newTestEnv(tty)
			file := writeFile(t, t.TempDir(), "small.yaml", smallStudy)
			dsn := pgtest.DSN(t)
			if code := run(context.Background(), e, []string{"start", file, "--db", dsn}); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, "start", name+".out", out.String())
			if tty {
				// What is left on an 80-column terminal: the log, the live
				// block redrawn in place and then erased. (The redraws
				// in between depend on timing; the display's tests pin them.)
				s := termtest.NewScreen(80)
				s.Write(errOut.Bytes())
				if len(s.Wrapped) > 0 || len(s.Unknown) > 0 || s.Moves == 0 {
					t.Errorf("terminal output: wrapped %q, unknown %q, %d redraws in place; raw %q", s.Wrapped, s.Unknown, s.Moves, errOut)
				}
				golden(t, "start", name+".err", s.String()+"\n")
			} else {
				golden(t, "start", name+".err", errOut.String())
			}

			// Starting again resumes: nothing left to run, nothing changed.
			e2, out2, errOut2, _ := newTestEnv(false)
			if code := run(context.Background(), e2, []string{"start", file, "--db", dsn}); code != 0 {
				t.Fatalf("resume: exit %d: %s", code, errOut2)
			}
			if !strings.Contains(errOut2.String(), "resuming; 6 of 6 trials exist") || !strings.Contains(errOut2.String(), "has all its 6 trials; nothing to run") ||
				!strings.HasPrefix(out2.String(), "0 trial(s) run here") {
				t.Errorf("resume output:\n%s%s", errOut2, out2)
			}
		})
	}
}

func TestRunStart_ChangedSpec(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	e, _, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"start", writeFile(t, dir, "a.yaml", smallStudy), "--db", dsn}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	changed := writeFile(t, dir, "b.yaml", strings.Replace(smallStudy, "trials: 6", "trials: 8", 1))
	e, out, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"start", changed, "--db", dsn}); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	got := regexp.MustCompile(`\+\+\+ \S+`).ReplaceAllString(errOut.String(), "+++ FILE")
	golden(t, "start", "changed.err", got)
	if out.Len() != 0 {
		t.Errorf("stdout: %q", out)
	}
	e, out, errOut, _ = newTestEnv(false)
	if code := run(context.Background(), e, []string{"start", changed, "--db", dsn, "--force-update"}); code != 0 {
		t.Fatalf("--force-update: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out.String(), "2 trial(s) run here") {
		t.Errorf("after --force-update to 8 trials: %s", out)
	}
}

func TestRunStart_BrokenSpec(t *testing.T) {
	dsn := pgtest.DSN(t)
	broken := `study: broken
direction: maximize
trials: 10
objective: {type: synthetic, epochs: 0, colour: red}
params:
  lr: {type: float, low: 1, high: 0.1, log: true}
  momentum: {type: flaot, low: 0.8, high: 0.99}
  batch_size: {type: categorical, choices: []}
  wd: {type: float, low: 0, high: 1, lgo: true}
`
	for _, c := range []struct {
		name, spec string
	}{{"spec", broken}, {"objective", strings.Join(strings.Split(broken, "\n")[:5], "\n") + "\n  lr: {type: float, low: 0.1, high: 1}\n"}} {
		t.Run(c.name, func(t *testing.T) {
			e, out, errOut, _ := newTestEnv(false)
			file := writeFile(t, t.TempDir(), "broken.yaml", c.spec)
			if code := run(context.Background(), e, []string{"start", file, "--db", dsn}); code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
			golden(t, "start", "broken-"+c.name+".err", strings.ReplaceAll(errOut.String(), file, "broken.yaml"))
			if out.Len() != 0 {
				t.Errorf("stdout: %q", out)
			}
			assertNoStudies(t, dsn)
		})
	}
}

// assertNoStudies checks that nothing was stored: the schema may not even
// exist, and if it does the studies table is empty.
func assertNoStudies(t *testing.T, dsn string) {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM studies`).Scan(&n); err != nil || n != 0 {
			t.Errorf("studies stored: %d (%v)", n, err)
		}
	}
}

func TestRunStart_Interrupt(t *testing.T) {
	slow := slowStudy()
	for _, c := range []struct {
		name    string
		signals int
		want    string // in the final error
		state   string // of the trials that were running
	}{
		{"Once", 1, "sweep: stopped by interrupt before the budget was spent; resume with: sweep worker cli-small", "COMPLETE"},
		{"Twice", 2, "sweep: stopped by a second interrupt; resume with: sweep worker cli-small", "FAIL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn := pgtest.DSN(t)
			e, _, errOut, sigs := newTestEnv(false)
			file := writeFile(t, t.TempDir(), "slow.yaml", slow)
			done := make(chan int)
			go func() { done <- run(context.Background(), e, []string{"start", file, "--db", dsn}) }()
			waitRunning(t, dsn, 2)
			for range c.signals {
				sigs <- syscall.SIGINT
			}
			if code := <-done; code != exitInterrupted {
				t.Fatalf("exit %d, want %d", code, exitInterrupted)
			}
			if !strings.HasSuffix(errOut.String(), c.want+"\n") {
				t.Errorf("stderr ends:\n%s\nwant %q", errOut, c.want)
			}
			states := countStates(t, dsn)
			if states["RUNNING"] != 0 || states[c.state] != 2 {
				t.Errorf("trial states %v, want the 2 running trials %s", states, c.state)
			}
		})
	}
}

// slowStudy is smallStudy with 2 slots, 50 trials and 1-second trials
// (20 epochs of 50 ms), so tests can interrupt it mid-trial.
func slowStudy() string {
	slow := strings.Replace(strings.Replace(smallStudy, "epochs: 4}", "epochs: 20, epoch_seconds: 0.05}", 1), "workers: 1", "workers: 2", 1)
	return strings.Replace(slow, "trials: 6", "trials: 50", 1)
}

// waitRunning waits until n trials are RUNNING.
func waitRunning(t *testing.T, dsn string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if countStates(t, dsn)["RUNNING"] >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never saw %d running trials", n)
}

// countStates counts trials by state (an empty map before the schema exists).
func countStates(t *testing.T, dsn string) map[string]int {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT state, count(*) FROM trials GROUP BY state`)
	if err != nil {
		return map[string]int{}
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		m[s] = n
	}
	return m
}

func TestRunStart_HostileNames(t *testing.T) {
	// Quotes, SQL metacharacters and unicode in study, param and choice
	// names are data: they must come back from the database unchanged.
	const study = `ro'bert"); DROP TABLE trials;-- ✓ 学习`
	const param = `it's "lr" ; --`
	spec := `study: 'ro''bert"); DROP TABLE trials;-- ✓ 学习'
direction: minimize
trials: 3
objective: {type: synthetic, epochs: 2}
params:
  'it''s "lr" ; --': {type: float, low: 1.0e-3, high: 1.0, log: true}
  opt: {type: categorical, choices: ["a'b", "ü;--"]}
`
	dsn := startStudy(t, spec)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.QueryRow(`SELECT name FROM studies`).Scan(&name); err != nil || name != study {
		t.Fatalf("stored study name %q (%v), want %q", name, err, study)
	}
	rows, err := db.Query(`SELECT params ->> $2, params ->> 'opt' FROM trial_summary WHERE study = $1`, study, param)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var lr, opt sql.NullString
		if err := rows.Scan(&lr, &opt); err != nil {
			t.Fatal(err)
		}
		if !lr.Valid || (opt.String != "a'b" && opt.String != "ü;--") {
			t.Errorf("trial params: %q=%v opt=%q", param, lr, opt.String)
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d trials under the hostile name, want 3", n)
	}
	e, out, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"trials", study, "--db", dsn}); code != 0 {
		t.Fatalf("trials: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), param+"=") {
		t.Errorf("sweep trials output lacks the param name:\n%s", out)
	}
}

func TestRunStart_DryRun(t *testing.T) {
	e, out, errOut, _ := newTestEnv(false)
	// No --db and no private cluster: a dry run must not need a database.
	e.Getenv = func(string) string { return "" }
	if code := run(context.Background(), e, []string{"start", "../../examples/synthetic.yaml", "--dry-run", "--pg-dir", "/nonexistent/never"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "start", "dry-run.out", out.String())
}

// TestRunStart_Examples checks that every study spec under examples/ passes
// validation, objective options included, so the README's examples never rot.
func TestRunStart_Examples(t *testing.T) {
	paths, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), "\nparams:") {
			continue // a `sweep train` config, not a study spec
		}
		t.Run(filepath.Base(p), func(t *testing.T) {
			e, _, errOut, _ := newTestEnv(false)
			e.Getenv = func(string) string { return "" }
			if code := run(context.Background(), e, []string{"start", p, "--dry-run", "--pg-dir", "/nonexistent/never"}); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
		})
	}
}

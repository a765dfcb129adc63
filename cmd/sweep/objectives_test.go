package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"sweep/internal/pgtest"
)

// commandStudy runs examples/command/quadratic.py (copied next to the
// spec) through objective `command`.
const commandStudy = `study: cmd
direction: minimize
metric: loss
trials: 4
workers: 2
pruner: {type: median, startup_trials: 2, warmup_steps: 1}
objective:
  type: command
  argv: [python3, quadratic.py, --epochs, "3", --epoch-seconds, "0.01"]
  timeout: 60
  kill_grace: 2s
params:
  x: {type: float, low: -5, high: 5}
  y: {type: float, low: -5, high: 5}
  noise: {type: categorical, choices: [low, high]}
`

func TestRunStart_Command(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../../examples/command/quadratic.py")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "quadratic.py", string(src))
	dsn := pgtest.DSN(t)
	e, out, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"start", writeFile(t, dir, "cmd.yaml", commandStudy), "--db", dsn}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out.String(), "4 trial(s) run here") || strings.Contains(out.String(), "failed") && !strings.Contains(out.String(), "0 failed") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Every step's grad_norm is a trial metric, as the cifar10 objective's
	// are; the final line's distance is a user attr.
	var metrics, attrs int
	if err := db.QueryRow(`SELECT count(*) FROM trial_metrics WHERE name = 'grad_norm'`).Scan(&metrics); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM trial_user_attrs WHERE key = 'distance'`).Scan(&attrs); err != nil {
		t.Fatal(err)
	}
	if metrics < 4 || attrs < 2 {
		t.Errorf("%d grad_norm metrics and %d distance attrs stored", metrics, attrs)
	}
	// Trial directories sit under the spec's run_dir (default runs/).
	if _, err := os.Stat(filepath.Join(dir, "runs", "cmd", "0", "params.json")); err != nil {
		t.Error(err)
	}
}

func TestRunStart_CommandSpec(t *testing.T) {
	dir := t.TempDir()
	spec := `study: bad-cmd
direction: maximize
trials: 3
objective:
  type: command
  argv: [sh, -c, "train {lrr}", "{lr}"]
  workdir: nowhere
  env: {SWEEP_TRIAL: "1", OMP_NUM_THREADS: 4}
  timeout: soon
  kill_grace: -1
  report: regex
  colour: red
params:
  lr: {type: float, low: 0.001, high: 0.1, log: true}
`
	e, _, errOut, _ := newTestEnv(false)
	file := writeFile(t, dir, "bad.yaml", spec)
	if code := run(context.Background(), e, []string{"start", file, "--dry-run"}); code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, errOut)
	}
	got := strings.ReplaceAll(errOut.String(), dir, "DIR")
	for _, want := range []string{
		`bad.yaml:6: objective.argv: argv[2]: unknown placeholder {lrr} (want a param name or one of study, trial, trial_dir)`,
		`bad.yaml:7: objective.workdir: must be a directory (DIR/nowhere: stat DIR/nowhere: no such file or directory)`,
		`bad.yaml:8: objective.env: SWEEP_TRIAL is set by sweep for each trial`,
		`bad.yaml:9: objective.timeout: must be a duration between 0 and 8760h such as 90s, 2h or a number of seconds (got "soon")`,
		`bad.yaml:10: objective.kill_grace: must be between 0 and 8760h (got -1 seconds)`,
		`bad.yaml:11: objective.report: regex needs the option regex, with a named group value`,
		`bad.yaml:12: objective.colour: unknown option for objective command (want one of type, argv, workdir, env, timeout, kill_grace, report, regex, run_dir)`,
		`bad.yaml: 7 problems; nothing was stored`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks\n%s\n--- got\n%s", want, got)
		}
	}
}

// TestRunStart_CommandInterrupt: the first interrupt lets running programs
// finish (they are in their own process groups, so a terminal's Ctrl-C does
// not reach them); the second stops them, grandchildren included.
func TestRunStart_CommandInterrupt(t *testing.T) {
	const program = `sleep 300 &
echo $! >> "$SWEEP_TRIAL_DIR/pids"
for i in 1 2 3 4 5 6 7 8 9 10; do echo "step=$i value=0.$i"; sleep 0.1; done`
	spec := `study: cmd-interrupt
direction: maximize
trials: 20
workers: 2
objective: {type: command, argv: [sh, prog.sh], kill_grace: 1s}
params:
  lr: {type: float, low: 0.001, high: 0.1, log: true}
`
	for _, c := range []struct {
		signals int
		state   string
	}{{1, "COMPLETE"}, {2, "FAIL"}} {
		t.Run(c.state, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "prog.sh", program)
			dsn := pgtest.DSN(t)
			e, _, errOut, sigs := newTestEnv(false)
			file := writeFile(t, dir, "s.yaml", spec)
			done := make(chan int)
			go func() { done <- run(context.Background(), e, []string{"start", file, "--db", dsn}) }()
			waitRunning(t, dsn, 2)
			for range c.signals {
				sigs <- syscall.SIGINT
			}
			if code := <-done; code != exitInterrupted {
				t.Fatalf("exit %d, want %d: %s", code, exitInterrupted, errOut)
			}
			if states := countStates(t, dsn); states["RUNNING"] != 0 || states[c.state] < 2 {
				t.Errorf("trial states %v, want the running trials %s", states, c.state)
			}
			pids, _ := filepath.Glob(filepath.Join(dir, "runs", "cmd-interrupt", "*", "pids"))
			for _, f := range pids {
				b, _ := os.ReadFile(f)
				for _, pid := range strings.Fields(string(b)) {
					if _, err := os.Stat("/proc/" + pid + "/cmdline"); err == nil {
						if stat, _ := os.ReadFile("/proc/" + pid + "/stat"); !strings.Contains(string(stat), ") Z") {
							t.Errorf("process %s of %s outlived sweep start", pid, f)
						}
					}
				}
			}
		})
	}
}

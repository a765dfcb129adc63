package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sweep/internal/pgtest"
)

// e2eStudy is the end-to-end study: 200 synthetic trials with a
// pruner, shared by one `sweep start` and three `sweep worker` processes.
const e2eStudy = `study: e2e
direction: maximize
metric: val_acc
trials: 200
workers: 2
sampler: {type: tpe, seed: 11, startup_trials: 10}
pruner: {type: median, startup_trials: 5, warmup_steps: 1}
heartbeat: {interval: 1}
objective: {type: synthetic, epochs: 5, epoch_seconds: 0.02}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  momentum: {type: float, low: 0.8, high: 0.99}
  batch_size: {type: categorical, choices: [64, 128, 256]}
  scheduler:
    type: categorical
    choices: [cosine, step]
    conditional:
      step:
        step_size: {type: int, low: 5, high: 30}
`

// buildBinary compiles cmd/sweep into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sweep")
	cmd := exec.Command(goTool(), "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// goTool finds the go command: on PATH, else in the GOROOT this test was
// built with (make test may run go by its full path).
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// process is a running sweep command with captured output.
type process struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
}

func startProcess(t *testing.T, bin, dsn string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...)}
	p.cmd.Env = append(os.Environ(), "SWEEP_DB="+dsn, "SWEEP_RUN_DIR="+t.TempDir()) // journals stay out of $HOME
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.err
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

var ranHere = regexp.MustCompile(`(?m)^(\d+) trial\(s\) run here`)

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four processes")
	}
	bin := buildBinary(t)
	dsn := pgtest.DSN(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()

	t.Run("BrokenSpec", func(t *testing.T) {
		spec := filepath.Join(dir, "broken.yaml")
		os.WriteFile(spec, []byte(`study: broken
direction: maximize
trials: 10
workers: two
objective: {type: synthetic}
params:
  lr: {type: float, low: 1, high: 0.1, colour: red}
  bs: {type: categorical, choices: []}
`), 0o644)
		p := startProcess(t, bin, dsn, "start", spec)
		err := p.cmd.Wait()
		if code := p.cmd.ProcessState.ExitCode(); err == nil || code != exitUsage {
			t.Fatalf("exit %d, want %d", code, exitUsage)
		}
		want := fmt.Sprintf(`%[1]s:4: workers: must be an integer (got "two")
%[1]s:7: params.lr.colour: unknown key (want one of type, low, high, log, step, choices, conditional)
%[1]s:7: params.lr.low: must be < high (got 1 ≥ 0.1)
%[1]s:8: params.bs.choices: must not be empty
sweep: %[1]s: 4 problems; nothing was stored
`, spec)
		if p.err.String() != want {
			t.Errorf("stderr:\n%s\nwant:\n%s", p.err.String(), want)
		}
		assertNoStudies(t, dsn)
	})

	t.Run("FourProcesses", func(t *testing.T) {
		spec := filepath.Join(dir, "e2e.yaml")
		os.WriteFile(spec, []byte(e2eStudy), 0o644)
		procs := []*process{startProcess(t, bin, dsn, "start", spec)}
		waitStudy(t, db, "e2e")
		for range 3 {
			procs = append(procs, startProcess(t, bin, dsn, "worker", "e2e"))
		}
		total := 0
		for i, p := range procs {
			if err := p.cmd.Wait(); err != nil {
				t.Fatalf("process %d: %v\nstderr:\n%s", i, err, p.err.String())
			}
			m := ranHere.FindStringSubmatch(p.out.String())
			if m == nil {
				t.Fatalf("process %d printed no summary:\n%s", i, p.out.String())
			}
			n, _ := strconv.Atoi(m[1])
			if n == 0 {
				t.Errorf("process %d ran no trials", i)
			}
			total += n
		}
		if total != 200 {
			t.Errorf("processes report %d trials run, want 200", total)
		}
		checkTrials(t, db, "e2e", 200)
	})

	t.Run("Interrupt", func(t *testing.T) { testInterrupts(t, bin) })
}

// testInterrupts sends real SIGINTs to a `sweep start` process: once lets
// the running trials finish, twice marks them FAIL "interrupted"; either
// way nothing is left RUNNING and the exit status is 130.
func testInterrupts(t *testing.T, bin string) {
	for _, c := range []struct {
		name    string
		signals int
		want    string
		states  []string // acceptable final states of the 2 running trials
	}{
		{"Once", 1, "sweep: stopped by interrupt before the budget was spent; resume with: sweep worker cli-small\n", []string{"COMPLETE", "PRUNED"}},
		{"Twice", 2, "sweep: stopped by a second interrupt; resume with: sweep worker cli-small\n", []string{"FAIL"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn := pgtest.DSN(t)
			spec := filepath.Join(t.TempDir(), "slow.yaml")
			os.WriteFile(spec, []byte(slowStudy()), 0o644)
			p := startProcess(t, bin, dsn, "start", spec)
			waitRunning(t, dsn, 2)
			for range c.signals {
				p.cmd.Process.Signal(syscall.SIGINT)
				time.Sleep(50 * time.Millisecond)
			}
			p.cmd.Wait()
			if code := p.cmd.ProcessState.ExitCode(); code != exitInterrupted {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.err.String())
			}
			if !strings.HasSuffix(p.err.String(), c.want) {
				t.Errorf("stderr ends:\n%s\nwant %q", p.err.String(), c.want)
			}
			states := countStates(t, dsn)
			finished := 0
			for _, s := range c.states {
				finished += states[s]
			}
			if states["RUNNING"] != 0 || finished != 2 || len(states) > len(c.states) {
				t.Errorf("trial states %v, want the 2 running trials in %v", states, c.states)
			}
		})
	}
}

// waitStudy waits until the study row exists, so workers can join.
func waitStudy(t *testing.T, db *sql.DB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		var n int
		if db.QueryRowContext(ctx, `SELECT count(*) FROM studies WHERE name = $1`, name).Scan(&n) == nil && n == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("study %s never appeared", name)
}

// checkTrials asserts the invariants on a finished study: exactly
// want trials numbered 0..want-1, none left RUNNING or WAITING, and
// intermediate values on every COMPLETE and PRUNED trial.
func checkTrials(t *testing.T, db *sql.DB, study string, want int) {
	t.Helper()
	rows, err := db.Query(`SELECT number, state, steps FROM trial_summary WHERE study = $1 ORDER BY number`, study)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	states := map[string]int{}
	i := 0
	for ; rows.Next(); i++ {
		var number, steps int
		var state string
		if err := rows.Scan(&number, &state, &steps); err != nil {
			t.Fatal(err)
		}
		if number != i {
			t.Fatalf("trial numbers not 0..%d: position %d holds %d", want-1, i, number)
		}
		states[state]++
		if (state == "COMPLETE" || state == "PRUNED") && steps == 0 {
			t.Errorf("trial %d %s has no intermediate values", number, state)
		}
		if state == "COMPLETE" && steps != 5 {
			t.Errorf("trial %d COMPLETE with %d steps, want 5", number, steps)
		}
	}
	if i != want {
		t.Errorf("%d trials, want %d", i, want)
	}
	if states["RUNNING"]+states["WAITING"] != 0 {
		t.Errorf("states %v: trials left RUNNING or WAITING", states)
	}
	if states["PRUNED"] == 0 || states["COMPLETE"] == 0 {
		t.Errorf("states %v: want both COMPLETE and PRUNED trials", states)
	}
	t.Logf("trial states: %v", states)
}

package chaos_test

import (
	"bufio"
	"database/sql"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sweep/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// signalStudy has trials long enough (4 × 0.5 s) to be caught running.
const signalStudy = `study: signals
direction: maximize
trials: 6
workers: 2
sampler: {type: random, seed: 4}
heartbeat: {interval: 0.2, grace: 1.5}
retry: {max: 1}
objective: {type: synthetic, epochs: 4, epoch_seconds: 0.5}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
`

// worker is a sweep process whose stderr lines can be waited for.
type worker struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	more  chan struct{} // signalled on each new line
	done  chan error
}

func startWorker(t *testing.T, bin, dsn string, args ...string) *worker {
	t.Helper()
	w := &worker{cmd: exec.Command(bin, args...), more: make(chan struct{}, 1), done: make(chan error, 1)}
	w.cmd.Env = append(os.Environ(), "SWEEP_DB="+dsn, "SWEEP_RUN_DIR="+t.TempDir())
	stderr, err := w.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	w.cmd.Stdout = io.Discard
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			w.mu.Unlock()
			select {
			case w.more <- struct{}{}:
			default:
			}
		}
		w.done <- w.cmd.Wait()
	}()
	t.Cleanup(func() { w.cmd.Process.Kill() })
	return w
}

func (w *worker) log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// waitLine waits until the worker has printed a line containing s.
func (w *worker) waitLine(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for !strings.Contains(w.log(), s) {
		select {
		case <-w.more:
		case <-timeout:
			t.Fatalf("no line %q within 2 minutes; stderr:\n%s", s, w.log())
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (w *worker) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-w.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("process still running after 2 minutes; stderr:\n%s", w.log())
	}
	return w.cmd.ProcessState.ExitCode()
}

// states counts the study's trials by state, and FAIL ones by reason.
func states(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	out, err := tryStates(db)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tryStates(db *sql.DB) (map[string]int, error) {
	rows, err := db.Query(`SELECT CASE WHEN state = 'FAIL' THEN 'FAIL ' || reason ELSE state END, count(*) FROM trials GROUP BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// waitRunning waits until n trials are RUNNING.
func waitRunning(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := tryStates(db) // the schema may not exist yet
		if err == nil && got["RUNNING"] >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never %d trials RUNNING: %v %v", n, got, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSignals sends the real binary SIGTERM, SIGINT twice and SIGKILL
// while trials run, and checks what each leaves in the database.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	spec := filepath.Join(dir, "signals.yaml")
	if err := os.WriteFile(spec, []byte(signalStudy), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := func(t *testing.T) (string, *sql.DB, *worker) {
		dsn := pgtest.DSN(t)
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		w := startWorker(t, bin, dsn, "start", spec)
		waitRunning(t, db, 2)
		return dsn, db, w
	}

	// One SIGTERM (or SIGINT): the running trials finish, no new one starts.
	for name, sig := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT} {
		t.Run("Graceful"+name, func(t *testing.T) {
			_, db, w := setup(t)
			w.cmd.Process.Signal(sig)
			if code := w.wait(t); code != 130 {
				t.Errorf("exit %d, want 130 (interrupted before the budget was spent)", code)
			}
			got := states(t, db)
			if got["COMPLETE"] != 2 || len(got) != 1 {
				t.Errorf("trials %v, want the 2 running ones COMPLETE and nothing else\n%s", got, w.log())
			}
			if !strings.Contains(w.log(), "resume with: sweep worker signals") {
				t.Errorf("stderr lacks the resume hint:\n%s", w.log())
			}
		})
	}

	// A second interrupt stops now: FAIL "interrupted", retried per policy.
	t.Run("TwiceSIGINT", func(t *testing.T) {
		_, db, w := setup(t)
		w.cmd.Process.Signal(syscall.SIGINT)
		w.waitLine(t, "interrupt: finishing running trials")
		w.cmd.Process.Signal(syscall.SIGINT)
		if code := w.wait(t); code != 130 {
			t.Errorf("exit %d, want 130 (interrupted)", code)
		}
		got := states(t, db)
		if got["FAIL interrupted"] != 2 || got["WAITING"] != 2 || got["RUNNING"] != 0 {
			t.Errorf("trials %v, want 2 FAIL interrupted with 2 WAITING retries\n%s", got, w.log())
		}
	})

	// SIGKILL leaves RUNNING trials; after the grace period `sweep status`
	// reaps them as stale and queues retries, which a new worker runs.
	t.Run("SIGKILL", func(t *testing.T) {
		dsn, db, w := setup(t)
		w.cmd.Process.Kill()
		w.wait(t)
		if got := states(t, db); got["RUNNING"] != 2 {
			t.Fatalf("trials %v after SIGKILL, want 2 left RUNNING", got)
		}
		time.Sleep(2 * time.Second) // the grace period (1.5 s) passes
		out, err := exec.Command(bin, "status", "signals", "--db", dsn).CombinedOutput()
		if err != nil {
			t.Fatalf("sweep status: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "marked 2 silent trial(s) FAIL (stale); 2 retry(ies) queued") {
			t.Errorf("sweep status output lacks the reaping line:\n%s", out)
		}
		if got := states(t, db); got["FAIL stale"] != 2 || got["WAITING"] != 2 {
			t.Errorf("trials %v after status, want 2 FAIL stale and 2 WAITING retries", got)
		}
		w2 := startWorker(t, bin, dsn, "worker", "signals")
		if code := w2.wait(t); code != 0 {
			t.Fatalf("worker exit %d:\n%s", code, w2.log())
		}
		got := states(t, db)
		if got["FAIL stale"] != 2 || got["COMPLETE"] != 4 || len(got) != 2 {
			t.Errorf("trials %v, want 2 FAIL stale and the other 4 of the budget COMPLETE", got)
		}
		var retries int
		db.QueryRow(`SELECT count(*) FROM trials r JOIN trials o ON o.id = r.retry_of
			WHERE o.reason = 'stale' AND r.attempt = 1 AND r.state = 'COMPLETE'`).Scan(&retries)
		if retries != 2 {
			t.Errorf("%d completed retries of the stale trials, want 2", retries)
		}
	})
}

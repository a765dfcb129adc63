// Package scale runs one synthetic study on many `sweep worker` processes
// against one PostgreSQL, directly or through PgBouncer, and measures what
// the database sees: trials per second, duplicates, lost trials, refused
// connections, the claim statements' server time and the server's CPU time
// (make test-scale, docs/scale.md).
//
// It does not start the server or the pooler (the test does) and judges
// nothing: Report holds the figures, the caller asserts.
package scale

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is one run.
type Config struct {
	Bin     string // the sweep binary
	DSN     string // what the workers connect to (the pooler or the server)
	Admin   string // a direct DSN to the server, for the checks
	Dir     string // logs and the spec
	Study   string
	Workers int // processes of 1 slot
	Trials  int
	// EpochSeconds and Epochs shape each synthetic trial.
	EpochSeconds float64
	Epochs       int
	// ServerLog is the server's log, with log_min_duration_statement = 0,
	// for the claim statements' durations; "" skips them.
	ServerLog string
	// ServerPID is the postmaster's pid, for its CPU time; 0 skips it.
	ServerPID int
	// Timeout bounds the whole run.
	Timeout time.Duration
}

// Report is what a run measured.
type Report struct {
	Workers, Trials     int
	Wall                time.Duration
	Stored, Distinct    int // trial rows, distinct numbers
	Complete, Running   int
	Refused             int // workers that could not connect (too many clients)
	ExitFailures        int // workers that exited non-zero for another reason
	TrialsPerSec        float64
	TurnP50, TurnP99    time.Duration // end of a worker's trial to the start of its next
	ClaimP50, ClaimP99  time.Duration // server time of the statement creating a claimed trial
	WaitP50, WaitP99    time.Duration // server time of the WAITING check before it
	ServerCPU           time.Duration // user+system CPU of the postmaster and its backends
	TimedOut            bool
	RefusedSample, Fail string
}

// Spec is the study's YAML.
func (c Config) Spec() string {
	return fmt.Sprintf(`study: %s
direction: maximize
metric: val_acc
trials: %d
workers: 1
sampler: {type: random, seed: 11}
objective: {type: synthetic, epochs: %d, epoch_seconds: %g}
heartbeat: {interval: 5s, grace: 15s}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  width: {type: int, low: 8, high: 256}
`, c.Study, c.Trials, c.Epochs, c.EpochSeconds)
}

// Run creates the study, starts all the workers at once with `sweep
// worker`, waits for them and measures.
func Run(ctx context.Context, c Config) (Report, error) {
	rep := Report{Workers: c.Workers, Trials: c.Trials}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	spec := filepath.Join(c.Dir, c.Study+".yaml")
	if err := os.WriteFile(spec, []byte(c.Spec()), 0o644); err != nil {
		return rep, fmt.Errorf("write spec: %w", err)
	}
	// sweep launch creates the study without running a trial (the script
	// it writes is not submitted).
	if out, err := exec.CommandContext(ctx, c.Bin, "launch", "slurm", spec, "--db", c.Admin, "--workers", "1",
		"--out", filepath.Join(c.Dir, c.Study+".sbatch")).CombinedOutput(); err != nil {
		return rep, fmt.Errorf("create study: %v: %s", err, out)
	}
	cpu0 := serverCPU(c.ServerPID)
	logOff := logSize(c.ServerLog)
	start := time.Now()
	type proc struct {
		cmd  *exec.Cmd
		log  string
		done chan error
	}
	procs := make([]*proc, c.Workers)
	for i := range procs {
		p := &proc{log: filepath.Join(c.Dir, fmt.Sprintf("%s-w%03d.log", c.Study, i)), done: make(chan error, 1)}
		f, err := os.Create(p.log)
		if err != nil {
			return rep, fmt.Errorf("create log: %w", err)
		}
		p.cmd = exec.CommandContext(ctx, c.Bin, "worker", c.Study, "--workers", "1")
		p.cmd.Env = append(os.Environ(), "SWEEP_DB="+c.DSN, "SWEEP_RUN_DIR="+filepath.Join(c.Dir, "run"))
		p.cmd.Stdout, p.cmd.Stderr = f, f
		if err := p.cmd.Start(); err != nil {
			f.Close()
			return rep, fmt.Errorf("start worker %d: %w", i, err)
		}
		go func() { p.done <- p.cmd.Wait(); f.Close() }()
		procs[i] = p
	}
	for _, p := range procs {
		err := <-p.done
		if err == nil {
			continue
		}
		b, _ := os.ReadFile(p.log)
		switch {
		case strings.Contains(string(b), "too many clients") || strings.Contains(string(b), "53300"):
			rep.Refused++
			if rep.RefusedSample == "" {
				rep.RefusedSample = lastLine(string(b))
			}
		default:
			rep.ExitFailures++
			if rep.Fail == "" {
				rep.Fail = fmt.Sprintf("%v: %s", err, lastLine(string(b)))
			}
		}
	}
	rep.Wall = time.Since(start)
	rep.TimedOut = ctx.Err() != nil
	rep.ServerCPU = serverCPU(c.ServerPID) - cpu0
	if err := c.check(context.Background(), &rep); err != nil {
		return rep, err
	}
	if c.ServerLog != "" {
		if err := claimTimes(c.ServerLog, logOff, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// check counts the stored trials and the workers' turnaround.
func (c Config) check(ctx context.Context, rep *Report) error {
	db, err := sql.Open("postgres", c.Admin)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	err = db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT number), count(*) FILTER (WHERE state = 'COMPLETE'),
		count(*) FILTER (WHERE state = 'RUNNING') FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = $1`,
		c.Study).Scan(&rep.Stored, &rep.Distinct, &rep.Complete, &rep.Running)
	if err != nil {
		return fmt.Errorf("count trials: %w", err)
	}
	rep.TrialsPerSec = float64(rep.Complete) / rep.Wall.Seconds()
	rows, err := db.QueryContext(ctx, `SELECT extract(epoch FROM t.started_at - lag(t.finished_at) OVER w)
		FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = $1
		WINDOW w AS (PARTITION BY t.worker_id ORDER BY t.started_at)`, c.Study)
	if err != nil {
		return fmt.Errorf("query turnaround: %w", err)
	}
	defer rows.Close()
	var turn []float64
	for rows.Next() {
		var v sql.NullFloat64
		if err := rows.Scan(&v); err != nil {
			return err
		}
		if v.Valid {
			turn = append(turn, v.Float64)
		}
	}
	rep.TurnP50, rep.TurnP99 = seconds(quantile(turn, 0.5)), seconds(quantile(turn, 0.99))
	return rows.Err()
}

// claimTimes reads the durations the server logged (from offset on) of
// the two claim statements.
func claimTimes(path string, offset int64, rep *Report) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return err
	}
	var create, waiting []float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur float64 = -1
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "duration: "); i >= 0 {
			cur = -1
			rest := line[i+len("duration: "):]
			if ms, _, ok := strings.Cut(rest, " ms  execute "); ok {
				cur, _ = strconv.ParseFloat(ms, 64)
			}
			continue
		}
		if cur < 0 {
			continue
		}
		switch {
		case strings.Contains(line, "INSERT INTO trials (study_id, number, state, worker_id"):
			create, cur = append(create, cur/1000), -1
		case strings.Contains(line, "FOR UPDATE SKIP LOCKED"):
			waiting, cur = append(waiting, cur/1000), -1
		}
	}
	rep.ClaimP50, rep.ClaimP99 = seconds(quantile(create, 0.5)), seconds(quantile(create, 0.99))
	rep.WaitP50, rep.WaitP99 = seconds(quantile(waiting, 0.5)), seconds(quantile(waiting, 0.99))
	return sc.Err()
}

// serverCPU is the user+system CPU time of pid, its live children and the
// children it has reaped, from /proc (clock ticks of 10 ms).
func serverCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	ticks := procTicks(pid, true)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if procParent(child) == pid {
			ticks += procTicks(child, false)
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// procStat returns the fields of /proc/pid/stat after the command name.
func procStat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

func procParent(pid int) int {
	f := procStat(pid)
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// procTicks is utime+stime (and cutime+cstime with reaped).
func procTicks(pid int, reaped bool) int64 {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	var t int64
	fields := []int{11, 12} // utime, stime (stat fields 14, 15)
	if reaped {
		fields = append(fields, 13, 14)
	}
	for _, i := range fields {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		t += v
	}
	return t
}

func logSize(path string) int64 {
	if fi, err := os.Stat(path); err == nil {
		return fi.Size()
	}
	return 0
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	return xs[min(len(xs)-1, int(q*float64(len(xs))))]
}

func seconds(s float64) time.Duration {
	if math.IsNaN(s) {
		return -1
	}
	return time.Duration(s * float64(time.Second))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// String prints the report as the docs quote it.
func (r Report) String() string {
	return fmt.Sprintf("%d workers, %d trials: %d stored (%d distinct numbers), %d complete, %d running; "+
		"%d workers refused (too many clients), %d other failures; wall %s, %.1f trials/s; "+
		"turnaround p50 %s p99 %s; create-trial statement p50 %s p99 %s; waiting check p50 %s p99 %s; server CPU %s",
		r.Workers, r.Trials, r.Stored, r.Distinct, r.Complete, r.Running, r.Refused, r.ExitFailures,
		r.Wall.Round(time.Millisecond), r.TrialsPerSec, r.TurnP50.Round(time.Microsecond), r.TurnP99.Round(time.Microsecond),
		r.ClaimP50.Round(time.Microsecond), r.ClaimP99.Round(time.Microsecond),
		r.WaitP50.Round(time.Microsecond), r.WaitP99.Round(time.Microsecond), r.ServerCPU.Round(10*time.Millisecond))
}

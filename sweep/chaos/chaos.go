// Package chaos runs a study on many real `sweep` worker processes while
// it breaks things on purpose: it kills workers with SIGKILL at random
// moments and restarts PostgreSQL under them. Afterwards it checks what
// the database holds against sweep's promises and returns a Report.
//
// It does not start PostgreSQL (the caller passes a DSN and a restart
// function) or build the binary; its test (chaos_test.go) does both. The
// moments of the faults are drawn from a seeded source and keyed to study
// progress (the number of finished trials), not to wall time, so a slow
// or loaded machine sees the same faults at the same stage of the study.
package chaos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/lib/pq" // database/sql driver "postgres"
)

// Config describes one chaos run.
type Config struct {
	Bin          string  // the sweep binary
	Dir          string  // spec and worker logs go here
	DSN          string  // the database the workers share
	Workers      int     // worker processes, one trial slot each
	Trials       int     // the study's budget
	KillFraction float64 // share of the processes killed with SIGKILL (rounded up)
	Freezes      int     // processes stopped with SIGSTOP for longer than Grace, then resumed
	Restarts     int     // PostgreSQL restarts during the run
	Seed         int64   // draws the faults' moments and victims
	Interval     float64 // heartbeat interval, seconds
	Grace        float64 // heartbeat grace, seconds
	Epochs       int     // synthetic epochs per trial
	EpochSeconds float64 // synthetic sleep per epoch
	FailRate     float64 // synthetic objective failures
	RetryMax     int
	// Restart restarts PostgreSQL; it must return once the server accepts
	// connections again.
	Restart func(ctx context.Context) error
	// StatusAfterRestart runs `sweep status` (which reaps) as soon as the
	// server is back, before the workers had time to beat again.
	StatusAfterRestart bool
	// Stop and Start, when both are set, replace Restart: each restart is
	// then an outage of Outage, with OutageKills workers killed (SIGKILL)
	// two thirds into it — by then every trial running at its start has
	// ended and waits in its worker's journal — and started again on the
	// same host (the same run directory) once the server is back.
	Stop, Start func(ctx context.Context) error
	Outage      time.Duration
	OutageKills int
	// Logf narrates the run; nil means silent.
	Logf func(format string, args ...any)
}

// Report is what a run left in the database, and what happened on the way.
type Report struct {
	Workers, Killed, Restarts     int
	Frozen                        int // processes frozen past the grace period and resumed
	Budget, Trials                int
	Complete, Pruned, Failed      int
	Stale, Interrupted, Simulated int            // reasons among Failed
	OtherFailures                 map[string]int // any other FAIL reason: the database fault reached the trial
	Retried                       int            // trials that are retries (retry_of set)
	DuplicateNumbers              int            // numbers held by more than one trial: must be 0
	NumberGaps                    int            // numbers missing from 0..Trials-1: must be 0
	LostValues                    int            // missing intermediate values of COMPLETE/PRUNED trials (gaps, missing final steps): must be 0
	LeftRunning                   int            // RUNNING or WAITING after the grace period and a reap: must be 0
	LeftByWorkers                 int            // RUNNING or WAITING after the grace period, before `sweep status` reaped: must be 0
	FrozenTrials, FrozenReaped    int            // trials RUNNING in SIGSTOPped workers, and those of them reaped (FAIL stale): must be equal
	Outage                        time.Duration  // total time the server was down (Stop/Start outages)
	OutageKilled, Respawned       int            // workers killed during an outage, and started again after it
	Replayed                      int            // worker lines: a dead worker's journaled result replayed
	LateKept                      int            // trials holding a late result (attr late_value)
	ExitFailures                  []string
	LostIn                        []string // the trials with lost values, for the log
	frozenIDs                     []int
	BufferedOutages               int // worker log lines saying reports were buffered
	RejectedLate                  int // late results rejected after stale-marking
	ReapedByWorkers               int // stale trials reaped by running workers (the rest by `sweep status`)
	MaxConnections                int // most server connections seen at once
	TooManyClients                int // worker log lines where PostgreSQL refused a connection for max_connections: must be 0
	Wall                          time.Duration
}

// OK reports whether every promise held.
func (r Report) OK() bool {
	return r.DuplicateNumbers == 0 && r.NumberGaps == 0 && r.LostValues == 0 && r.LeftRunning == 0 &&
		r.LeftByWorkers == 0 && r.FrozenReaped == r.FrozenTrials &&
		len(r.ExitFailures) == 0 && r.Trials == r.Budget && r.TooManyClients == 0
}

// String renders the report as the table docs/reliability.md shows.
func (r Report) String() string {
	var b strings.Builder
	row := func(k string, v any) { fmt.Fprintf(&b, "%-44s %v\n", k, v) }
	row("worker processes", r.Workers)
	row("killed with SIGKILL", r.Killed)
	row("frozen (SIGSTOP) past grace, resumed", r.Frozen)
	row("PostgreSQL restarts", r.Restarts)
	if r.Outage > 0 {
		row("outage length (server down)", r.Outage)
		row("killed during the outage, restarted after", fmt.Sprintf("%d, %d", r.OutageKilled, r.Respawned))
		row("journaled results replayed", r.Replayed)
	}
	row("trials (budget)", fmt.Sprintf("%d (%d)", r.Trials, r.Budget))
	row("trials completed", r.Complete)
	row("trials pruned", r.Pruned)
	row("trials failed", fmt.Sprintf("%d (stale %d, interrupted %d, simulated by the objective %d, other %d)",
		r.Failed, r.Stale, r.Interrupted, r.Simulated, r.Failed-r.Stale-r.Interrupted-r.Simulated))
	for reason, n := range r.OtherFailures {
		row("  other failure", fmt.Sprintf("%d × %s", n, reason))
	}
	row("trials retried", r.Retried)
	row("duplicate numbers", r.DuplicateNumbers)
	row("gaps in numbers", r.NumberGaps)
	row("lost reported values", r.LostValues)
	for _, l := range r.LostIn {
		row("  lost in", l)
	}
	row("left RUNNING/WAITING by the workers", r.LeftByWorkers)
	row("left RUNNING/WAITING after grace", r.LeftRunning)
	row("frozen workers' trials reaped", fmt.Sprintf("%d of %d", r.FrozenReaped, r.FrozenTrials))
	row("late results kept (late_value)", r.LateKept)
	row("stale trials reaped by running workers", r.ReapedByWorkers)
	row("late results rejected (stale)", r.RejectedLate)
	row("worker lines: reports buffered", r.BufferedOutages)
	row("most server connections at once", r.MaxConnections)
	row("refused: too many clients", r.TooManyClients)
	row("surviving workers exiting non-zero", len(r.ExitFailures))
	row("wall time", r.Wall.Round(100*time.Millisecond))
	return b.String()
}

// Spec is the study spec of a run.
func (c Config) Spec() string {
	return fmt.Sprintf(`study: chaos
direction: maximize
metric: val_acc
trials: %d
workers: 1
sampler: {type: random, seed: %d}
pruner: {type: median, startup_trials: 10, warmup_steps: 2}
heartbeat: {interval: %g, grace: %g}
retry: {max: %d, inherit_intermediate: true}
objective: {type: synthetic, epochs: %d, epoch_seconds: %g, fail_rate: %g}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  momentum: {type: float, low: 0.8, high: 0.99}
  batch_size: {type: categorical, choices: [64, 128, 256]}
`, c.Trials, c.Seed, c.Interval, c.Grace, c.RetryMax, c.Epochs, c.EpochSeconds, c.FailRate)
}

// proc is one worker process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    string
	done   chan struct{}
	err    error
	killed bool
	frozen atomic.Bool // stopped with SIGSTOP; set back by the SIGCONT timer
}

// Run runs the study to its end under faults and checks the database.
func Run(ctx context.Context, c Config) (Report, error) {
	rep := Report{Workers: c.Workers, Budget: c.Trials}
	if c.Restarts > 0 && c.Restart == nil && (c.Stop == nil || c.Start == nil) {
		return rep, errors.New("chaos: Restarts set but neither Restart nor Stop and Start")
	}
	db, err := sql.Open("postgres", c.DSN)
	if err != nil {
		return rep, fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	spec := filepath.Join(c.Dir, "chaos.yaml")
	if err := os.WriteFile(spec, []byte(c.Spec()), 0o644); err != nil {
		return rep, fmt.Errorf("write spec: %w", err)
	}
	start := time.Now()
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			<-p.done
		}
	}()
	p, err := c.spawn(0, "start", spec, "--workers", "1")
	if err != nil {
		return rep, err
	}
	procs = append(procs, p)
	if err := waitStudy(ctx, db, p); err != nil {
		return rep, err
	}
	for i := 1; i < c.Workers; i++ {
		p, err := c.spawn(i, "worker", "chaos", "--workers", "1")
		if err != nil {
			return rep, err
		}
		procs = append(procs, p)
	}
	if err := c.inflict(ctx, db, &procs, &rep); err != nil {
		return rep, err
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-ctx.Done():
			return rep, fmt.Errorf("wait for %s: %w", p.name, ctx.Err())
		}
		if !p.killed && p.err != nil {
			rep.ExitFailures = append(rep.ExitFailures, fmt.Sprintf("%s: %v: %s", p.name, p.err, tail(p.log)))
		}
	}
	rep.Wall = time.Since(start)
	procs = nil
	c.logf("all workers gone after %s; waiting out the grace period, then reaping", rep.Wall.Round(time.Millisecond))
	if err := sleep(ctx, time.Duration(c.Grace*float64(time.Second))+time.Second); err != nil {
		return rep, err
	}
	// The workers themselves must have left nothing RUNNING or WAITING:
	// the last ones stay until every trial is finished or reaped.
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id
		WHERE s.name = 'chaos' AND t.state IN ('RUNNING', 'WAITING')`).Scan(&rep.LeftByWorkers); err != nil {
		return rep, fmt.Errorf("count trials left running: %w", err)
	}
	if out, err := exec.CommandContext(ctx, c.Bin, "status", "chaos", "--db", c.DSN).CombinedOutput(); err != nil {
		return rep, fmt.Errorf("sweep status: %v\n%s", err, out)
	}
	if err := check(ctx, db, c, &rep); err != nil {
		return rep, err
	}
	return rep, countLogLines(c.Dir, &rep)
}

// spawn starts `sweep args...` with its output in a log file.
func (c Config) spawn(i int, args ...string) (*proc, error) {
	p := &proc{name: fmt.Sprintf("worker %d (%s)", i, args[0]), log: filepath.Join(c.Dir, fmt.Sprintf("worker-%02d.log", i)), done: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	p.cmd = exec.Command(c.Bin, args...)
	p.cmd.Env = append(os.Environ(), "SWEEP_DB="+c.DSN, "SWEEP_RUN_DIR="+filepath.Join(c.Dir, "run")) // one host: shared journals
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// fault is a kill, a freeze or a restart, due when finished trials reach at.
type fault struct {
	at   int
	kind string // "kill", "freeze", "restart"
}

// plan draws the faults: kills spread over 5-80% of the budget, freezes
// over 10-50% (so that the study outlives them), restarts around the
// middle.
func (c Config) plan() []fault {
	rng := rand.New(rand.NewSource(c.Seed))
	kills := int(math.Ceil(c.KillFraction * float64(c.Workers)))
	var fs []fault
	for range kills {
		fs = append(fs, fault{at: c.Trials/20 + rng.Intn(c.Trials*3/4), kind: "kill"})
	}
	for range c.Freezes {
		fs = append(fs, fault{at: c.Trials/10 + rng.Intn(c.Trials*2/5), kind: "freeze"})
	}
	for i := range c.Restarts {
		fs = append(fs, fault{at: c.Trials*(2*i+3)/(4*c.Restarts+4) + rng.Intn(c.Trials/10+1), kind: "restart"})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].at < fs[j].at })
	return fs
}

// inflict waits for each fault's moment and causes it, until the plan is
// done or every process has exited.
func (c Config) inflict(ctx context.Context, db *sql.DB, procs *[]*proc, rep *Report) error {
	rng := rand.New(rand.NewSource(c.Seed + 1))
	faults := c.plan()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for len(faults) > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("inflict faults: %w", ctx.Err())
		case <-tick.C:
		}
		var finished, conns int
		err := db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id
			 WHERE s.name = 'chaos' AND t.state IN ('COMPLETE', 'PRUNED', 'FAIL')),
			(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')`).Scan(&finished, &conns)
		if err != nil {
			continue // the server may be restarting
		}
		rep.MaxConnections = max(rep.MaxConnections, conns)
		alive := aliveProcs(*procs)
		if len(alive) == 0 {
			return nil
		}
		for len(faults) > 0 && finished >= faults[0].at {
			if err := c.strike(ctx, db, faults[0], procs, rng, rep, finished); err != nil {
				return err
			}
			faults = faults[1:]
		}
	}
	return nil
}

// strike causes one fault.
func (c Config) strike(ctx context.Context, db *sql.DB, f fault, procs *[]*proc, rng *rand.Rand, rep *Report, finished int) error {
	if f.kind == "restart" {
		if c.Stop != nil && c.Start != nil {
			return c.outage(ctx, procs, rng, rep, finished)
		}
		c.logf("%d trials finished: restarting PostgreSQL", finished)
		t0 := time.Now()
		if err := c.Restart(ctx); err != nil {
			return fmt.Errorf("restart postgres: %w", err)
		}
		rep.Restarts++
		c.logf("PostgreSQL back after %s", time.Since(t0).Round(time.Millisecond))
		return c.statusAfterRestart(ctx)
	}
	alive := aliveProcs(*procs)
	if len(alive) <= 1 {
		return nil // keep one worker, or nobody finishes the study
	}
	v := alive[rng.Intn(len(alive))]
	if f.kind == "freeze" {
		// Twice the grace period and more: reapers on a loaded machine
		// may run late, and the trial must be reaped while frozen.
		d := time.Duration((2*c.Grace + 2) * float64(time.Second))
		c.logf("%d trials finished: SIGSTOP %s for %s", finished, v.name, d)
		if err := v.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			return fmt.Errorf("stop %s: %w", v.name, err)
		}
		v.frozen.Store(true)
		rep.Frozen++
		// Its RUNNING trials must be reaped while it is frozen. Its worker
		// IDs are host:pid:random/slot.
		rows, err := db.QueryContext(ctx, `SELECT t.id FROM trials t JOIN studies s ON s.id = t.study_id
			WHERE s.name = 'chaos' AND t.state = 'RUNNING' AND t.worker_id LIKE $1`, fmt.Sprintf("%%:%d:%%", v.cmd.Process.Pid))
		if err == nil {
			for rows.Next() {
				var id int
				if rows.Scan(&id) == nil {
					rep.frozenIDs = append(rep.frozenIDs, id)
				}
			}
			rows.Close()
		}
		time.AfterFunc(d, func() {
			v.cmd.Process.Signal(syscall.SIGCONT)
			v.frozen.Store(false)
		})
		return nil
	}
	c.logf("%d trials finished: SIGKILL %s", finished, v.name)
	v.killed = true
	if err := v.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill %s: %w", v.name, err)
	}
	rep.Killed++
	return nil
}

// statusAfterRestart runs `sweep status` when StatusAfterRestart is set.
func (c Config) statusAfterRestart(ctx context.Context) error {
	if !c.StatusAfterRestart {
		return nil
	}
	out, err := exec.CommandContext(ctx, c.Bin, "status", "chaos", "--db", c.DSN).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sweep status after the restart: %v\n%s", err, out)
	}
	c.logf("sweep status right after the restart:\n%s", out)
	return nil
}

// outage stops PostgreSQL for c.Outage, kills c.OutageKills workers two
// thirds into it, and starts the server and then new workers in their
// place.
func (c Config) outage(ctx context.Context, procs *[]*proc, rng *rand.Rand, rep *Report, finished int) error {
	c.logf("%d trials finished: PostgreSQL down for %s", finished, c.Outage)
	if err := c.Stop(ctx); err != nil {
		return fmt.Errorf("stop postgres: %w", err)
	}
	rep.Outage += c.Outage
	if err := sleep(ctx, c.Outage*2/3); err != nil {
		return err
	}
	killed := 0
	for range c.OutageKills {
		alive := aliveProcs(*procs)
		if len(alive) <= 1 {
			break
		}
		v := alive[rng.Intn(len(alive))]
		c.logf("SIGKILL %s during the outage", v.name)
		v.killed = true
		if err := v.cmd.Process.Kill(); err != nil {
			return fmt.Errorf("kill %s: %w", v.name, err)
		}
		killed++
	}
	rep.OutageKilled += killed
	if err := sleep(ctx, c.Outage-c.Outage*2/3); err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	rep.Restarts++
	c.logf("PostgreSQL back after %s; starting %d worker(s) in place of the killed", c.Outage, killed)
	for range killed {
		p, err := c.spawn(len(*procs), "worker", "chaos", "--workers", "1")
		if err != nil {
			return err
		}
		*procs = append(*procs, p)
		rep.Respawned++
	}
	return c.statusAfterRestart(ctx)
}

// aliveProcs are the processes running and neither killed nor frozen.
func aliveProcs(procs []*proc) []*proc {
	var out []*proc
	for _, p := range procs {
		select {
		case <-p.done:
		default:
			if !p.killed && !p.frozen.Load() {
				out = append(out, p)
			}
		}
	}
	return out
}

// waitStudy waits until `sweep start` has created the study.
func waitStudy(ctx context.Context, db *sql.DB, p *proc) error {
	for {
		var n int
		if db.QueryRowContext(ctx, `SELECT count(*) FROM studies WHERE name = 'chaos'`).Scan(&n) == nil && n == 1 {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("sweep start exited before creating the study: %v: %s", p.err, tail(p.log))
		case <-ctx.Done():
			return fmt.Errorf("wait for the study: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// check fills the report from the database.
func check(ctx context.Context, db *sql.DB, c Config, rep *Report) error {
	q := func(dst any, query string) error {
		if err := db.QueryRowContext(ctx, query).Scan(dst); err != nil {
			return fmt.Errorf("check %q: %w", query, err)
		}
		return nil
	}
	const study = `(SELECT id FROM studies WHERE name = 'chaos')`
	const trials = `trials WHERE study_id = ` + study
	var maxNumber sql.NullInt64
	for _, x := range []struct {
		dst   any
		query string
	}{
		{&rep.Trials, `SELECT count(*) FROM ` + trials},
		{&rep.Complete, `SELECT count(*) FROM ` + trials + ` AND state = 'COMPLETE'`},
		{&rep.Pruned, `SELECT count(*) FROM ` + trials + ` AND state = 'PRUNED'`},
		{&rep.Failed, `SELECT count(*) FROM ` + trials + ` AND state = 'FAIL'`},
		{&rep.Stale, `SELECT count(*) FROM ` + trials + ` AND state = 'FAIL' AND reason = 'stale'`},
		{&rep.Interrupted, `SELECT count(*) FROM ` + trials + ` AND state = 'FAIL' AND reason = 'interrupted'`},
		{&rep.Simulated, `SELECT count(*) FROM ` + trials + ` AND state = 'FAIL' AND reason LIKE 'synthetic: simulated failure%'`},
		{&rep.Retried, `SELECT count(*) FROM ` + trials + ` AND retry_of IS NOT NULL`},
		{&rep.LeftRunning, `SELECT count(*) FROM ` + trials + ` AND state IN ('RUNNING', 'WAITING')`},
		{&rep.DuplicateNumbers, `SELECT count(*) FROM (SELECT number FROM ` + trials + ` GROUP BY number HAVING count(*) > 1) d`},
		{&maxNumber, `SELECT max(number) FROM ` + trials},
		// A COMPLETE trial reported every epoch; a PRUNED one every epoch
		// up to the one it was pruned at. Missing steps are lost values.
		{&rep.LostValues, `SELECT COALESCE(sum(CASE WHEN t.state = 'COMPLETE' THEN ` + fmt.Sprint(c.Epochs) + ` ELSE v.last END - v.n), 0)
			FROM trials t JOIN (SELECT trial_id, count(*) AS n, max(step) AS last FROM trial_values GROUP BY trial_id) v ON v.trial_id = t.id
			WHERE t.study_id = ` + study + ` AND t.state IN ('COMPLETE', 'PRUNED')`},
	} {
		if err := q(x.dst, x.query); err != nil {
			return err
		}
	}
	var noValues int
	if err := q(&noValues, `SELECT count(*) FROM `+trials+` AND state IN ('COMPLETE', 'PRUNED')
		AND NOT EXISTS (SELECT 1 FROM trial_values v WHERE v.trial_id = trials.id)`); err != nil {
		return err
	}
	rep.LostValues += noValues * c.Epochs
	// The last value a trial reported is its result (the synthetic
	// objective returns it; a pruned trial keeps it), so a lost final
	// report shows as a result that differs from the last stored value.
	// Retries are left out: values they inherited may lie beyond the step
	// they stopped at.
	var lastLost int
	if err := q(&lastLost, `SELECT count(*) FROM `+trials+` AND state IN ('COMPLETE', 'PRUNED') AND retry_of IS NULL
		AND value IS DISTINCT FROM (SELECT v.value FROM trial_values v WHERE v.trial_id = trials.id ORDER BY v.step DESC LIMIT 1)`); err != nil {
		return err
	}
	rep.LostValues += lastLost
	if rep.LostValues > 0 {
		rows, err := db.QueryContext(ctx, `SELECT t.number, t.state, t.value, COALESCE(t.worker_id, ''),
			COALESCE((SELECT string_agg(v.step || '=' || v.value, ' ' ORDER BY v.step) FROM trial_values v WHERE v.trial_id = t.id), '')
			FROM `+trials+` AND state IN ('COMPLETE', 'PRUNED') AND retry_of IS NULL ORDER BY number`)
		if err == nil {
			for rows.Next() {
				var n int
				var st, w, vals string
				var v sql.NullFloat64
				if rows.Scan(&n, &st, &v, &w, &vals) == nil && (st == "COMPLETE" && strings.Count(vals, "=") != c.Epochs || !strings.HasSuffix(vals, fmt.Sprintf("=%v", v.Float64))) {
					rep.LostIn = append(rep.LostIn, fmt.Sprintf("trial %d %s %v by %s: %s", n, st, v.Float64, w, vals))
				}
			}
			rows.Close()
		}
	}
	if err := q(&rep.LateKept, `SELECT count(*) FROM trial_user_attrs a JOIN trials t ON t.id = a.trial_id
		WHERE t.study_id = `+study+` AND a.key = 'late_value'`); err != nil {
		return err
	}
	rep.FrozenTrials = len(rep.frozenIDs)
	for _, id := range rep.frozenIDs {
		var stale bool
		if err := db.QueryRowContext(ctx, `SELECT state = 'FAIL' AND reason = 'stale' FROM trials WHERE id = $1`, id).Scan(&stale); err != nil {
			return fmt.Errorf("check frozen trial %d: %w", id, err)
		}
		if stale {
			rep.FrozenReaped++
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT reason, count(*) FROM `+trials+` AND state = 'FAIL'
		AND reason NOT IN ('stale', 'interrupted') AND reason NOT LIKE 'synthetic: simulated failure%' GROUP BY reason`)
	if err != nil {
		return fmt.Errorf("check failure reasons: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var reason string
		var n int
		if err := rows.Scan(&reason, &n); err != nil {
			return fmt.Errorf("check failure reasons: %w", err)
		}
		if rep.OtherFailures == nil {
			rep.OtherFailures = map[string]int{}
		}
		rep.OtherFailures[reason] = n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check failure reasons: %w", err)
	}
	// Numbers are unique (the duplicate count says so), so gaps are what
	// the count falls short of max+1.
	if maxNumber.Valid {
		rep.NumberGaps = int(maxNumber.Int64) + 1 - rep.Trials
	}
	return nil
}

// reapedLine is a worker's log line after reaping stale trials.
var reapedLine = regexp.MustCompile(`marked (\d+) trial\(s\) FAIL \(stale\)`)

// countLogLines counts what the workers said about outages and late
// results.
func countLogLines(dir string, rep *Report) error {
	logs, err := filepath.Glob(filepath.Join(dir, "worker-*.log"))
	if err != nil {
		return err
	}
	for _, name := range logs {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read worker log: %w", err)
		}
		s := string(b)
		rep.BufferedOutages += strings.Count(s, "buffering reports")
		rep.TooManyClients += strings.Count(s, "too many clients") + strings.Count(s, "53300")
		rep.RejectedLate += strings.Count(s, "marked stale by another worker") + strings.Count(s, "result rejected")
		rep.Replayed += strings.Count(s, "replayed from journal")
		for _, m := range reapedLine.FindAllStringSubmatch(s, -1) {
			n, _ := strconv.Atoi(m[1])
			rep.ReapedByWorkers += n
		}
	}
	return nil
}

// tail is the end of a log file, for error messages.
func tail(name string) string {
	b, _ := os.ReadFile(name)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func (c Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

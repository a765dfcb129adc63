package chaos_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sweep/sweep/chaos"
	"sweep/sweep/pgcluster"
)

// EnvSeed, when set, replaces the seed that draws the faults' moments
// and victims (make test-chaos SEED=n).
const EnvSeed = "SWEEP_CHAOS_SEED"

// TestChaos runs a study on real worker processes while killing 20% of
// them with SIGKILL and restarting PostgreSQL once, then checks the
// invariants: every trial of the budget exists once, no number is
// duplicated or missing, no reported value is lost, nothing is left
// RUNNING after the grace period, and every surviving worker exits 0.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs many worker processes and restarts PostgreSQL")
	}
	cfg := chaos.Config{
		Workers: 32, Trials: 1000, KillFraction: 0.2, Freezes: 2, Restarts: 1, Seed: 1,
		Interval: 0.5, Grace: 3, Epochs: 5, EpochSeconds: 0.1, FailRate: 0.05, RetryMax: 2,
	}
	if s := os.Getenv(EnvSeed); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", EnvSeed, s, err)
		}
		cfg.Seed = seed
	}
	timeout := 8 * time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	dir := t.TempDir()
	cfg.Dir = dir
	cfg.Bin = buildBinary(t, dir)
	srv, restart, _, _ := startPostgres(t, ctx, 0)
	cfg.DSN = srv
	cfg.Restart = restart
	cfg.Logf = t.Logf
	rep, err := chaos.Run(ctx, cfg)
	t.Logf("chaos report (%d workers, %d trials):\n%s", cfg.Workers, cfg.Trials, rep)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("chaos broke a promise; worker logs in %s", dir)
		for _, f := range rep.ExitFailures {
			t.Errorf("survivor failed: %s", f)
		}
	}
	if rep.Killed == 0 || rep.Restarts != cfg.Restarts {
		t.Errorf("faults not all inflicted: %d killed, %d restarts", rep.Killed, rep.Restarts)
	}
	if rep.Stale == 0 {
		t.Errorf("no trial was reaped as stale although %d workers were killed", rep.Killed)
	}
	if rep.LeftByWorkers != 0 {
		t.Errorf("%d trials RUNNING or WAITING when the last worker left (before sweep status reaped)", rep.LeftByWorkers)
	}
	if rep.FrozenReaped != rep.FrozenTrials {
		t.Errorf("%d of the %d trials of SIGSTOPped workers reaped, want all", rep.FrozenReaped, rep.FrozenTrials)
	}
	if rep.MaxConnections > 100 {
		t.Errorf("%d connections at once: more than PostgreSQL's default max_connections", rep.MaxConnections)
	}
	if len(rep.OtherFailures) > 0 {
		t.Errorf("database faults failed trials: %v", rep.OtherFailures)
	}
	if out := os.Getenv("SWEEP_CHAOS_REPORT"); out != "" {
		if err := os.WriteFile(out, []byte(rep.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// EnvOutage sets TestChaos_LongOutage's outage (a Go duration); make
// test-chaos runs it with 90s, `go test` with the 8 s default.
const EnvOutage = "SWEEP_CHAOS_OUTAGE"

// TestChaos_LongOutage stops PostgreSQL for longer than the heartbeat
// grace period while every worker is mid-trial, so that every running
// trial ends during the outage; two thirds in, it kills two workers (whose
// results then wait only in their journals) and starts two new ones on the
// same host once the server is back, then runs `sweep status` at once.
// No trial may fail but those of the killed workers, and those only as
// stale; no reported value may be lost: the workers buffer, journal, retry
// and replay.
func TestChaos_LongOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs many worker processes and stops PostgreSQL")
	}
	outage := 8 * time.Second
	if s := os.Getenv(EnvOutage); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", EnvOutage, s, err)
		}
		outage = d
	}
	cfg := chaos.Config{
		Workers: 8, Trials: 120, Restarts: 1, Seed: 3,
		Interval: 0.25, Grace: 4, Epochs: 5, EpochSeconds: 0.2, RetryMax: 1,
		StatusAfterRestart: true, Outage: outage, OutageKills: 2,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute+outage)
	defer cancel()
	cfg.Dir = t.TempDir()
	cfg.Bin = buildBinary(t, cfg.Dir)
	cfg.DSN, _, cfg.Stop, cfg.Start = startPostgres(t, ctx, 0)
	cfg.Logf = t.Logf
	rep, err := chaos.Run(ctx, cfg)
	t.Logf("report (%s outage, grace %gs):\n%s", outage, cfg.Grace, rep)
	if out := os.Getenv("SWEEP_CHAOS_REPORT"); out != "" {
		f, ferr := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if ferr == nil {
			fmt.Fprintf(f, "\nlong outage (TestChaos_LongOutage):\n%s", rep)
			f.Close()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Restarts != 1 || rep.Outage != outage {
		t.Errorf("broken promise or no outage; worker logs in %s", cfg.Dir)
	}
	if rep.OutageKilled != 2 || rep.Respawned != 2 || rep.Replayed == 0 {
		t.Errorf("%d killed in the outage, %d restarted, %d journaled results replayed: want 2, 2 and some", rep.OutageKilled, rep.Respawned, rep.Replayed)
	}
	// A killed worker's trial is reaped as stale when its result was not
	// replayed in time (then it is kept as late_value) or when the worker
	// died before the trial ended (a claim or the sampler waiting for the
	// database, on a loaded machine): a retry runs it again, nothing lost.
	if rep.Failed != rep.Stale || rep.Stale > rep.OutageKilled || rep.LateKept > rep.Stale || rep.BufferedOutages == 0 {
		t.Errorf("%d failed, %d stale, %d late results kept, %d buffering workers: want failures only stale trials of the killed workers, and reports buffered",
			rep.Failed, rep.Stale, rep.LateKept, rep.BufferedOutages)
	}
}

// buildBinary compiles cmd/sweep.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "sweep")
	cmd := exec.Command("go", "build", "-o", bin, "sweep/cmd/sweep")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startPostgres runs a private server with PostgreSQL's default
// max_connections (100), so that the pools are shown to fit, and returns
// its DSN, a function restarting it (fast shutdown, then start on the
// same port, as `pg_ctl restart -m fast` does) after outage, and the stop
// and start halves of it.
func startPostgres(t *testing.T, ctx context.Context, outage time.Duration) (dsn string, restart, stop, start func(context.Context) error) {
	t.Helper()
	dir := t.TempDir()
	// The server may run as an unprivileged user who must reach dir.
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := pgcluster.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.NoSync = true
	c.Settings = map[string]string{"fsync": "off", "synchronous_commit": "off", "max_connections": "100"}
	srv, err := c.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	url := srv.URL
	stop = func(ctx context.Context) error { return srv.Stop(ctx) }
	start = func(ctx context.Context) error {
		s, err := c.Start(ctx)
		if err != nil {
			return err
		}
		srv = s
		if s.URL != url {
			return fmt.Errorf("server came back at %s, not %s", s.URL, url)
		}
		return nil
	}
	restart = func(ctx context.Context) error {
		if err := stop(ctx); err != nil {
			return err
		}
		time.Sleep(outage)
		return start(ctx)
	}
	return url, restart, stop, start
}

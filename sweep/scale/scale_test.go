package scale_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"sweep/sweep/pgcluster"
	"sweep/sweep/scale"
)

// envInt reads a positive integer variable, def when unset.
func envInt(t *testing.T, name string, def int) int {
	if s := os.Getenv(name); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive integer", name, s)
		}
		return n
	}
	return def
}

// TestScale runs SWEEP_SCALE_WORKERS worker processes (200) on a
// SWEEP_SCALE_TRIALS (2000) trial study through PgBouncer in front of a
// PostgreSQL with max_connections=50, and asserts no duplicate, lost or
// refused; then the same without the pooler, where most workers are
// refused. It runs only under make test-scale (SWEEP_SCALE_BIN set): it
// takes minutes of every core.
func TestScale(t *testing.T) {
	bin := os.Getenv("SWEEP_SCALE_BIN")
	if bin == "" {
		t.Skip("make test-scale runs it (SWEEP_SCALE_BIN names the sweep binary)")
	}
	if _, err := pgcluster.PoolerBinary(); err != nil {
		t.Fatal(err)
	}
	workers := envInt(t, "SWEEP_SCALE_WORKERS", 200)
	trials := envInt(t, "SWEEP_SCALE_TRIALS", 2000)
	dir, err := os.MkdirTemp("", "sweep-scale-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // the server's account enters it
	t.Cleanup(func() {
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	c, err := pgcluster.New(filepath.Join(dir, "pg"))
	if err != nil {
		t.Fatal(err)
	}
	c.NoSync = true
	c.Settings = map[string]string{
		"max_connections":                 "50",
		"shared_buffers":                  "128MB",
		"log_min_duration_statement":      "0",
		"log_line_prefix":                 "",
		"max_parallel_workers_per_gather": "0",
	}
	ctx := context.Background()
	srv, err := c.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	pid := postmasterPID(t, c.Dir)
	pooler, err := pgcluster.StartPooler(ctx, pgcluster.PoolerConfig{Dir: filepath.Join(dir, "pgb"),
		ServerSocketDir: c.SocketDir(), ServerPort: srv.Port, PoolSize: 40, MaxClients: 4 * workers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pooler.Stop(context.Background()) })
	base := scale.Config{Bin: bin, Admin: srv.URL, Dir: dir, Workers: workers, Trials: trials,
		Epochs: 2, EpochSeconds: 0.25, ServerLog: c.LogPath(), ServerPID: pid, Timeout: 15 * time.Minute}

	pooled := base
	pooled.Study, pooled.DSN = "scale-pooled", pooler.URL(pgcluster.Database)
	rep, err := scale.Run(ctx, pooled)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("through PgBouncer (pool 40, max_connections 50): %s", rep)
	report(t, "pgbouncer", rep)
	if rep.TimedOut || rep.Stored != trials || rep.Distinct != trials || rep.Complete != trials || rep.Running != 0 ||
		rep.Refused != 0 || rep.ExitFailures != 0 {
		t.Errorf("through the pooler: want %d trials, all complete and distinct, none running, no refused or failed worker; got %s (first failure: %s)",
			trials, rep, rep.Fail)
	}

	// The pooler's idle server connections would count against the limit.
	if err := pooler.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	direct := base
	direct.Study, direct.DSN = "scale-direct", srv.URL
	rep, err = scale.Run(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("direct (max_connections 50): %s; a refusal: %s", rep, rep.RefusedSample)
	report(t, "direct", rep)
	if rep.Refused == 0 {
		t.Errorf("direct: no worker was refused, so this run shows no limit: %s", rep)
	}
	if rep.Distinct != rep.Stored {
		t.Errorf("direct: duplicate trial numbers: %s", rep)
	}
}

// report appends a line to $SWEEP_SCALE_REPORT, when set.
func report(t *testing.T, name string, r scale.Report) {
	path := os.Getenv("SWEEP_SCALE_REPORT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(time.Now().UTC().Format(time.RFC3339) + " " + name + ": " + r.String() + "\n")
}

// postmasterPID reads the server's pid from postmaster.pid.
func postmasterPID(t *testing.T, dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "pgdata", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

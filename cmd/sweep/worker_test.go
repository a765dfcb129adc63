package main

import (
	"context"
	"testing"

	"sweep/internal/pgtest"
	"sweep/search"
	"sweep/sweep"
	"sweep/sweep/postgres"
)

func TestNewWorkerCmd(t *testing.T) {
	cases := []struct {
		argv    string
		want    workerOptions
		wantErr string
	}{
		{argv: "demo", want: workerOptions{Study: "demo", MaxConns: 2}},
		{argv: "demo --db d --pg-dir x -w 4", want: workerOptions{Study: "demo", DB: "d", PGDir: "x", Workers: 4, MaxConns: 2}},
		{argv: "demo --data-dir x", wantErr: "--data-dir names a dataset directory; the PostgreSQL cluster directory is --pg-dir"},
		{argv: "demo -w two", wantErr: `invalid value "two" for --workers: want an integer`},
		{argv: "", wantErr: "accepts 1 arg(s), received 0"},
		{argv: "demo --workers -2", wantErr: "--workers -2: want between 1 and 256"},
		{argv: "demo --max-conns 5", want: workerOptions{Study: "demo", MaxConns: 5}},
		{argv: "demo --max-conns 1", wantErr: "--max-conns 1: want at least 2 (one for heartbeats, one for the rest)"},
	}
	for _, c := range cases {
		t.Run(c.argv, func(t *testing.T) {
			got, err := parseArgv(t, newWorkerCmd, c.argv)
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

func TestLauncherTag(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"none", nil, ""},
		{"slurm array", map[string]string{"SLURM_JOB_ID": "812", "SLURM_ARRAY_JOB_ID": "810", "SLURM_ARRAY_TASK_ID": "2"}, "+slurm:810_2"},
		{"slurm job", map[string]string{"SLURM_JOB_ID": "812"}, "+slurm:812"},
		{"k8s indexed job", map[string]string{"JOB_COMPLETION_INDEX": "3", "POD_NAME": "sweep-demo-3-x7k", "HOSTNAME": "h"}, "+k8s:sweep-demo-3-x7k#3"},
		{"k8s without pod name", map[string]string{"JOB_COMPLETION_INDEX": "0", "HOSTNAME": "sweep-demo-0-abc"}, "+k8s:sweep-demo-0-abc#0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := launcherTag(func(k string) string { return c.env[k] }); got != c.want {
				t.Errorf("launcherTag = %q, want %q", got, c.want)
			}
		})
	}
}

func TestRunWorker(t *testing.T) {
	// The study exists (created as sweep start would) but has no trials; the
	// worker loads its stored spec and runs them all.
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	store, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	spec, err := search.ParseSpec("s.yaml", []byte(smallStudy))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sweep.EnsureStudy(ctx, store, spec, []byte(smallStudy), false); err != nil {
		t.Fatal(err)
	}
	e, out, errOut, _ := newTestEnv(false)
	if code := run(ctx, e, []string{"worker", "cli-small", "--db", dsn}); code != 0 {
		t.Fatalf("worker: exit %d: %s", code, errOut)
	}
	golden(t, "worker", "plain.err", errOut.String())
	golden(t, "worker", "plain.out", out.String())

	e, _, errOut, _ = newTestEnv(false)
	if code := run(ctx, e, []string{"worker", "nope", "--db", dsn}); code != 1 || errOut.String() != "sweep: no study named \"nope\" (sweep status lists them)\n" {
		t.Errorf("unknown study: exit %d, stderr %q", code, errOut)
	}
}

// runBase picks the journals' directory: $SWEEP_RUN_DIR, then the XDG
// state dir, then ~/.local/state; relative XDG or HOME values are ignored.
func TestRunBase(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SWEEP_RUN_DIR": "/r", "XDG_STATE_HOME": "/x", "HOME": "/h"}, "/r"},
		{map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/sweep/runs"},
		{map[string]string{"XDG_STATE_HOME": "rel", "HOME": "/h"}, "/h/.local/state/sweep/runs"},
		{map[string]string{"HOME": "rel"}, ""},
		{nil, ""},
	} {
		if got := runBase(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("runBase(%v) = %q, want %q", c.env, got, c.want)
		}
	}
}

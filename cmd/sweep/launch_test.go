package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sweep/internal/pgtest"
	"sweep/sweep/postgres"
)

func TestNewLaunchCmd(t *testing.T) {
	cases := []struct {
		argv    string
		want    launchOptions
		wantErr string
	}{
		{argv: "slurm s.yaml --workers 4", want: launchOptions{Engine: "slurm", File: "s.yaml", Workers: 4, MaxConns: 2, DBSecret: "sweep-db"}},
		{argv: "slurm s.yaml --workers 4 --gpus-per-worker 1 --cpus-per-worker 8 --time 4:00:00 --partition gpu --requeue --submit --slots 2 --max-conns 3",
			want: launchOptions{Engine: "slurm", File: "s.yaml", Workers: 4, GPUs: 1, CPUs: 8, Time: "4:00:00", Partition: "gpu", Requeue: true, Submit: true, Slots: 2, MaxConns: 3, DBSecret: "sweep-db"}},
		{argv: "k8s s.yaml --workers 2 --image img:1 --apply", want: launchOptions{Engine: "k8s", File: "s.yaml", Workers: 2, Image: "img:1", DBSecret: "sweep-db", Apply: true, MaxConns: 2}},
		{argv: "k8s s.yaml --workers 2", wantErr: "--image is required: the container image with sweep on PATH"},
		{argv: "slurm s.yaml", wantErr: "--workers 0: want at least 1 worker process"},
		{argv: "slurm s.yaml --workers 2 --gpus-per-worker -1", wantErr: "--gpus-per-worker, --cpus-per-worker and --slots must not be negative"},
		{argv: "slurm s.yaml --workers 2 --max-conns 1", wantErr: "--max-conns 1: want at least 2 (one for heartbeats, one for the rest)"},
		{argv: "k8s s.yaml --workers 2 --image i --submit", wantErr: "unknown flag: --submit"},
	}
	for _, c := range cases {
		t.Run(c.argv, func(t *testing.T) {
			got, err := parseArgv(t, newLaunchCmd, c.argv)
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

func TestRunLaunch(t *testing.T) {
	t.Run("slurm", func(t *testing.T) {
		dir := t.TempDir()
		e, out, errOut, _ := newTestEnv(false)
		dsn := pgtest.DSN(t)
		file := writeFile(t, dir, "small.yaml", smallStudy)
		script := filepath.Join(dir, "job.sbatch")
		argv := []string{"launch", "slurm", file, "--db", dsn, "--workers", "3", "--out", script, "--binary", "/opt/sweep"}
		if code := run(context.Background(), e, argv); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if got := strings.TrimSpace(out.String()); got != script {
			t.Errorf("printed %q, want the script path %s", got, script)
		}
		// The study exists before any task runs.
		store, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		if _, err := store.Study(context.Background(), "cli-small"); err != nil {
			t.Fatalf("study not created: %v", err)
		}
		b, err := os.ReadFile(script)
		if err != nil {
			t.Fatal(err)
		}
		dsnPath := filepath.Join(dir, "job.dsn")
		for _, want := range []string{"#SBATCH --array=0-2", "export SWEEP_DB=@" + dsnPath, "exec /opt/sweep worker cli-small --max-conns 2"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("script lacks %q:\n%s", want, b)
			}
		}
		if strings.Contains(string(b), dsn) {
			t.Error("script holds the DSN")
		}
		fi, err := os.Stat(dsnPath)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("DSN file mode %04o, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("slurm refuses a readable DSN file", func(t *testing.T) {
		dir := t.TempDir()
		e, _, errOut, _ := newTestEnv(false)
		dsnFile := writeFile(t, dir, "db", pgtest.DSN(t)+"\n")
		os.Chmod(dsnFile, 0o644)
		argv := []string{"launch", "slurm", writeFile(t, dir, "s.yaml", smallStudy), "--db", "@" + dsnFile, "--workers", "1", "--out", filepath.Join(dir, "j.sbatch")}
		if code := run(context.Background(), e, argv); code == 0 {
			t.Fatal("launch accepted a DSN file others can read")
		}
		if !strings.Contains(errOut.String(), "has mode 0644; the tasks read it, so only you may: chmod 600") {
			t.Errorf("error: %s", errOut)
		}
	})
	t.Run("k8s", func(t *testing.T) {
		e, out, errOut, _ := newTestEnv(false)
		file := writeFile(t, t.TempDir(), "small.yaml", smallStudy)
		if code := run(context.Background(), e, []string{"launch", "k8s", file, "--workers", "2", "--image", "sweep:dev"}); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"kind: ConfigMap", "kind: Job", "completions: 2", "image: sweep:dev", "study: cli-small", "name: sweep-db"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("manifests lack %q", want)
			}
		}
	})
}

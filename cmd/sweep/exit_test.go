package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"sweep/internal/pgtest"
)

// TestRun_ExitCodes checks the exit status and the one-sentence message of
// usage errors, runtime errors and --version, through run as main calls it.
func TestRun_ExitCodes(t *testing.T) {
	dir := t.TempDir()
	badSpec := writeFile(t, dir, "bad.yaml", "study: s\ndirection: maximise\ntrials: 3\nobjective: {type: synthetic}\n"+
		"params:\n  x: {type: float, low: 0, high: 1}\n")
	const moved = "sweep: --data-dir names a dataset directory; the PostgreSQL cluster directory is --pg-dir\n"
	for _, c := range []struct {
		args []string
		code int
		err  string // how stderr starts
	}{
		{[]string{"stat"}, exitUsage, "sweep: unknown command \"stat\" for \"sweep\"\n\nDid you mean this?\n"},
		{[]string{"start"}, exitUsage, "sweep: accepts 1 arg(s), received 0\n"},
		{[]string{"status", "a", "b"}, exitUsage, "sweep: accepts at most 1 arg(s), received 2\n"},
		{[]string{"start", "s.yaml", "--workers", "two"}, exitUsage, "sweep: invalid value \"two\" for --workers: want an integer\n"},
		{[]string{"report", "s", "--bins", "1.5"}, exitUsage, "sweep: invalid value \"1.5\" for --bins: want an integer\n"},
		{[]string{"start", "s.yaml", "--nope"}, exitUsage, "sweep: unknown flag: --nope\n"},
		{[]string{"status", "--data-dir", "/x"}, exitUsage, moved},
		{[]string{"trials", "s", "--data-dir=/x"}, exitUsage, moved},
		{[]string{"worker", "s", "--data-dir"}, exitUsage, moved},
		{[]string{"db", "psql", "--data-dir", "/x"}, exitUsage, moved},
		{[]string{"status", "--format", "xml"}, exitUsage, "sweep: --format \"xml\": want table or json\n"},
		{[]string{"start", filepath.Join(dir, "none.yaml")}, exitUsage, "sweep: read spec: open " + filepath.Join(dir, "none.yaml") + ": no such file or directory\n"},
		{[]string{"start", badSpec, "--dry-run"}, exitUsage, badSpec + ":2: direction: must be maximize or minimize (got \"maximise\"); " +
			"did you mean \"maximize\"?\nsweep: " + badSpec + ": 1 problem; nothing was stored\n"},
		{[]string{"version", "x"}, exitUsage, "sweep: unknown command \"x\" for \"sweep version\"\n"},
		{[]string{"--version"}, exitOK, ""},
		{[]string{"version"}, exitOK, ""},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			e, out, errOut, _ := newTestEnv(false)
			code := run(context.Background(), e, c.args)
			if code != c.code || !strings.HasPrefix(errOut.String(), c.err) {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, errOut, c.code, c.err)
			}
			if c.code == exitOK && !strings.HasPrefix(out.String(), "sweep ") {
				t.Errorf("stdout %q, want the version", out)
			}
		})
	}
}

// TestRun_Interrupted: an interrupt (main's context cancelled) that stops a
// command exits with 130, not 1.
func TestRun_Interrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e, _, errOut, _ := newTestEnv(false)
	if code := run(ctx, e, []string{"status", "--db", "postgres://u@127.0.0.1:1/x?sslmode=disable"}); code != exitInterrupted {
		t.Errorf("exit %d, want %d: %s", code, exitInterrupted, errOut)
	}
}

// TestRun_Unreachable: a failed connection names the source, shows the
// DSN without its password, and says what to try.
func TestRun_Unreachable(t *testing.T) {
	const dsn = "postgres://u:s3cretpw@127.0.0.1:1/db?sslmode=disable&connect_timeout=5"
	for _, c := range []struct {
		name, from string
		args       []string
		env        string
	}{
		{"Flag", "--db", []string{"status", "--db", dsn}, ""},
		{"Env", "$SWEEP_DB", []string{"trials", "s"}, dsn},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, _, errOut, _ := newTestEnv(false)
			e.Getenv = func(k string) string {
				if k == "SWEEP_DB" {
					return c.env
				}
				return ""
			}
			code := run(context.Background(), e, c.args)
			got := errOut.String()
			want := "sweep: open database from " + c.from + " (postgres://u:xxxxx@127.0.0.1:1/db?sslmode=disable&connect_timeout=5): connect to database: "
			if code != exitRuntime || !strings.Contains(got, want) ||
				!strings.HasSuffix(got, "; is the server running and reachable? sweep doctor checks the connection\n") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, got, want)
			}
			if strings.Contains(got, "s3cretpw") {
				t.Errorf("stderr shows the password:\n%s", got)
			}
		})
	}
}

// TestRun_ReadOnlyNoCluster: the read-only commands never create the
// private cluster; they say what they tried and what to do instead.
func TestRun_ReadOnlyNoCluster(t *testing.T) {
	for _, args := range [][]string{{"status"}, {"trials", "s"}, {"report", "s"}, {"export", "s"}} {
		t.Run(args[0], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "typo")
			e, out, errOut, _ := newTestEnv(false)
			code := run(context.Background(), e, append(args, "--pg-dir", dir))
			want := "sweep: no database: --db and $SWEEP_DB are not set and there is no private cluster at " + dir +
				"; create one by starting a study (sweep start STUDY.yaml) or with sweep db up, or pass --db, or --pg-dir where the cluster lives\n"
			if code != exitRuntime || errOut.String() != want || out.Len() != 0 {
				t.Errorf("exit %d, stderr %q, stdout %q; want 1 and %q", code, errOut, out, want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s was created (%v)", dir, err)
			}
		})
	}
}

// TestRun_NoCompleteTrial: a study whose trials all fail exits with 3, from
// start and from a worker joining it afterwards.
func TestRun_NoCompleteTrial(t *testing.T) {
	dsn := pgtest.DSN(t)
	spec := writeFile(t, t.TempDir(), "fail.yaml", strings.Replace(strings.Replace(smallStudy,
		"epochs: 4}", "epochs: 2, fail_rate: 1}", 1), "study: cli-small", "study: cli-fail", 1))
	const want = "sweep: study cli-fail has no COMPLETE trial; sweep trials cli-fail shows why they failed or were pruned\n"
	for _, args := range [][]string{{"start", spec}, {"worker", "cli-fail"}} {
		e, out, errOut, _ := newTestEnv(false)
		code := run(context.Background(), e, append(args, "--db", dsn))
		if code != exitNoComplete || !strings.HasSuffix(errOut.String(), want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant %d and %q", args[0], code, errOut, exitNoComplete, want)
		}
		if args[0] == "start" && !strings.HasPrefix(out.String(), "6 trial(s) run here: 0 complete, 0 pruned, 6 failed") {
			t.Errorf("start stdout: %q", out)
		}
	}
}

func TestVersionString(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"Release", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "false"}}},
			true, "sweep v1.2.0 (commit 0123456789ab, 2026-01-02T03:04:05Z, go1.26.0)"},
		{"Dirty", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}},
			true, "sweep (devel) (commit 0123456789ab+dirty, go1.26.0)"},
		{"NoVCS", &debug.BuildInfo{GoVersion: "go1.26.0"}, true, "sweep (devel) (no commit recorded, go1.26.0)"},
		{"NoInfo", nil, false, "sweep (unknown version: no build information)"},
	} {
		if got := versionString(c.bi, c.ok); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

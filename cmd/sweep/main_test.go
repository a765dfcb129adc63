package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"sweep/internal/pgtest"
)

// update rewrites golden files: go test ./cmd/sweep -run TestRun -update
var update = flag.Bool("update", false, "rewrite testdata/*/*.golden")

// TestMain stops the private test cluster when the tests end.
func TestMain(m *testing.M) { pgtest.Main(m) }

// newTestEnv returns an env writing to buffers, with a fixed clock, no
// environment variables and an interrupt channel the test controls.
func newTestEnv(tty bool) (e *env, out, errOut *bytes.Buffer, sigs chan os.Signal) {
	out, errOut, sigs = new(bytes.Buffer), new(bytes.Buffer), make(chan os.Signal, 2)
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &env{
		In:      strings.NewReader(""),
		Out:     out,
		Err:     errOut,
		IsTTY:   tty,
		Now:     func() time.Time { return fixed },
		Getenv:  func(string) string { return "" },
		Signals: func() (<-chan os.Signal, func()) { return sigs, func() {} },
	}, out, errOut, sigs
}

// golden compares got with testdata/<command>/<name>.golden, rewriting it
// under -update.
func golden(t *testing.T, command, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", command, name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// writeFile writes a test file in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// parseArgv runs a command's flag parsing on argv and returns the options
// its runF received, without running anything.
func parseArgv[T any](t *testing.T, newCmd func(*env, func(context.Context, *T) error) *cobra.Command, argv string) (*T, error) {
	t.Helper()
	e, _, _, _ := newTestEnv(false)
	var got *T
	cmd := newCmd(e, func(_ context.Context, o *T) error { got = o; return nil })
	cmd.SetFlagErrorFunc(flagError) // as newRootCmd does for every command
	cmd.SetArgs(strings.Fields(argv))
	cmd.SetOut(new(bytes.Buffer))
	cmd.SetErr(new(bytes.Buffer))
	return got, cmd.Execute()
}

// startStudy runs `sweep start` on spec in a fresh test database and
// returns its DSN.
func startStudy(t *testing.T, spec string) string {
	t.Helper()
	dsn := pgtest.DSN(t)
	e, _, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"start", writeFile(t, t.TempDir(), "s.yaml", spec), "--db", dsn}); code != 0 {
		t.Fatalf("start: exit %d: %s", code, errOut)
	}
	return dsn
}

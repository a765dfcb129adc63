package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

// complete runs the shell's completion request `sweep __complete ARGS` and
// returns the offered words, the directive line and standard error.
func complete(t *testing.T, args ...string) (words []string, directive, stderr string) {
	t.Helper()
	e, out, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, append([]string{"__complete"}, args...)); code != 0 {
		t.Fatalf("__complete %q: exit %d: %s", args, code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1], errOut.String()
}

func TestCompletion_Scripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		e, out, errOut, _ := newTestEnv(false)
		if code := run(context.Background(), e, []string{"completion", shell}); code != 0 || !strings.Contains(out.String(), "__complete") {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", shell, code, out.Len(), errOut)
		}
	}
}

func TestCompletion_Studies(t *testing.T) {
	dsn := startStudy(t, smallStudy)
	second := strings.Replace(smallStudy, "study: cli-small", "study: cli-other", 1)
	e, _, _, _ := newTestEnv(false)
	runCLI(t, e, dsn, 0, "start", writeFile(t, t.TempDir(), "o.yaml", second))

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"worker", "--db", dsn, ""}, "cli-other cli-small"},
		{[]string{"status", "--db", dsn, "cli-s"}, "cli-small"},
		{[]string{"status", "--db", dsn, "cli-small", ""}, ""}, // one study only
		{[]string{"report", "--db", dsn, "cli-small", ""}, "cli-other"},
		{[]string{"study", "rm", "--db", dsn, "cli-other", ""}, "cli-small"},
		{[]string{"study", "rename", "--db", dsn, "cli-small", ""}, ""}, // the new name is the user's
		{[]string{"enqueue", "cli-small", "--db", dsn, "--param", ""}, "lr= opt="},
		{[]string{"enqueue", "cli-small", "--db", dsn, "--param", "opt="}, "opt=sgd opt=adam"},
		{[]string{"trials", "cli-small", "--state", ""}, "WAITING RUNNING COMPLETE PRUNED FAIL"},
		{[]string{"trials", "cli-small", "--format", ""}, "table csv json jsonl"},
		{[]string{"status", "--format", ""}, "table json"},
		{[]string{"init", "--objective", ""}, "synthetic cifar10 command"},
	} {
		words, directive, _ := complete(t, c.args...)
		if got := strings.Join(words, " "); got != c.want {
			t.Errorf("%q: offered %q, want %q (%s)", c.args, got, c.want, directive)
		}
	}
}

// TestCompletion_NoDatabase: without a database to read, study names
// complete to nothing, quietly, and no cluster is created.
func TestCompletion_NoDatabase(t *testing.T) {
	dir := t.TempDir()
	words, directive, stderr := complete(t, "worker", "--pg-dir", dir, "")
	if len(words) != 0 || directive != ":4" {
		t.Errorf("offered %q (%s)", words, directive)
	}
	if stderr != "Completion ended with directive: ShellCompDirectiveNoFileComp\n" {
		t.Errorf("stderr %q: want only cobra's own line", stderr)
	}
	words, _, stderr = complete(t, "worker", "--db", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", "")
	if len(words) != 0 || strings.Contains(stderr, "nobody") {
		t.Errorf("unreachable database: offered %q, stderr %q", words, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("completion created %v in the cluster directory", entries)
	}
}

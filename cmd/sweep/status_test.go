package main

import (
	"context"
	"regexp"
	"testing"
)

func TestNewStatusCmd(t *testing.T) {
	got, err := parseArgv(t, newStatusCmd, "demo --db d --pg-dir x")
	if err != nil || got.Study != "demo" || got.DB != "d" || got.PGDir != "x" {
		t.Errorf("parsed %+v, %v", got, err)
	}
	if got, err := parseArgv(t, newStatusCmd, ""); err != nil || got.Study != "" {
		t.Errorf("no study: %+v, %v", got, err)
	}
	if _, err := parseArgv(t, newStatusCmd, "a b"); err == nil || err.Error() != "accepts at most 1 arg(s), received 2" {
		t.Errorf("two studies: %v", err)
	}
}

// stamps matches times and durations that vary between runs.
var stamps = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|-?\d+(\.\d+)?(h|m|s|ms|µs)[\dhmsµ.]* ago`)

func TestRunStatus(t *testing.T) {
	dsn := startStudy(t, smallStudy)
	for _, c := range []struct {
		name string
		tty  bool
		args []string
	}{
		{"list-plain", false, []string{"status"}},
		{"list-tty", true, []string{"status"}},
		{"study", false, []string{"status", "cli-small"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, out, errOut, _ := newTestEnv(c.tty)
			if code := run(context.Background(), e, append(c.args, "--db", dsn)); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, "status", c.name, stamps.ReplaceAllString(out.String(), "TIME"))
		})
	}
	e, _, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"status", "nope", "--db", dsn}); code != 1 || errOut.String() != "sweep: no study named \"nope\" (sweep status lists them)\n" {
		t.Errorf("unknown study: exit %d, stderr %q", code, errOut)
	}
}

package main

import (
	"context"
	"regexp"
	"testing"
)

func TestNewTrialsCmd(t *testing.T) {
	got, err := parseArgv(t, newTrialsCmd, "demo --state pruned")
	if err != nil || got.Study != "demo" || got.State != "PRUNED" {
		t.Errorf("parsed %+v, %v", got, err)
	}
	if _, err := parseArgv(t, newTrialsCmd, "demo --state done"); err == nil || err.Error() != `--state "DONE": want one of WAITING, RUNNING, COMPLETE, PRUNED, FAIL` {
		t.Errorf("bad state: %v", err)
	}
	if _, err := parseArgv(t, newTrialsCmd, ""); err == nil || err.Error() != "accepts 1 arg(s), received 0" {
		t.Errorf("no study: %v", err)
	}
}

// durations matches the TIME column, which varies between runs.
var durations = regexp.MustCompile(`\d+\.\ds\b`)

func TestRunTrials(t *testing.T) {
	dsn := startStudy(t, smallStudy)
	for _, c := range []struct {
		name string
		tty  bool
		args []string
	}{
		{"plain", false, []string{"trials", "cli-small"}},
		{"tty", true, []string{"trials", "cli-small"}},
		{"pruned", false, []string{"trials", "cli-small", "--state", "PRUNED"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, out, errOut, _ := newTestEnv(c.tty)
			if code := run(context.Background(), e, append(c.args, "--db", dsn)); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, "trials", c.name, durations.ReplaceAllString(out.String(), "X.Xs"))
		})
	}
}

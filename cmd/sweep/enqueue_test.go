package main

import (
	"database/sql"
	"maps"
	"strings"
	"testing"
)

func TestNewEnqueueCmd(t *testing.T) {
	got, err := parseArgv(t, newEnqueueCmd, "demo --param lr=0.1 -p opt=sgd --param note=a=b --db d --pg-dir x")
	if err != nil || got.Study != "demo" || !maps.Equal(got.Params, map[string]string{"lr": "0.1", "opt": "sgd", "note": "a=b"}) || got.DB != "d" || got.PGDir != "x" {
		t.Errorf("parsed %+v, %v", got, err)
	}
	for argv, want := range map[string]string{
		"demo":                           "give at least one --param NAME=VALUE",
		"demo --param lr":                `--param "lr": want NAME=VALUE`,
		"demo --param =1":                `--param "=1": want NAME=VALUE`,
		"demo --param lr=1 --param lr=2": "--param lr given twice",
		"--param lr=1":                   "accepts 1 arg(s), received 0",
		"a b --param lr=1":               "accepts 1 arg(s), received 2",
	} {
		if _, err := parseArgv(t, newEnqueueCmd, argv); err == nil || err.Error() != want {
			t.Errorf("%q: error %v; want %q", argv, err, want)
		}
	}
}

func TestRunEnqueue(t *testing.T) {
	// The small study has run all 6 trials; raise its budget by 2 so that
	// two can be queued.
	dsn := startStudy(t, smallStudy)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE studies SET spec = $1, trial_budget = 8 WHERE name = 'cli-small'`, strings.Replace(smallStudy, "trials: 6", "trials: 8", 1)); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct{ args, want string }{
		{"--param lr=2", `sweep: study "cli-small": param lr: 2 is outside [0.0001, 1]` + "\n"},
		{"--param opt=adamw", `sweep: study "cli-small": param opt: "adamw" is not one of its choices (sgd, adam)` + "\n"},
		{"--param momentum=0.9", "sweep: study \"cli-small\": param momentum: not in the search space (params: lr, opt)\n"},
	} {
		e, _, _, _ := newTestEnv(false)
		if _, errOut := runCLI(t, e, dsn, 1, append([]string{"enqueue", "cli-small"}, strings.Fields(c.args)...)...); errOut != c.want {
			t.Errorf("%s: stderr %q; want %q", c.args, errOut, c.want)
		}
	}
	e, _, _, _ := newTestEnv(false)
	out, errOut := runCLI(t, e, dsn, 0, "enqueue", "cli-small", "--param", "lr=0.03", "--param", "opt=adam")
	if out != "trial 6 queued (WAITING): lr=0.03 opt=adam\n" || errOut != "" {
		t.Errorf("full: stdout %q stderr %q", out, errOut)
	}
	e, _, _, _ = newTestEnv(false)
	out, errOut = runCLI(t, e, dsn, 0, "enqueue", "cli-small", "--param", "opt=sgd")
	if out != "trial 7 queued (WAITING): opt=sgd\n" || errOut != "the sampler draws lr when it runs\n" {
		t.Errorf("partial: stdout %q stderr %q", out, errOut)
	}
	e, _, _, _ = newTestEnv(false)
	if _, errOut := runCLI(t, e, dsn, 1, "enqueue", "cli-small", "--param", "opt=sgd"); !strings.Contains(errOut, `study "cli-small" has all its 8 trials; raise trials`) {
		t.Errorf("past the budget: %q", errOut)
	}

	// A worker runs them, the queued values as given.
	e, _, _, _ = newTestEnv(false)
	runCLI(t, e, dsn, 0, "worker", "cli-small")
	rows, err := db.Query(`SELECT number, state, params FROM trial_summary WHERE study = 'cli-small' AND number >= 6 ORDER BY number`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var n int
		var state, params string
		if err := rows.Scan(&n, &state, &params); err != nil {
			t.Fatal(err)
		}
		got = append(got, state+" "+params)
	}
	if len(got) != 2 || !strings.HasSuffix(got[0], `{"lr": 0.03, "opt": "adam"}`) || strings.HasPrefix(got[0], "WAITING") ||
		!strings.Contains(got[1], `"opt": "sgd"`) || !strings.Contains(got[1], `"lr": `) || strings.HasPrefix(got[1], "WAITING") {
		t.Errorf("queued trials after the worker: %q", got)
	}
}

package main

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sweep/optuna"
)

// optunaStudy has everything the Optuna exports must carry: log floats,
// log and stepped ints, a stepped float, categorical ints, floats and
// booleans, a conditional branch, pruned trials (median pruner) and failed
// ones (fail_rate), intermediate values and a user attr.
const optunaStudy = `study: optuna-views
direction: maximize
metric: val_acc
trials: 24
workers: 2
sampler: {type: tpe, seed: 3, startup_trials: 6}
pruner: {type: median, startup_trials: 3, warmup_steps: 1}
objective: {type: synthetic, epochs: 5, fail_rate: 0.2, seed: 4}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  width: {type: int, low: 8, high: 256, log: true}
  dropout: {type: float, low: 0.0, high: 0.5, step: 0.1}
  batch_size: {type: categorical, choices: [64, 128, 256]}
  use_bn: {type: categorical, choices: [true, false]}
  optimizer:
    type: categorical
    choices: [sgd, adam]
    conditional:
      sgd:
        momentum: {type: float, low: 0.8, high: 0.99}
      adam:
        beta2: {type: categorical, choices: [0.99, 0.999]}
        warmup: {type: int, low: 0, high: 10, step: 2}
`

// optunaTypes is the Python type Optuna must give each param of optunaStudy.
const optunaTypes = `{"lr": "float", "width": "int", "dropout": "float", "batch_size": "int", "use_bn": "bool",
"optimizer": "str", "momentum": "float", "beta2": "float", "warmup": "int"}`

// optunaPython returns a Python 3 that has optuna and psycopg2 ($SWEEP_PYTHON,
// else python3 on PATH, else /usr/bin/python3), or skips the test.
func optunaPython(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("SWEEP_PYTHON"), "python3", "/usr/bin/python3"}
	for _, py := range candidates {
		if py == "" {
			continue
		}
		if err := exec.Command(py, "-c", "import optuna, psycopg2").Run(); err == nil {
			return py
		}
	}
	t.Skip("skipped: no python3 with optuna and psycopg2 (apt-get install python3-optuna python3-psycopg2, or set SWEEP_PYTHON)")
	return ""
}

// TestExports_Python runs a real study, then checks what other tools read
// with Python. flat: sweep trials --format csv|json|jsonl, loaded with the
// csv and json modules (types, counts, conditional params). optuna: the
// study loaded through Optuna from the read-only views and from sweep
// export --format optuna-journal, every trial compared with sweep's tables
// by check.py (numbers, states, values, params and their types,
// distributions, intermediate values, datetimes, user attrs, fail reasons,
// best trial, trials_dataframe), and Optuna's writes failing and changing
// nothing.
func TestExports_Python(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("skipped: no python3 on PATH")
	}
	dsn := startStudy(t, optunaStudy)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pruned, failed, steps int
	if err := db.QueryRow(`SELECT count(*) FILTER (WHERE state = 'PRUNED'), count(*) FILTER (WHERE state = 'FAIL'),
	    (SELECT count(*) FROM trial_values) FROM trials`).Scan(&pruned, &failed, &steps); err != nil {
		t.Fatal(err)
	}
	if pruned == 0 || failed == 0 || steps == 0 {
		t.Fatalf("the study must have pruned and failed trials and intermediate values: %d pruned, %d failed, %d steps", pruned, failed, steps)
	}
	dir := t.TempDir()
	sweepTo := func(t *testing.T, file string, args ...string) string {
		t.Helper()
		e, out, errOut, _ := newTestEnv(false)
		if code := run(context.Background(), e, append(args, "--db", dsn)); code != 0 {
			t.Fatalf("sweep %v: exit %d: %s", args, code, errOut)
		}
		path := filepath.Join(dir, file)
		if file != "" && out.Len() > 0 {
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return path
	}
	t.Run("flat", func(t *testing.T) {
		var files []string
		for _, f := range []string{"csv", "json", "jsonl"} {
			files = append(files, sweepTo(t, "trials."+f, "trials", "optuna-views", "--format", f))
		}
		out, err := exec.Command(py, append(append([]string{"testdata/optuna/flat_check.py"}, files...), optunaTypes, "24")...).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "ok 24 rows") {
			t.Fatalf("flat_check.py: %v\n%s", err, out)
		}
	})
	t.Run("optuna", func(t *testing.T) {
		py := optunaPython(t)
		journal := filepath.Join(dir, "study.log")
		sweepTo(t, "", "export", "optuna-views", "--format", "optuna-journal", "--out", journal)
		url, err := optuna.URL(dsn)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, "testdata/optuna/check.py", dsn, url, "optuna-views", optunaTypes, journal).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "ok 24 trials") {
			t.Fatalf("check.py: %v\n%s", err, out)
		}
		t.Logf("check.py: %s", out)
	})
}

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sweep/internal/pgtest"
	"sweep/optuna"
	"sweep/sweep/postgres"
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
	if testing.Short() {
		t.Skip("skipped in -short: starts Python with Optuna")
	}
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
	t.Parallel() // own databases
	if testing.Short() {
		t.Skip("skipped in -short: runs a study and Python")
	}
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
	t.Run("reimport", func(t *testing.T) {
		// sweep's own journal read back by sweep import: the copy's trials
		// equal the original's in every trial_summary column that carries data.
		journal := filepath.Join(dir, "again.log")
		sweepTo(t, "", "export", "optuna-views", "--format", "optuna-journal", "--out", journal)
		spec := writeFile(t, dir, "copy.yaml", strings.Replace(optunaStudy, "study: optuna-views", "study: optuna-copy", 1))
		sweepTo(t, "", "import", "--from-optuna", journal, "--study", "optuna-views", "--spec", spec)
		// Optuna keeps no value for a FAIL trial, so the copy has NULL where
		// sweep stored NaN.
		var diff int
		if err := db.QueryRow(`WITH x AS (SELECT study, number, state, CASE WHEN state = 'FAIL' THEN NULL ELSE value END AS value,
	params, steps, started, finished, attrs, reason FROM trial_summary),
a AS (SELECT number, state, value, params, steps, started, finished, attrs, reason FROM x WHERE study = 'optuna-views'),
b AS (SELECT number, state, value, params, steps, started, finished, attrs, reason FROM x WHERE study = 'optuna-copy')
SELECT count(*) FROM ((SELECT * FROM a EXCEPT SELECT * FROM b) UNION ALL (SELECT * FROM b EXCEPT SELECT * FROM a)) d`).
			Scan(&diff); err != nil || diff != 0 {
			t.Errorf("%d trial rows differ between the study and its journal copy (%v)", diff, err)
		}
		var copies int
		if err := db.QueryRow(`SELECT count(*) FROM trial_summary WHERE study = 'optuna-copy'`).Scan(&copies); err != nil || copies != 24 {
			t.Errorf("copy has %d trials (%v), want 24", copies, err)
		}
	})
}

func TestNewExportCmd(t *testing.T) {
	got, err := parseArgv(t, newExportCmd, "demo --format optuna-journal -o d.log --db x")
	if err != nil || got.Study != "demo" || got.Format != "optuna-journal" || got.Out != "d.log" || got.DB != "x" {
		t.Errorf("parsed %+v, %v", got, err)
	}
	if got, err := parseArgv(t, newExportCmd, "demo"); err != nil || got.Format != "optuna-journal" || got.Out != "" {
		t.Errorf("defaults: %+v, %v", got, err)
	}
	if _, err := parseArgv(t, newExportCmd, "demo --format parquet"); err == nil ||
		err.Error() != `--format "parquet": want optuna-journal (tables: sweep trials --format csv|json|jsonl)` {
		t.Errorf("parquet: %v", err)
	}
	if _, err := parseArgv(t, newExportCmd, ""); err == nil || err.Error() != "accepts 1 arg(s), received 0" {
		t.Errorf("no study: %v", err)
	}
}

func TestNewTrialsCmd_Format(t *testing.T) {
	for _, f := range trialFormats {
		if got, err := parseArgv(t, newTrialsCmd, "demo --format "+f); err != nil || got.Format != f {
			t.Errorf("--format %s: %+v, %v", f, got, err)
		}
	}
	if _, err := parseArgv(t, newTrialsCmd, "demo --format xml"); err == nil || err.Error() != `--format "xml": want one of table, csv, json, jsonl` {
		t.Errorf("xml: %v", err)
	}
	if got, err := parseArgv(t, newStatusCmd, "--format json"); err != nil || got.Format != "json" {
		t.Errorf("status --format json: %+v, %v", got, err)
	}
	if _, err := parseArgv(t, newStatusCmd, "--format csv"); err == nil || err.Error() != `--format "csv": want table or json` {
		t.Errorf("status --format csv: %v", err)
	}
}

// TestRunStatus_JSON checks sweep status --format json against the study's
// trials: counts, best value and trial, and one object for one study.
func TestRunStatus_JSON(t *testing.T) {
	t.Parallel() // own databases
	dsn := startStudy(t, smallStudy)
	e, out, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"status", "--format", "json", "--db", dsn}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var list []overviewJSON
	if err := json.Unmarshal(out.Bytes(), &list); err != nil || len(list) != 1 {
		t.Fatalf("decode %s: %v", out, err)
	}
	s := list[0]
	if s.Study != "cli-small" || s.Trials != 6 || s.Complete+s.Pruned+s.Failed != 6 || s.BestValue == nil || s.BestTrial == nil {
		t.Fatalf("status: %+v", s)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var best float64
	if err := db.QueryRow(`SELECT value FROM trials WHERE number = $1`, *s.BestTrial).Scan(&best); err != nil || best != *s.BestValue {
		t.Errorf("best trial %d has value %v (%v), status says %v", *s.BestTrial, best, err, *s.BestValue)
	}
	e, out, errOut, _ = newTestEnv(false)
	if code := run(context.Background(), e, []string{"status", "cli-small", "--format", "json", "--db", dsn}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var one overviewJSON
	if err := json.Unmarshal(out.Bytes(), &one); err != nil || one.Study != "cli-small" || one.Trials != 6 {
		t.Errorf("one study: %+v, %v\n%s", one, err, out)
	}
	e, _, errOut, _ = newTestEnv(false)
	if code := run(context.Background(), e, []string{"export", "nope", "--db", dsn}); code != 1 ||
		errOut.String() != "sweep: no study named \"nope\" (sweep status lists them)\n" {
		t.Errorf("export of an unknown study: exit %d, %q", code, errOut)
	}
}

// importSpec is the space make_study.py samples, as a sweep spec.
const importSpec = `study: from-journal
direction: maximize
trials: 20
objective: {type: synthetic, epochs: 4}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  width: {type: int, low: 8, high: 256, log: true}
  dropout: {type: float, low: 0.0, high: 0.5, step: 0.1}
  batch_size: {type: categorical, choices: [64, 128, 256]}
  optimizer:
    type: categorical
    choices: [sgd, adam]
    conditional:
      sgd: {momentum: {type: float, low: 0.8, high: 0.99}}
      adam: {beta2: {type: categorical, choices: [0.99, 0.999]}}
`

// TestImport_Optuna has Optuna run a study into an RDB storage and a
// journal file (make_study.py), imports the first without a spec and the
// second with one, continues the imported study with sweep start, and has
// Python compare each original with its copy read back through the optuna
// views (import_check.py): every trial's number, state, value, params and
// their types, distributions, intermediate values (a NaN included), user
// attrs, datetimes and fail reason, and the best trial.
func TestImport_Optuna(t *testing.T) {
	t.Parallel() // own databases
	py := optunaPython(t)
	source, dsn := pgtest.DSN(t), pgtest.DSN(t)
	sourceURL, err := optuna.URL(source)
	if err != nil {
		t.Fatal(err)
	}
	sourceURL = strings.Replace(sourceURL, "&options=-csearch_path%3Doptuna", "", 1)
	dir := t.TempDir()
	journal := filepath.Join(dir, "optuna.log")
	if out, err := exec.Command(py, "testdata/optuna/make_study.py", sourceURL, journal).CombinedOutput(); err != nil {
		t.Fatalf("make_study.py: %v\n%s", err, out)
	}
	sweepCmd := func(args ...string) (int, string, string) {
		e, out, errOut, _ := newTestEnv(false)
		code := run(context.Background(), e, append(args, "--db", dsn))
		return code, out.String(), errOut.String()
	}
	code, spec, errOut := sweepCmd("import", "--from-optuna", sourceURL, "--study", "from-optuna")
	if code != 0 || !strings.Contains(errOut, "imported 15 trials of Optuna study from-optuna as from-optuna") {
		t.Fatalf("import from RDB: exit %d: %s", code, errOut)
	}
	if !strings.Contains(spec, `"batch_size": {type: categorical, choices: [64, 128, 256]}`) ||
		!strings.Contains(spec, `"width": {type: int, low: 8, high: 256, log: true}`) {
		t.Errorf("spec written from the distributions:\n%s", spec)
	}
	bad := strings.Replace(importSpec, "choices: [64, 128, 256]", "choices: [64, 128]", 1)
	code, _, errOut = sweepCmd("import", "--from-optuna", journal, "--study", "from-optuna", "--spec", writeFile(t, dir, "bad.yaml", bad))
	if code != 1 || !strings.Contains(errOut, "param batch_size: Optuna has") {
		t.Errorf("import with a spec of other choices: exit %d: %s", code, errOut)
	}
	specFile := writeFile(t, dir, "spec.yaml", importSpec)
	if code, _, errOut := sweepCmd("import", "--from-optuna", journal, "--study", "from-optuna", "--spec", specFile); code != 0 {
		t.Fatalf("import from the journal: exit %d: %s", code, errOut)
	}
	url, err := optuna.URL(dsn)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "testdata/optuna/import_check.py", url, sourceURL, "from-optuna", journal, "from-journal").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok") {
		t.Fatalf("import_check.py: %v\n%s", err, out)
	}
	// The imported study continues: 5 more trials (budget 20) from the spec.
	if code, _, errOut := sweepCmd("start", specFile); code != 0 {
		t.Fatalf("continue the imported study: exit %d: %s", code, errOut)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, maxNumber int
	if err := db.QueryRow(`SELECT count(*), max(number) FROM trials t JOIN studies s ON s.id = t.study_id
WHERE s.name = 'from-journal'`).Scan(&n, &maxNumber); err != nil || n != 20 || maxNumber != 19 {
		t.Errorf("after sweep start: %d trials up to number %d (%v), want 20 up to 19", n, maxNumber, err)
	}
}

func TestNewImportCmd(t *testing.T) {
	got, err := parseArgv(t, newImportCmd, "--from-optuna x.log --study s --spec s.yaml --db d")
	if err != nil || got.From != "x.log" || got.Study != "s" || got.Spec != "s.yaml" || got.DB != "d" {
		t.Errorf("parsed %+v, %v", got, err)
	}
	for _, argv := range []string{"--study s", "--from-optuna x.log", ""} {
		if _, err := parseArgv(t, newImportCmd, argv); err == nil || err.Error() != "--from-optuna and --study are required" {
			t.Errorf("%q: %v", argv, err)
		}
	}
	if _, err := parseArgv(t, newImportCmd, "extra --study s --from-optuna x"); err == nil || err.Error() != `unknown command "extra" for "import"` {
		t.Errorf("argument: %v", err)
	}
}

// TestOptunaSchema_RestrictedRole migrates a database as a role that may
// create tables but not schemas (a restricted role on an external server):
// sweep still opens it, the optuna schema is reported missing with the fix,
// and create_optuna_schema() run by the owner then makes it.
func TestOptunaSchema_RestrictedRole(t *testing.T) {
	t.Parallel() // own databases
	dsn := pgtest.DSN(t)
	owner, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var suffix int
	if err := owner.QueryRow(`SELECT (random() * 1e9)::int`).Scan(&suffix); err != nil {
		t.Fatal(err)
	}
	role := "sweep_restricted_" + strconv.Itoa(suffix)
	for _, q := range []string{`CREATE ROLE ` + role, `GRANT CREATE, USAGE ON SCHEMA public TO ` + role} {
		if _, err := owner.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		owner.Exec(`DROP OWNED BY ` + role)
		owner.Exec(`DROP ROLE ` + role)
	})
	ctx := context.Background()
	restricted, err := postgres.Open(ctx, dsn+"&options=-crole%3D"+role)
	if err != nil {
		t.Fatalf("open as %s: %v", role, err)
	}
	defer restricted.Close()
	if err := optuna.CheckSchema(ctx, restricted.DB().DB); !errors.Is(err, optuna.ErrNoSchema) {
		t.Fatalf("CheckSchema after a migration without CREATE on the database: %v, want ErrNoSchema", err)
	}
	if _, err := owner.Exec(`DROP SCHEMA IF EXISTS optuna CASCADE`); err != nil { // none: the migration could not make it
		t.Fatal(err)
	}
	e, _, errOut, _ := newTestEnv(false)
	if code := run(ctx, e, []string{"export", "x", "--db", dsn}); code != 1 || !strings.Contains(errOut.String(), "SELECT create_optuna_schema('sweep')") {
		t.Errorf("export without the schema: exit %d, %q", code, errOut)
	}
	if _, err := owner.Exec(`SELECT create_optuna_schema($1)`, role); err != nil {
		t.Fatal(err)
	}
	if err := optuna.CheckSchema(ctx, restricted.DB().DB); err != nil {
		t.Errorf("CheckSchema after create_optuna_schema(): %v", err)
	}
	var rev string
	if err := restricted.DB().QueryRow(`SELECT version_num FROM optuna.alembic_version`).Scan(&rev); err != nil || rev != "v3.0.0.d" {
		t.Errorf("the restricted role reads alembic_version: %q, %v", rev, err)
	}
}

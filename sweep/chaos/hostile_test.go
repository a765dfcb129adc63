package chaos_test

import (
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sweep/internal/pgtest"
)

// Names with quotes of both kinds, SQL comment and statement syntax,
// placeholders, printf verbs, a backslash and non-ASCII text.
const (
	hostileStudy = `it's "q"; DROP TABLE trials; -- ünï 🚀 \ %s $1`
	hostileParam = `lr'); DELETE FROM studies; --`
	hostileQuote = `say "hi" \n`
	hostileUni   = `β₂ größe 学习率`
)

// hostileChoices are categorical values that must come back unchanged.
var hostileChoices = []string{`a'b`, `c"d`, `--`, `ü🚀`, `%d`, `x\y`}

const hostileSpec = `study: 'it''s "q"; DROP TABLE trials; -- ünï 🚀 \ %s $1'
direction: maximize
trials: 12
workers: 2
sampler: {type: random, seed: 2}
objective: {type: synthetic, epochs: 2}
params:
  "lr'); DELETE FROM studies; --": {type: float, low: 1.0e-4, high: 1.0, log: true}
  'say "hi" \n': {type: int, low: 1, high: 8}
  β₂ größe 学习率:
    type: categorical
    choices: ['a''b', 'c"d', '--', 'ü🚀', '%d', 'x\y']
`

// TestHostileNames runs a study whose study name, param names and
// categorical values are full of quotes, SQL and unicode through start →
// database → trials/report/status/worker, and checks every one comes back
// byte for byte.
func TestHostileNames(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	dsn := pgtest.DSN(t)
	spec := filepath.Join(dir, "hostile.yaml")
	if err := os.WriteFile(spec, []byte(hostileSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--db", dsn)...)
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("sweep %s: %v\n%s%s", args[0], err, out, stderr)
		}
		return string(out)
	}
	run("start", spec)

	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name, stored string
	if err := db.QueryRow(`SELECT name, spec FROM studies`).Scan(&name, &stored); err != nil {
		t.Fatal(err)
	}
	if name != hostileStudy {
		t.Errorf("stored study name %q, want %q", name, hostileStudy)
	}
	if stored != hostileSpec {
		t.Errorf("stored spec differs from the file:\n%s", stored)
	}
	var params []string
	rows, err := db.Query(`SELECT DISTINCT name FROM trial_params ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		rows.Scan(&p)
		params = append(params, p)
	}
	rows.Close()
	want := []string{hostileParam, hostileQuote, hostileUni}
	slices.Sort(want)
	if !slices.Equal(params, want) {
		t.Errorf("stored param names %q, want %q", params, want)
	}
	var choices []string
	rows, err = db.Query(`SELECT DISTINCT external #>> '{}' FROM trial_params WHERE name = $1`, hostileUni)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		if !slices.Contains(hostileChoices, c) {
			t.Errorf("stored choice %q is none of %q", c, hostileChoices)
		}
		choices = append(choices, c)
	}
	rows.Close()
	if len(choices) < 2 {
		t.Errorf("only %d distinct choices in 12 trials", len(choices))
	}

	trials := run("trials", hostileStudy)
	for _, s := range append([]string{hostileParam, hostileQuote, hostileUni}, choices...) {
		if !strings.Contains(trials, s) {
			t.Errorf("sweep trials output lacks %q:\n%s", s, trials)
		}
	}
	if n := strings.Count(trials, "COMPLETE"); n != 12 {
		t.Errorf("sweep trials lists %d COMPLETE trials, want 12:\n%s", n, trials)
	}
	if status := run("status"); !strings.Contains(status, hostileStudy) {
		t.Errorf("sweep status lacks the study name:\n%s", status)
	}
	report := run("report", hostileStudy, "--format", "json")
	var decoded any
	if err := json.Unmarshal([]byte(report), &decoded); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, report)
	}
	found := map[string]bool{}
	walkStrings(decoded, func(s string) { found[s] = true })
	for _, s := range []string{hostileStudy, hostileParam, hostileQuote, hostileUni} {
		if !found[s] {
			t.Errorf("JSON report has no string %q", s)
		}
	}
	// Starting again with the same file resumes the study found by name.
	run("start", spec)
	run("worker", hostileStudy)
	var studies int
	db.QueryRow(`SELECT count(*) FROM studies`).Scan(&studies)
	if studies != 1 {
		t.Errorf("%d studies after resuming, want 1", studies)
	}
}

// walkStrings calls fn on every string and map key in a decoded JSON value.
func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, x := range v {
			walkStrings(x, fn)
		}
	case map[string]any:
		for k, x := range v {
			fn(k)
			walkStrings(x, fn)
		}
	}
}

// TestHostileSpecs feeds `sweep start` specs that are absurd or hostile:
// each is refused with exit status 2 (usage) and a message naming the problem, and
// the database is left without a study.
func TestHostileSpecs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	dsn := pgtest.DSN(t)
	const head = "study: h\ndirection: maximize\n"
	const body = "objective: {type: synthetic}\nparams:\n  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}\n"
	var bomb strings.Builder
	bomb.WriteString(head + "trials: 5\n" + body + "a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		prev, cur := string(rune('a'+i-1)), string(rune('a'+i))
		bomb.WriteString(cur + ": &" + cur + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n")
	}
	cases := []struct {
		name, spec, want string
	}{
		{"TrialsHuge", head + "trials: 1e12\n" + body, "trials: must be between 1 and 1000000 (got 1e12)"},
		{"TrialsNegative", head + "trials: -5\n" + body, "trials: must be between 1 and 1000000 (got -5)"},
		{"YAMLBomb", bomb.String(), "spec too complex"},
		{"MultiMegabyte", head + "trials: 5\n" + body + "# " + strings.Repeat("x", 3<<20) + "\n", "spec file too large"},
		{"NotUTF8", head + "trials: 5\n" + body + "# \xff\xfe\n", "not valid UTF-8"},
		{"NegativeLR", head + "trials: 5\nobjective: {type: cifar10, epochs: 1}\nparams:\n  lr: {type: float, low: -0.1, high: 0.1}\n",
			"params.lr: -0.1 is refused by the trainer"},
		{"BatchZero", head + "trials: 5\nobjective: {type: cifar10, epochs: 1}\nparams:\n  batch_size: {type: categorical, choices: [0, 64]}\n",
			"params.batch_size: 0 is refused by the trainer"},
		{"NegativeFixedLR", head + "trials: 5\nobjective: {type: cifar10, epochs: 1, lr: -0.5}\nparams:\n  momentum: {type: float, low: 0.8, high: 0.9}\n",
			"objective.lr: -0.5 must be positive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := filepath.Join(dir, c.name+".yaml")
			if err := os.WriteFile(spec, []byte(c.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "start", spec, "--db", dsn)
			out, err := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); err == nil || code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(string(out), c.want) || !strings.Contains(string(out), spec) {
				t.Errorf("output lacks %q and the file name:\n%.2000s", c.want, out)
			}
		})
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Every spec was refused before sweep connected: not even the schema
	// exists in the fresh database.
	var n int
	err = db.QueryRow(`SELECT count(*) FROM studies`).Scan(&n)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("studies table: %d rows, %v; want no schema at all", n, err)
	}
}

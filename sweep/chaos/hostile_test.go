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

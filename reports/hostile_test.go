package reports_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"go.yaml.in/yaml/v3"

	"sweep/reports"
	"sweep/reports/reportstest"
)

// Hostile text as another tool (or a compromised worker) could store it:
// terminal escapes (retitle the window, clear the screen, a hyperlink),
// HTML, Markdown table breakers, spreadsheet formulas and a line break
// that would end a YAML comment.
const (
	hostileStudy  = "evil\x1b]0;pwned\x07<script>alert(1)</script>|x\nrm: 1"
	hostileParam  = "=HYPERLINK(\"http://x/\",\"click\")\x1b[2J"
	hostileChoice = "@SUM(1+1)<img src=x onerror=alert(1)>\x1b]8;;http://x\x1b\\"
	hostileWorker = "+cmd|' /C calc'!A0\x1b[31m"
	hostileReason = "-2+3 \u202egnp.exe\x1b[1A\x1b[2K"
)

// hostileDB stores a small study whose names, choices, worker and reasons
// are all hostile.
func hostileDB(t *testing.T) *reports.Report {
	t.Helper()
	db := reportstest.OpenDB(t)
	reportstest.Insert(t, db, hostileStudy, fmt.Sprintf(reportstest.Spec, "evil", 24),
		reportstest.MakeTrials(24, 3, fixtureT0), fixtureT0)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE trial_params SET external = to_jsonb($1::text),
		     distribution = replace(distribution::text, '"adamw"', to_json($1::text)::text)::jsonb
		  WHERE name = 'optimizer'  AND external = '"adamw"'`, []any{hostileChoice}},
		{`UPDATE trial_params SET distribution = replace(distribution::text, '"adamw"', to_json($1::text)::text)::jsonb
		  WHERE name = 'optimizer'`, []any{hostileChoice}},
		{`UPDATE trial_params SET name = $1 WHERE name = 'optimizer'`, []any{hostileParam}},
		{`UPDATE trials SET reason = $1 WHERE state = 'FAIL'`, []any{hostileReason}},
		{`UPDATE trials SET worker_id = $1 WHERE worker_id = 'w2'`, []any{hostileWorker}},
		{`UPDATE study_workers SET worker_id = $1 WHERE worker_id = 'w2'`, []any{hostileWorker}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return build(t, db, hostileStudy, reports.Options{GroupBy: []string{hostileParam}})
}

// TestRender_HostileNames renders the hostile study in every format and
// checks that each is safe where it is read: no escape sequence or control
// character reaches a terminal, HTML and Markdown hold no live markup, no
// CSV cell is a formula, YAML gains no key, JSON stays JSON.
func TestRender_HostileNames(t *testing.T) {
	r := hostileDB(t)
	for _, format := range reports.Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := reports.Render(&buf, r, format); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			checkHostile(t, format, out)
			if format != "json" && format != "html" {
				golden(t, "hostile-"+format, buf.Bytes())
			}
		})
	}
}

func checkHostile(t *testing.T, format, out string) {
	t.Helper()
	if format != "json" && format != "html" {
		if i := strings.IndexFunc(out, func(r rune) bool {
			return r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r))
		}); i >= 0 {
			t.Errorf("%s output has control character %q at byte %d: %q", format, out[i], i, clipAround(out, i))
		}
	}
	switch format {
	case "table":
		for _, want := range []string{"workers seen", "=HYPERLINK", "@SUM(1+1)"} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q (the hostile text, made harmless, should still show)", want)
			}
		}
	case "markdown":
		// The best configuration is a fenced code block, shown as text.
		body, config, _ := strings.Cut(out, "## Best configuration")
		for _, bad := range []string{"<script", "<img"} {
			if strings.Contains(body, bad) {
				t.Errorf("markdown holds %q outside the code block", bad)
			}
		}
		if regexp.MustCompile(`[^\\]\|x rm`).MatchString(body) {
			t.Errorf("markdown holds an unescaped | from the study name")
		}
		if n := strings.Count(config, "```"); n != 2 {
			t.Errorf("best configuration has %d fences; want 2:\n%s", n, config)
		}
		if !strings.Contains(out, `&lt;script&gt;alert(1)&lt;/script&gt;\|x rm: 1`) {
			t.Errorf("markdown lacks the escaped study name")
		}
	case "html":
		for _, bad := range []string{"<script", "<img", "\x1b"} {
			if strings.Contains(out, bad) {
				t.Errorf("html holds %q", bad)
			}
		}
		if !strings.Contains(out, "&lt;script&gt;") {
			t.Errorf("html lacks the escaped study name")
		}
	case "csv":
		checkCSV(t, out)
	case "json":
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("json does not parse: %v", err)
		}
		if strings.Contains(out, "<script") || strings.Contains(out, "\x1b") {
			t.Errorf("json holds raw markup or escapes")
		}
		if s, _ := v["study"].(map[string]any); s == nil || s["name"] != hostileStudy {
			t.Errorf("json study = %v; want the name unchanged (JSON escapes it)", v["study"])
		}
	case "yaml":
		var v map[string]any
		if err := yaml.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("yaml does not parse: %v\n%s", err, out)
		}
		if _, ok := v["rm"]; ok {
			t.Errorf("the study name's line break added a key to the best config:\n%s", out)
		}
	}
}

// checkCSV reads every block and checks that no cell starts a formula.
func checkCSV(t *testing.T, out string) {
	t.Helper()
	cells := 0
	for _, block := range strings.Split(out, "\n\n") {
		lines := strings.SplitN(block, "\n", 2)
		if len(lines) < 2 || !strings.HasPrefix(lines[0], "# ") {
			t.Fatalf("csv block without a name line: %q", block)
		}
		recs, err := csv.NewReader(strings.NewReader(lines[1])).ReadAll()
		if err != nil {
			t.Fatalf("csv block %s: %v", lines[0], err)
		}
		for _, rec := range recs {
			for _, c := range rec {
				cells++
				if c == "" || c == "-" || !strings.ContainsRune("=+-@", rune(c[0])) {
					continue
				}
				if _, err := strconv.ParseFloat(c, 64); err != nil {
					t.Errorf("csv %s: cell %q is a formula", lines[0], c)
				}
			}
		}
	}
	for _, want := range []string{`'=HYPERLINK`, `'@SUM(1+1)`, `'+cmd|`, `'-2+3`} {
		if !strings.Contains(out, want) {
			t.Errorf("csv lacks the neutralised cell %s…", want)
		}
	}
	if cells < 100 {
		t.Errorf("only %d csv cells checked", cells)
	}
}

func clipAround(s string, i int) string {
	lo, hi := max(0, i-40), min(len(s), i+40)
	return s[lo:hi]
}

package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"sweep/dashboard"
	"sweep/internal/pgtest"
	"sweep/reports/reportstest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestServer runs the handler tests on one fixture database (building it
// is most of their time). Live runs last: it changes a trial.
func TestServer(t *testing.T) {
	db := fixture(t)
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *sqlx.DB)
	}{
		{"Pages", testPages}, {"TrialFilters", testTrialFilters}, {"HostileNames", testHostileNames},
		{"Token", testToken}, {"LoopbackHost", testLoopbackHost}, {"Writes", testWrites},
		{"Zoom", testZoom}, {"BrowserBrush", testBrowserBrush}, {"BrowserZoom", testBrowserZoom},
		{"Live", testLive},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, db) })
	}
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Hostile names as another tool could store them: markup in the study
// name (with a slash, so the name is not one path segment), a param name
// and a choice.
const (
	hostileStudy  = "evil<script>alert(1)</script>/x"
	hostileParam  = `<img src=x onerror=alert(2)>`
	hostileChoice = `"><svg onload=alert(3)>`
	hostileReason = `<b>boom</b>`
)

// fixture stores two 30-trial studies and a hostile one.
func fixture(t *testing.T) *sqlx.DB {
	t.Helper()
	db := reportstest.OpenDB(t)
	reportstest.Insert(t, db, "tpe", fmt.Sprintf(reportstest.Spec, "tpe", 30), reportstest.MakeTrials(30, 1, t0), t0)
	reportstest.Insert(t, db, "random", fmt.Sprintf(reportstest.Spec, "random", 30), reportstest.MakeTrials(30, 2, t0), t0)
	reportstest.Insert(t, db, hostileStudy, fmt.Sprintf(reportstest.Spec, "evil", 20), reportstest.MakeTrials(20, 3, t0), t0)
	// Only the hostile study's rows change: the others keep "optimizer".
	const evil = ` AND trial_id IN (SELECT t.id FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = $2)`
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE trial_params SET external = to_jsonb($1::text),
		     distribution = replace(distribution::text, '"adamw"', to_json($1::text)::text)::jsonb
		  WHERE name = 'optimizer' AND external = '"adamw"'` + evil, []any{hostileChoice, hostileStudy}},
		{`UPDATE trial_params SET distribution = replace(distribution::text, '"adamw"', to_json($1::text)::text)::jsonb
		  WHERE name = 'optimizer'` + evil, []any{hostileChoice, hostileStudy}},
		{`UPDATE trial_params SET name = $1 WHERE name = 'optimizer'` + evil, []any{hostileParam, hostileStudy}},
		{`UPDATE trials SET reason = $1 WHERE state = 'FAIL' AND id IN (SELECT t.id FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = $2)`, []any{hostileReason, hostileStudy}},
		{`UPDATE studies SET note = $1 WHERE name = $2`, []any{"<i>note</i>", hostileStudy}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return db
}

// fakeWriter records calls; its errors are set per test.
type fakeWriter struct {
	calls     []string
	EnqueueFn func(study string, params map[string]string) (int, error)
}

func (f *fakeWriter) Enqueue(_ context.Context, study string, params map[string]string) (int, error) {
	f.calls = append(f.calls, fmt.Sprintf("enqueue %s %v", study, params))
	if f.EnqueueFn != nil {
		return f.EnqueueFn(study, params)
	}
	return 30, nil
}

func (f *fakeWriter) SetNote(_ context.Context, study, text string, appendLine bool) error {
	f.calls = append(f.calls, fmt.Sprintf("note %s %q %v", study, text, appendLine))
	return nil
}

func (f *fakeWriter) Stop(_ context.Context, study, reason string) error {
	f.calls = append(f.calls, fmt.Sprintf("stop %s %q", study, reason))
	return nil
}

func newServer(t *testing.T, db *sqlx.DB, cfg dashboard.Config) http.Handler {
	t.Helper()
	cfg.DB = db
	cfg.Logf = t.Logf
	s, err := dashboard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler()
}

// get serves one request in memory; its Host is 127.0.0.1:8080.
func get(t *testing.T, h http.Handler, method, target string, header http.Header, body string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.Host = "127.0.0.1:8080"
	if body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String(), w.Header()
}

func study(name string) string { return "/study/" + url.PathEscape(name) }

func testPages(t *testing.T, db *sqlx.DB) {
	h := newServer(t, db, dashboard.Config{})
	for _, c := range []struct {
		target string
		code   int
		want   []string
	}{
		{"/", 200, []string{`href="/study/tpe"`, `href="/study/random"`, `data-live="trials">30<`}},
		{"/study/tpe", 200, []string{`data-live="trials">30<`, "Optimisation history", `href="/study/tpe/trial/3"`, "Best configuration"}},
		{"/study/tpe?fragment=1", 200, []string{"Optimisation history"}},
		{"/study/nope", 404, []string{"no such study"}},
		{"/study/tpe/trial/3", 200, []string{"Trial 3", "val_acc of trial 3", "<svg", `data-live-url="/study/tpe/live"`}},
		{"/study/tpe/trial/3?fragment=1", 200, []string{"Trial 3", "val_acc of trial 3"}},
		{"/study/tpe/trial/999", 404, []string{"no such trial"}},
		{"/study/tpe/trial/x", 404, nil},
		{"/study/nope/trial/1", 404, []string{"no such study"}},
		{"/compare", 200, []string{`<option>tpe</option>`}},
		{"/compare?a=tpe&b=random", 200, []string{"Best params", "Best so far at equal trial counts", "tpe vs random"}},
		{"/compare?a=tpe&b=nope", 404, nil},
		{"/study/tpe?state=BOGUS", 400, []string{`state "BOGUS"`}},
		{"/study/tpe?min.nope=1", 400, []string{`no param "nope"`}},
		{"/study/tpe?min.lr=abc", 400, nil},
		{"/study/tpe?sort=color", 400, nil},
		{"/nope", 404, nil},
	} {
		t.Run(strings.ReplaceAll(c.target, "/", "_"), func(t *testing.T) {
			code, body, hdr := get(t, h, "GET", c.target, nil, "")
			if code != c.code {
				t.Fatalf("status %d, want %d\n%.600s", code, c.code, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q\n%.2000s", w, body)
				}
			}
			if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "http") {
				t.Errorf("Content-Security-Policy %q: want default-src 'none' and no external source", csp)
			}
			if hdr.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", hdr.Get("X-Content-Type-Options"))
			}
		})
	}
}

// rowRE matches a trial table row: its state class, number and cells.
var rowRE = regexp.MustCompile(`<tr class="s-(\w+)"><td><a class="trial" href="[^"]*">(\d+)</a></td><td[^>]*>\w+</td><td>([^<]*)</td>((?:<td>[^<]*</td>)*)</tr>`)

func testTrialFilters(t *testing.T, db *sqlx.DB) {
	h := newServer(t, db, dashboard.Config{})
	rows := func(query string) [][]string {
		t.Helper()
		code, body, _ := get(t, h, "GET", "/study/tpe?"+query, nil, "")
		if code != 200 {
			t.Fatalf("%s: status %d: %s", query, code, body)
		}
		return rowRE.FindAllStringSubmatch(body, -1)
	}
	all := rows("")
	if len(all) != 30 {
		t.Fatalf("%d rows unfiltered, want 30", len(all))
	}
	complete := rows("state=COMPLETE")
	if len(complete) == 0 || len(complete) == 30 {
		t.Fatalf("%d COMPLETE rows of 30: the fixture has other states", len(complete))
	}
	for _, r := range complete {
		if r[1] != "COMPLETE" {
			t.Errorf("state=COMPLETE shows a %s trial (%s)", r[1], r[2])
		}
	}
	if got := len(rows("state=COMPLETE&state=PRUNED")); got <= len(complete) {
		t.Errorf("COMPLETE or PRUNED: %d rows, want more than COMPLETE's %d", got, len(complete))
	}
	// Sorted by value, best (highest val_acc) first; no-value trials last.
	byValue := rows("state=COMPLETE&sort=value&desc=1")
	prev := 2.0
	for _, r := range byValue {
		var v float64
		fmt.Sscan(r[3], &v)
		if v > prev {
			t.Errorf("sort=value&desc=1: %v after %v", v, prev)
		}
		prev = v
	}
	asc := rows("sort=number&desc=1")
	if asc[0][2] != "29" || asc[len(asc)-1][2] != "0" {
		t.Errorf("sort=number&desc=1 runs from trial %s to %s, want 29 to 0", asc[0][2], asc[len(asc)-1][2])
	}
	// lr is the first param column (spec order): a range keeps only
	// trials inside it, and drops trials without the param (WAITING).
	narrow := rows("min.lr=0.001&max.lr=0.1")
	if len(narrow) == 0 || len(narrow) >= 29 {
		t.Fatalf("min.lr=0.001&max.lr=0.1: %d rows; want some but not all", len(narrow))
	}
	for _, r := range narrow {
		cells := regexp.MustCompile(`<td>([^<]*)</td>`).FindAllStringSubmatch(r[4], -1)
		var lr float64
		fmt.Sscan(cells[2][1], &lr) // epochs, time, then lr
		if lr < 0.001 || lr > 0.1 {
			t.Errorf("trial %s: lr %v outside [0.001, 0.1]", r[2], lr)
		}
	}
	if got := rows("is.optimizer=sgd"); len(got) == 0 || len(got) >= 29 {
		t.Errorf("is.optimizer=sgd: %d rows; want some but not all", len(got))
	}
}

func testHostileNames(t *testing.T, db *sqlx.DB) {
	h := newServer(t, db, dashboard.Config{Writer: &fakeWriter{}})
	for _, target := range []string{"/", study(hostileStudy), study(hostileStudy) + "?fragment=1",
		study(hostileStudy) + "/trial/16", study(hostileStudy) + "/trial/2",
		"/compare?a=" + url.QueryEscape(hostileStudy) + "&b=tpe"} {
		t.Run(strings.ReplaceAll(target, "/", "_"), func(t *testing.T) {
			code, body, _ := get(t, h, "GET", target, nil, "")
			if code != 200 {
				t.Fatalf("status %d\n%.500s", code, body)
			}
			for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "<b>boom", "<i>note"} {
				if strings.Contains(body, bad) {
					i := strings.Index(body, bad)
					t.Errorf("live markup %q in the page: …%s…", bad, body[max(0, i-80):min(len(body), i+80)])
				}
			}
			if target == "/" && !strings.Contains(body, "evil&lt;script&gt;alert(1)&lt;/script&gt;/x") {
				t.Errorf("the study list does not show the hostile name escaped")
			}
		})
	}
	// The hostile param's filter round-trips through the query string.
	code, body, _ := get(t, h, "GET", study(hostileStudy)+"?is."+url.QueryEscape(hostileParam)+"=sgd", nil, "")
	if code != 200 || !strings.Contains(body, "shown of") {
		t.Errorf("filter on the hostile param: status %d", code)
	}
}

func testLive(t *testing.T, db *sqlx.DB) {
	h := newServer(t, db, dashboard.Config{})
	var before struct {
		Trials  int    `json:"trials"`
		Version string `json:"version"`
	}
	code, body, _ := get(t, h, "GET", "/study/tpe/live", nil, "")
	if code != 200 || json.Unmarshal([]byte(body), &before) != nil || before.Trials != 30 {
		t.Fatalf("live: %d %s", code, body)
	}
	// A worker claims the WAITING trial: the counts and the version move.
	if _, err := db.Exec(`UPDATE trials SET state = 'RUNNING', started_at = now() WHERE state = 'WAITING'
		AND study_id = (SELECT id FROM studies WHERE name = 'tpe')`); err != nil {
		t.Fatal(err)
	}
	var after struct {
		Running int    `json:"running"`
		Version string `json:"version"`
	}
	_, body, _ = get(t, h, "GET", "/study/tpe/live", nil, "")
	if json.Unmarshal([]byte(body), &after) != nil || after.Running != 1 || after.Version == before.Version {
		t.Errorf("after a claim: %s (before: version %s)", body, before.Version)
	}
	if code, _, _ := get(t, h, "GET", "/study/nope/live", nil, ""); code != 404 {
		t.Errorf("live of an unknown study: %d, want 404", code)
	}
}

func testToken(t *testing.T, db *sqlx.DB) {
	h := newServer(t, db, dashboard.Config{Token: "s3cret"})
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	for _, c := range []struct {
		name   string
		target string
		header http.Header
		code   int
	}{
		{"None", "/", nil, 401},
		{"Wrong", "/", bearer("nope"), 401},
		{"Prefix", "/", bearer("s3cre"), 401},
		{"Bearer", "/", bearer("s3cret"), 200},
		{"WrongQuery", "/study/tpe?token=nope", nil, 401},
		{"Query", "/study/tpe?token=s3cret&state=COMPLETE", nil, 303},
		{"Cookie", "/study/tpe", http.Header{"Cookie": {"sweep_dashboard_token=s3cret"}}, 200},
		{"WrongCookie", "/study/tpe", http.Header{"Cookie": {"sweep_dashboard_token=x"}}, 401},
		{"Static", "/static/live.js", nil, 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, hdr := get(t, h, "GET", c.target, c.header, "")
			if code != c.code {
				t.Fatalf("status %d, want %d", code, c.code)
			}
			if c.name == "Query" {
				if loc := hdr.Get("Location"); loc != "/study/tpe?state=COMPLETE" {
					t.Errorf("redirect to %q; want the URL without the token", loc)
				}
				if ck := hdr.Get("Set-Cookie"); !strings.Contains(ck, "sweep_dashboard_token=s3cret") || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") {
					t.Errorf("Set-Cookie %q: want the token, HttpOnly, SameSite=Strict", ck)
				}
			}
		})
	}
}

func testLoopbackHost(t *testing.T, db *sqlx.DB) {
	h := newServer(t, db, dashboard.Config{})
	for host, want := range map[string]int{"127.0.0.1:8080": 200, "localhost:8080": 200, "[::1]:8080": 200,
		"evil.example:8080": 403, "10.0.0.5:8080": 403} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %s: status %d, want %d", host, w.Code, want)
		}
	}
}

func TestCheckListen(t *testing.T) {
	for _, c := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8080", "", true},
		{"localhost:8080", "", true},
		{"[::1]:0", "", true},
		{"0.0.0.0:8080", "", false},
		{":8080", "", false},
		{"192.168.1.4:8080", "", false},
		{"0.0.0.0:8080", "t", true},
	} {
		err := dashboard.CheckListen(c.addr, c.token)
		if (err == nil) != c.ok {
			t.Errorf("CheckListen(%q, %q) = %v; want ok=%v", c.addr, c.token, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "needs a token") {
			t.Errorf("error %q does not say a token is needed", err)
		}
	}
}

func testWrites(t *testing.T, db *sqlx.DB) {
	same := http.Header{"Origin": {"http://127.0.0.1:8080"}}
	posts := []struct{ target, body, want string }{
		{"/study/tpe/enqueue", "params=" + url.QueryEscape(`{"lr": 0.1, "optimizer": "sgd"}`), "enqueue tpe map[lr:0.1 optimizer:sgd]"},
		{"/study/tpe/note", "text=hello&append=1", `note tpe "hello" true`},
		{"/study/tpe/stop", "", `stop tpe "stopped from sweep dashboard"`},
	}
	t.Run("ReadOnly", func(t *testing.T) {
		h := newServer(t, db, dashboard.Config{})
		for _, p := range posts {
			if code, _, _ := get(t, h, "POST", p.target, same, p.body); code != 403 {
				t.Errorf("%s without --allow-writes: %d, want 403", p.target, code)
			}
		}
		if _, body, _ := get(t, h, "GET", "/study/tpe", nil, ""); strings.Contains(body, "<form method=\"post\"") {
			t.Errorf("a read-only study page shows write forms")
		}
	})
	t.Run("Allowed", func(t *testing.T) {
		fw := &fakeWriter{}
		h := newServer(t, db, dashboard.Config{Writer: fw})
		for i, p := range posts {
			code, body, _ := get(t, h, "POST", p.target, same, p.body)
			if code != 200 {
				t.Fatalf("%s: %d\n%s", p.target, code, body)
			}
			if len(fw.calls) != i+1 || fw.calls[i] != p.want {
				t.Errorf("%s: writer calls %q, want %q last", p.target, fw.calls, p.want)
			}
		}
		if _, body, _ := get(t, h, "GET", "/study/tpe", nil, ""); !strings.Contains(body, `action="/study/tpe/enqueue"`) {
			t.Errorf("the study page shows no enqueue form with --allow-writes")
		}
	})
	t.Run("CrossSite", func(t *testing.T) {
		fw := &fakeWriter{}
		h := newServer(t, db, dashboard.Config{Writer: fw})
		for _, hdr := range []http.Header{nil, {"Origin": {"http://evil.example"}}, {"Sec-Fetch-Site": {"cross-site"}}} {
			if code, _, _ := get(t, h, "POST", "/study/tpe/stop", hdr, ""); code != 403 {
				t.Errorf("POST with %v: %d, want 403", hdr, code)
			}
		}
		if len(fw.calls) != 0 {
			t.Errorf("cross-site POSTs reached the writer: %q", fw.calls)
		}
	})
	t.Run("TokenHeader", func(t *testing.T) {
		fw := &fakeWriter{}
		h := newServer(t, db, dashboard.Config{Writer: fw, Token: "tk"})
		// A script with the token needs no Origin; a cookie alone does.
		if code, _, _ := get(t, h, "POST", "/study/tpe/stop", http.Header{"Authorization": {"Bearer tk"}}, ""); code != 200 {
			t.Errorf("POST with the bearer token: %d, want 200", code)
		}
		if code, _, _ := get(t, h, "POST", "/study/tpe/stop", http.Header{"Cookie": {"sweep_dashboard_token=tk"}}, ""); code != 403 {
			t.Errorf("POST with only the cookie and no Origin: %d, want 403", code)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		fw := &fakeWriter{EnqueueFn: func(string, map[string]string) (int, error) {
			return 0, fmt.Errorf("%w: lr 7 outside [0.0001, 1]", dashboard.ErrInvalid)
		}}
		h := newServer(t, db, dashboard.Config{Writer: fw})
		for body, want := range map[string]int{
			"params=" + url.QueryEscape(`[1]`):         400,
			"params=" + url.QueryEscape(`{}`):          400,
			"params=" + url.QueryEscape(`{"lr": 7}`):   400,
			"params=" + url.QueryEscape(`{"lr": [1]}`): 400,
		} {
			if code, _, _ := get(t, h, "POST", "/study/tpe/enqueue", same, body); code != want {
				t.Errorf("enqueue %s: %d, want %d", body, code, want)
			}
		}
	})
}

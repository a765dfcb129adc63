package dashboard_test

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"sweep/dashboard"
)

// historyDot matches a dot of the history chart by its hover title.
var historyDot = regexp.MustCompile(`<title>trial (\d+) (\w+) (-?[\d.]+)</title>`)

// axesRE finds a figure's data-axes attribute.
var axesRE = regexp.MustCompile(`data-axes="([^"]*)"`)

type axes struct {
	X, Y   struct{ Lo, Hi float64 }
	Zoomed bool
}

// figureAxes reads the data-axes of the one figure in body.
func figureAxes(t *testing.T, body string) axes {
	t.Helper()
	m := axesRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no data-axes in %.300s", body)
	}
	var a axes
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &a); err != nil {
		t.Fatalf("data-axes %q: %v", m[1], err)
	}
	return a
}

// testZoom asks for single charts zoomed with ?fig=&xmin=&xmax=&ymin=&ymax=:
// a zoomed chart holds only the trials in the box, the reset (fig alone)
// draws all of them, and bad parameters are 400s that name the parameter.
func testZoom(t *testing.T, db *sqlx.DB) {
	h := newServer(t, db, dashboard.Config{})
	fetch := func(target string) string {
		t.Helper()
		code, body, _ := get(t, h, "GET", target, nil, "")
		if code != 200 {
			t.Fatalf("%s: status %d: %s", target, code, body)
		}
		if !strings.HasPrefix(body, `<figure data-fig="`) || strings.Count(body, "<figure") != 1 {
			t.Fatalf("%s: want one <figure> only, got %.300s", target, body)
		}
		return body
	}
	whole := fetch("/study/tpe?fragment=1&fig=history")
	all := historyDot.FindAllStringSubmatch(whole, -1)
	if a := figureAxes(t, whole); a.Zoomed || len(all) < 20 || strings.Contains(whole, "reset zoom") {
		t.Fatalf("unzoomed history: axes %+v, %d dots; want all trials, no reset button", a, len(all))
	}
	zoomed := fetch("/study/tpe?fragment=1&fig=history&xmin=5&xmax=15.5&ymin=0.5&ymax=0.9")
	want := 0
	for _, m := range all {
		var n int
		var v float64
		fmt.Sscan(m[1], &n)
		fmt.Sscan(m[3], &v)
		if n >= 5 && n <= 15 && v >= 0.5 && v <= 0.9 {
			want++
		}
	}
	got := historyDot.FindAllStringSubmatch(zoomed, -1)
	for _, m := range got {
		var n int
		var v float64
		fmt.Sscan(m[1], &n)
		fmt.Sscan(m[3], &v)
		if n < 5 || n > 15 || v < 0.5 || v > 0.9 {
			t.Errorf("zoomed history draws trial %d (%g), outside 5..15.5 × 0.5..0.9", n, v)
		}
	}
	if want == 0 || len(got) != want {
		t.Errorf("zoomed history draws %d trials, want the %d inside the box", len(got), want)
	}
	a := figureAxes(t, zoomed)
	if !a.Zoomed || a.X.Lo != 5 || a.X.Hi != 15.5 || a.Y.Lo != 0.5 || a.Y.Hi != 0.9 {
		t.Errorf("zoomed axes %+v, want the box", a)
	}
	if !strings.Contains(zoomed, `class="unzoom"`) {
		t.Error("a zoomed chart has no reset control")
	}

	for _, target := range []string{
		"/study/tpe?fragment=1&fig=timeline&xmin=0&xmax=1",
		"/study/tpe?fragment=1&fig=slice&ymin=0.5&ymax=0.9",
		"/study/tpe?fragment=1&fig=edf&xmin=0.5&xmax=0.9",
		"/study/tpe?fragment=1&fig=curves&xmin=2&xmax=5",
		"/study/tpe/trial/3?fragment=1&fig=curve&xmin=2&xmax=5",
		"/compare?a=tpe&b=random&fragment=1&fig=compare&xmin=2&xmax=10",
	} {
		if a := figureAxes(t, fetch(target)); !a.Zoomed {
			t.Errorf("%s: not zoomed: %+v", target, a)
		}
	}

	for _, c := range []struct{ target, want string }{
		{"/study/tpe?fig=history&xmin=abc&xmax=3", `xmin="abc"`},
		{"/study/tpe?fig=history&xmin=1&xmax=NaN", `xmax="NaN"`},
		{"/study/tpe?fig=history&ymin=-Inf&ymax=1", `ymin="-Inf"`},
		{"/study/tpe?fig=history&xmin=1", "xmin without xmax"},
		{"/study/tpe?fig=history&ymax=1", "ymax without ymin"},
		{"/study/tpe?fig=history&xmin=5&xmax=5", "xmin=5 is not below xmax=5"},
		{"/study/tpe?fig=history&ymin=2&ymax=1", "ymin=2 is not below ymax=1"},
		{"/study/tpe?xmin=1&xmax=2", "xmin without fig"},
		{"/study/tpe?fig=", "fig is empty"},
		{"/study/tpe?fig=nope", `fig="nope"`},
		{"/study/tpe?fig=parallel", `fig="parallel"`},
		{"/study/tpe?fig=slice&xmin=0&xmax=1", "xmin, xmax: chart slice does not zoom its x axis"},
		{"/study/tpe?fig=timeline&ymin=0&ymax=1", "ymin, ymax: chart timeline does not zoom its y axis"},
		{"/study/tpe/trial/3?fig=curve&xmin=x&xmax=1", `xmin="x"`},
		{"/compare?a=tpe&b=random&fig=compare&ymin=1&ymax=0", "ymin=1 is not below ymax=0"},
		{"/compare?a=tpe&fig=compare", "fig needs two studies"},
	} {
		code, body, _ := get(t, h, "GET", c.target, nil, "")
		if code != 400 || !strings.Contains(html.UnescapeString(body), c.want) {
			t.Errorf("%s: status %d %q; want 400 naming %q", c.target, code, strings.TrimSpace(body), c.want)
		}
	}
}

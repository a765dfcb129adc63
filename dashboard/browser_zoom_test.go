package dashboard_test

import (
	"context"
	"math"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"sweep/dashboard"
	"sweep/internal/cdp"
)

// zoomView is what the browser test reads of the history chart.
type zoomView struct {
	Zoomed bool      `json:"zoomed"`
	X      []float64 `json:"x"`     // data range of the x axis
	Ticks  []float64 `json:"ticks"` // the x tick labels
	Dots   int       `json:"dots"`
	Reset  bool      `json:"reset"` // the reset button is there
}

// testBrowserZoom drags a rectangle over the history chart in headless
// Chromium: the chart comes back redrawn for the box (its x range and tick
// labels within the dragged span), stays zoomed across a live refresh,
// hides and shows a series from its legend entry, and a double-click
// draws it whole again.
func testBrowserZoom(t *testing.T, db *sqlx.DB) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no headless Chromium (apt-get install -y chromium)")
	}
	s, err := dashboard.New(dashboard.Config{DB: db, Refresh: 200 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := cdp.Start(ctx, browser, filepath.Join(t.TempDir(), "profile"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	page, err := b.NewPage(ctx, srv.URL+"/study/tpe", 1280, 1000)
	if err != nil {
		t.Fatal(err)
	}
	const hist = `document.querySelector('figure[data-fig="history"]')`
	if err := page.WaitFor(ctx, `document.readyState === "complete" && `+hist+` !== null`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	const view = `(() => {
		const fig = ` + hist + `, ax = JSON.parse(fig.dataset.axes);
		const ticks = [...fig.querySelectorAll('text.tick[text-anchor="middle"]')].map(t => parseFloat(t.textContent));
		return {zoomed: ax.zoomed, x: [ax.x.lo, ax.x.hi], ticks: ticks, dots: fig.querySelectorAll("circle").length,
			reset: fig.querySelector("button.unzoom") !== null};
	})()`
	read := func() zoomView {
		t.Helper()
		var v zoomView
		if err := page.Eval(ctx, view, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	whole := read()
	if whole.Zoomed || len(whole.X) != 2 || whole.Reset {
		t.Fatalf("history before zooming: %+v", whole)
	}
	// Drag from 25% to 75% of the plot area's width, over its full
	// height, firing pointer events at screen positions.
	const drag = `(() => {
		const fig = ` + hist + `, svg = fig.querySelector("svg"), a = JSON.parse(fig.dataset.axes).areas[0];
		const m = svg.getScreenCTM();
		const at = (fx, fy) => ({clientX: m.a * (a[0] + fx * (a[2] - a[0])) + m.e, clientY: m.d * (a[1] + fy * (a[3] - a[1])) + m.f,
			bubbles: true, pointerId: 1});
		svg.dispatchEvent(new PointerEvent("pointerdown", at(0.25, 0)));
		svg.dispatchEvent(new PointerEvent("pointermove", at(0.5, 0.5)));
		const box = svg.querySelector("rect.zoombox") !== null;
		svg.dispatchEvent(new PointerEvent("pointerup", at(0.75, 1)));
		return box;
	})()`
	var boxShown bool
	if err := page.Eval(ctx, drag, &boxShown); err != nil {
		t.Fatal(err)
	}
	if !boxShown {
		t.Error("no zoom rectangle while dragging")
	}
	if err := page.WaitFor(ctx, `JSON.parse(`+hist+`.dataset.axes).zoomed`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	zoomed := read()
	span := whole.X[1] - whole.X[0]
	wantLo, wantHi := whole.X[0]+span/4, whole.X[1]-span/4
	if math.Abs(zoomed.X[0]-wantLo) > span/100 || math.Abs(zoomed.X[1]-wantHi) > span/100 {
		t.Errorf("zoomed x range %v, want about [%g %g] (a quarter in from each end of %v)", zoomed.X, wantLo, wantHi, whole.X)
	}
	if len(zoomed.Ticks) < 2 || zoomed.Ticks[0] < zoomed.X[0] || zoomed.Ticks[len(zoomed.Ticks)-1] > zoomed.X[1] {
		t.Errorf("zoomed x ticks %v, want them within %v", zoomed.Ticks, zoomed.X)
	}
	if zoomed.Dots >= whole.Dots || zoomed.Dots == 0 || !zoomed.Reset {
		t.Errorf("zoomed: %d of %d dots, reset button %v; want fewer dots and the button", zoomed.Dots, whole.Dots, zoomed.Reset)
	}

	// A live refresh (the study's stop reason changes its version)
	// redraws the report; the chart must come back zoomed.
	if err := page.Eval(ctx, `document.querySelector("#report h2").dataset.old = "1"`, nil); err != nil {
		t.Fatal(err)
	}
	restore := func(reason string) {
		if _, err := db.Exec(`UPDATE studies SET stop_reason = $1 WHERE name = 'tpe'`, reason); err != nil {
			t.Fatal(err)
		}
	}
	restore("zoom test")
	defer restore("")
	if err := page.WaitFor(ctx, `document.querySelector("#report h2").dataset.old === undefined`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if after := read(); !after.Zoomed || after.X[0] != zoomed.X[0] || after.X[1] != zoomed.X[1] {
		t.Errorf("after a live refresh the history shows %v (zoomed %v), want %v", after.X, after.Zoomed, zoomed.X)
	}

	// A click on the legend's "complete" swatch hides the blue dots, and
	// only those; a second click shows them again.
	const toggle = `(() => {
		const svg = ` + hist + `.querySelector("svg");
		[...svg.querySelectorAll('rect[fill="#0072b2"]')].find(r => r.getAttribute("y") === "9")
			.dispatchEvent(new MouseEvent("click", {bubbles: true}));
		const off = [...svg.querySelectorAll(".series-off")];
		return [svg.querySelectorAll('circle[fill="#0072b2"]').length, off.length,
			off.filter(e => e.getAttribute("fill") !== "#0072b2").length];
	})()`
	var got [3]int
	if err := page.Eval(ctx, toggle, &got); err != nil {
		t.Fatal(err)
	}
	if got[0] == 0 || got[1] != got[0] || got[2] != 0 {
		t.Errorf("clicking the complete swatch hid %d marks (%d not blue) of %d blue dots; want exactly those", got[1], got[2], got[0])
	}
	if err := page.Eval(ctx, toggle, &got); err != nil {
		t.Fatal(err)
	}
	if got[1] != 0 {
		t.Errorf("a second click left %d marks hidden", got[1])
	}

	if err := page.Eval(ctx, hist+`.querySelector("svg").dispatchEvent(new MouseEvent("dblclick", {bubbles: true}))`, nil); err != nil {
		t.Fatal(err)
	}
	if err := page.WaitFor(ctx, `!JSON.parse(`+hist+`.dataset.axes).zoomed`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if reset := read(); reset.X[0] != whole.X[0] || reset.X[1] != whole.X[1] || reset.Dots != whole.Dots || reset.Reset {
		t.Errorf("after a double-click: %+v, want the whole chart %+v", reset, whole)
	}
}

package dashboard_test

import (
	"context"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"sweep/dashboard"
	"sweep/internal/cdp"
)

// testBrowserBrush drags along the metric axis of the parallel-coordinates
// chart in headless Chromium: the lines outside the brushed range fade,
// and a click on the axis clears the brush.
func testBrowserBrush(t *testing.T, db *sqlx.DB) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no headless Chromium (apt-get install -y chromium)")
	}
	s, err := dashboard.New(dashboard.Config{DB: db, Refresh: time.Hour, Logf: t.Logf})
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
	if err := page.WaitFor(ctx, `document.readyState === "complete" && document.querySelector('figure[data-fig="parallel"] svg') !== null`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	// drag fires pointer events along the first axis (the metric, best at
	// the top) from fraction a to fraction b of its height, and returns
	// [lines, faded lines].
	const drag = `(a, b) => {
		const svg = document.querySelector('figure[data-fig="parallel"] svg');
		const axis = [...svg.querySelectorAll("line.axis")].find(l => l.getAttribute("x1") === l.getAttribute("x2"));
		const r = axis.getBoundingClientRect();
		const fire = (type, f) => svg.dispatchEvent(new PointerEvent(type,
			{clientX: r.left + r.width / 2, clientY: r.top + f * r.height, bubbles: true, pointerId: 1}));
		fire("pointerdown", a); fire("pointermove", (a + b) / 2); fire("pointerup", b);
		return [svg.querySelectorAll("path").length, svg.querySelectorAll("path.dim").length];
	}`
	var got [2]int
	if err := page.Eval(ctx, "("+drag+")(0.0, 0.3)", &got); err != nil {
		t.Fatal(err)
	}
	if got[0] == 0 || got[1] == 0 || got[1] == got[0] {
		t.Errorf("brushing the top 30%% of the metric axis faded %d of %d lines; want some but not all", got[1], got[0])
	}
	if err := page.Eval(ctx, "("+drag+")(0.5, 0.5)", &got); err != nil {
		t.Fatal(err)
	}
	if got[1] != 0 {
		t.Errorf("a click on the axis left %d of %d lines faded; want the brush cleared", got[1], got[0])
	}
}

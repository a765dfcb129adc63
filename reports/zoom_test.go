package reports_test

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"sweep/reports"
)

// inArea checks that every mark of a zoomed figure lies inside its plot
// area: circles, polyline points and bars with a hover title (legend
// swatches sit above the area). It returns how many marks it saw.
func inArea(t *testing.T, f reports.Figure) int {
	t.Helper()
	a := f.Axes.Areas[0]
	const eps = 0.11 // coordinates carry one decimal
	in := func(what string, x, y float64) {
		if x < a[0]-eps || x > a[2]+eps || y < a[1]-eps || y > a[3]+eps {
			t.Errorf("%s: %s at (%g, %g) outside the plot area %v", f.ID, what, x, y, a)
		}
	}
	marks := 0
	for _, e := range parseSVG(t, f.SVG) {
		switch {
		case e.name == "circle":
			marks++
			in("circle "+e.title, attrF(t, e, "cx"), attrF(t, e, "cy"))
		case e.name == "polyline":
			marks++
			for _, pt := range strings.Fields(e.attr["points"]) {
				xs, ys, _ := strings.Cut(pt, ",")
				x, _ := strconv.ParseFloat(xs, 64)
				y, _ := strconv.ParseFloat(ys, 64)
				in("polyline point", x, y)
			}
		case e.name == "rect" && e.title != "":
			marks++
			x, w := attrF(t, e, "x"), attrF(t, e, "width")
			in("bar "+e.title, x, attrF(t, e, "y"))
			in("bar end "+e.title, x+w-1, attrF(t, e, "y")) // bars are at least 1 px wide
		}
	}
	return marks
}

// xTicks returns the numeric labels of a figure's x axis.
func xTicks(t *testing.T, f reports.Figure) []float64 {
	t.Helper()
	var out []float64
	for _, e := range parseSVG(t, f.SVG) {
		if e.name == "text" && e.attr["class"] == "tick" && e.attr["text-anchor"] == "middle" {
			v, err := strconv.ParseFloat(e.text, 64)
			if err != nil {
				t.Fatalf("%s: x tick %q is not a number", f.ID, e.text)
			}
			out = append(out, v)
		}
	}
	return out
}

// TestReport_ZoomFigure zooms the history of a 2,000-trial study (drawn
// down-sampled) into 200 trials and a value band: it draws every trial in
// the box and nothing outside, and its ticks label the box.
func TestReport_ZoomFigure(t *testing.T) {
	r := buildMem(t, memData(specFor("mem", 2000), memParams, bigTrials(2000)))
	whole := figure(t, r, "history")
	if whole.Axes == nil || whole.Axes.Zoomed || !whole.Axes.ZoomX || !whole.Axes.ZoomY {
		t.Fatalf("unzoomed history axes %+v; want zoomable, not zoomed", whole.Axes)
	}
	same, err := r.ZoomFigure("history", reports.Zoom{})
	if err != nil || same.SVG != whole.SVG {
		t.Errorf("ZoomFigure with no box differs from Figures (err %v)", err)
	}
	box := reports.Zoom{X: &reports.Range{Lo: 100, Hi: 300}, Y: &reports.Range{Lo: 0.8, Hi: 0.95}}
	f, err := r.ZoomFigure("history", box)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Axes.Zoomed || f.Axes.X != *box.X || f.Axes.Y != *box.Y {
		t.Errorf("zoomed axes %+v; want the box %v × %v", f.Axes, *box.X, *box.Y)
	}
	want := 0
	for _, h := range r.History {
		if h.Value != nil && h.Number >= 100 && h.Number <= 300 && *h.Value >= 0.8 && *h.Value <= 0.95 {
			want++
		}
	}
	dots := 0
	for _, e := range parseSVG(t, f.SVG) {
		if e.name != "circle" {
			continue
		}
		dots++
		var n int
		var state string
		var v float64
		if _, err := fmt.Sscanf(e.title, "trial %d %s %g", &n, &state, &v); err != nil {
			t.Fatalf("dot title %q: %v", e.title, err)
		}
		if n < 100 || n > 300 || v < 0.8 || v > 0.95 {
			t.Errorf("zoomed history draws trial %d (%g), outside the box", n, v)
		}
	}
	if want == 0 || dots != want {
		t.Errorf("zoomed history draws %d trials, want all %d in the box", dots, want)
	}
	inArea(t, f)
	ticks := xTicks(t, f)
	if len(ticks) < 3 || ticks[0] < 100 || ticks[len(ticks)-1] > 300 {
		t.Errorf("zoomed x ticks %v; want several, within 100..300", ticks)
	}

	// The EDF of the ~1,100 complete trials is drawn through 500 values;
	// zoomed into 100 of them, it steps at each.
	var vals []float64
	for _, tr := range r.Trials {
		if tr.State == "COMPLETE" {
			vals = append(vals, *tr.Value)
		}
	}
	sort.Float64s(vals)
	if len(vals) < 1000 {
		t.Fatalf("%d complete trials, want over 1000", len(vals))
	}
	mid := len(vals) / 2
	lo, hi := vals[mid], vals[mid+99]
	edf, err := r.ZoomFigure("edf", reports.Zoom{X: &reports.Range{Lo: lo, Hi: hi}})
	if err != nil {
		t.Fatal(err)
	}
	points := 0
	for _, e := range parseSVG(t, edf.SVG) {
		if e.name == "polyline" {
			points += len(strings.Fields(e.attr["points"]))
		}
	}
	if points < 2*100 {
		t.Errorf("EDF zoomed into 100 values has %d points, want a step (2 points) at each", points)
	}
}

// TestReport_ZoomFigureEveryChart zooms each zoomable chart into the middle of
// its range: marks stay inside the plot area and the axes it cannot zoom
// keep their range; charts that do not zoom are refused.
func TestReport_ZoomFigureEveryChart(t *testing.T) {
	d := memData(specFor("mem", 300), memParams, bigTrials(300))
	for s := 1; s <= 10; s++ {
		d.BestMetrics = append(d.BestMetrics, reports.MetricPoint{Name: "val_loss", Step: s, Value: 1 / float64(s)})
	}
	r := buildMem(t, d)
	mid := func(g reports.Range) *reports.Range {
		w := g.Hi - g.Lo
		return &reports.Range{Lo: g.Lo + w/4, Hi: g.Hi - w/4}
	}
	for _, id := range []string{"history", "curves", "slice", "edf", "timeline", "loss"} {
		whole := figure(t, r, id)
		if whole.Axes == nil {
			t.Errorf("%s has no axes", id)
			continue
		}
		f, err := r.ZoomFigure(id, reports.Zoom{X: mid(whole.Axes.X), Y: mid(whole.Axes.Y)})
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		for axis, c := range map[string]struct {
			zooms     bool
			got, full reports.Range
		}{"x": {f.Axes.ZoomX, f.Axes.X, whole.Axes.X}, "y": {f.Axes.ZoomY, f.Axes.Y, whole.Axes.Y}} {
			if want := *mid(c.full); c.zooms && c.got != want || !c.zooms && c.got != c.full {
				t.Errorf("%s: %s range %v after zooming (zooms %v, whole %v)", id, axis, c.got, c.zooms, c.full)
			}
		}
		if id == "slice" {
			continue // panels: their marks are checked by value below
		}
		if inArea(t, f) == 0 {
			t.Errorf("%s: the zoomed chart draws nothing", id)
		}
	}
	f, err := r.ZoomFigure("slice", reports.Zoom{Y: &reports.Range{Lo: 0.85, Hi: 0.9}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Axes.Areas) != len(r.Params) {
		t.Errorf("slice has %d areas, want one per param (%d)", len(f.Axes.Areas), len(r.Params))
	}
	for _, e := range parseSVG(t, f.SVG) {
		var n int
		var v float64
		if e.name == "circle" {
			if _, err := fmt.Sscanf(e.title, "trial %d: %g,", &n, &v); err != nil || v < 0.85 || v > 0.9 {
				t.Errorf("zoomed slice draws %q (%v), outside 0.85..0.9", e.title, err)
			}
		}
	}
	for _, id := range []string{"parallel", "importance", "contour", "nope"} {
		if _, err := r.ZoomFigure(id, reports.Zoom{}); !errors.Is(err, reports.ErrNoFigure) {
			t.Errorf("ZoomFigure(%q) = %v, want ErrNoFigure", id, err)
		}
	}
	c := reports.Compare(r, r)
	cf, err := c.ZoomFigure("compare", reports.Zoom{X: &reports.Range{Lo: 10, Hi: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if inArea(t, cf) == 0 {
		t.Error("zoomed comparison draws nothing")
	}
}

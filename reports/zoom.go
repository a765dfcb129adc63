package reports

import (
	"fmt"
	"math"
)

// This file lets the dashboard zoom the line and scatter charts: a chart is
// redrawn on the server for a box of data values, so its ticks label the
// box and it holds only the marks inside it (more of them, since thinning
// then picks among fewer trials). Without a zoom nothing changes: the
// report's charts are drawn exactly as before.

// Range is a closed interval of data values, Lo < Hi.
type Range struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// Zoom is the box of data values a chart is redrawn for; a nil axis keeps
// the range its data spans. A chart ignores an axis it does not zoom (see
// Axes.ZoomX and ZoomY).
type Zoom struct {
	X, Y *Range
}

// Axes tells a page's script how a zoomable chart maps data to SVG units,
// so that it can turn a dragged rectangle into a Zoom. Figures that do not
// zoom have none.
type Axes struct {
	// Areas are the plot areas in SVG units as [left, top, right, bottom]:
	// one, or one per panel of the slice chart (which share Y).
	Areas [][4]float64 `json:"areas"`
	// X and Y are the data values at the areas' left/right and
	// bottom/top edges.
	X Range `json:"x"`
	Y Range `json:"y"`
	// ZoomX and ZoomY say which axes zoom: the timeline's lanes and the
	// slice panels' parameter axes do not.
	ZoomX bool `json:"zoom_x"`
	ZoomY bool `json:"zoom_y"`
	// Zoomed says the chart was drawn for a Zoom, not its data's range.
	Zoomed bool `json:"zoomed"`
	// Series are the colours of the chart's legend swatches (in the
	// legend row above the plot area). Each names one series: its marks
	// are the ones drawn in that colour, so a script can hide them.
	Series []string `json:"series,omitempty"`
}

// ZoomFigure redraws the report's chart id (an ID of Figures) for the
// box z. It wraps ErrNoFigure when there is no such zoomable chart.
func (r *Report) ZoomFigure(id string, z Zoom) (Figure, error) {
	var figs []Figure
	switch id {
	case "history":
		figs = []Figure{r.historyFigure(z)}
	case "curves":
		figs = []Figure{r.curvesFigure(z)}
	case "slice", "edf", "timeline":
		draw := r.sliceFigure
		if id == "edf" {
			draw = r.edfFigure
		} else if id == "timeline" {
			draw = r.timelineFigure
		}
		if f, ok := draw(z); ok {
			figs = []Figure{f}
		}
	default: // lr, grad_norm, loss
		figs = r.metricFigures(z)
	}
	return zoomable(figs, id)
}

// ZoomFigure redraws the comparison's chart id for the box z.
func (c *Comparison) ZoomFigure(id string, z Zoom) (Figure, error) {
	return zoomable([]Figure{c.compareFigure(z)}, id)
}

// ZoomFigure redraws the trial's chart id (an ID of Figures) for the box z.
func (d *TrialData) ZoomFigure(id string, z Zoom) (Figure, error) {
	return zoomable(d.figures(z), id)
}

// zoomable picks chart id out of figs, if it can zoom.
func zoomable(figs []Figure, id string) (Figure, error) {
	for _, f := range figs {
		if f.ID == id && f.Axes != nil {
			return f, nil
		}
	}
	return Figure{}, fmt.Errorf("chart %q: %w", id, ErrNoFigure)
}

// zoomTo narrows the plot to z's box; call it after newPlot and before
// frame. Marks then leave out what falls outside the box.
func (p *plot) zoomTo(z Zoom) {
	if z.X != nil {
		p.x0, p.x1, p.clip = z.X.Lo, z.X.Hi, true
	}
	if z.Y != nil {
		p.y0, p.y1, p.clip = z.Y.Lo, z.Y.Hi, true
	}
}

// area is the plot area in SVG units: left, top, right, bottom.
func (p *plot) area() [4]float64 {
	return [4]float64{p.left, p.top, p.w - p.right, p.h - p.bot}
}

// axes describes the plot for a zooming script.
func (p *plot) axes(zoomX, zoomY bool) *Axes {
	return &Axes{Areas: [][4]float64{p.area()}, X: Range{p.x0, p.x1}, Y: Range{p.y0, p.y1},
		ZoomX: zoomX, ZoomY: zoomY, Zoomed: p.clip, Series: p.series}
}

// inside says whether data point (x, y) is drawn: always, unless the plot
// is zoomed and the point lies outside the box.
func (p *plot) inside(x, y float64) bool {
	return !p.clip || (x >= p.x0 && x <= p.x1 && y >= p.y0 && y <= p.y1)
}

// visible trims a curve whose xs ascend to the points a zoomed plot can
// show: those inside its x range, plus one on either side so that the
// line still reaches the edges. Unzoomed, it returns the curve as it is.
func (p *plot) visible(xs, ys []float64) ([]float64, []float64) {
	if !p.clip {
		return xs, ys
	}
	i, j := 0, len(xs)
	for i < len(xs) && xs[i] < p.x0 {
		i++
	}
	for j > i && xs[j-1] > p.x1 {
		j--
	}
	return xs[max(0, i-1):min(len(xs), j+1)], ys[max(0, i-1):min(len(ys), j+1)]
}

// clipLine cuts a polyline at the zoom box: the runs of it inside, each
// ending where it crosses an edge. A single point is kept if inside.
func (p *plot) clipLine(xs, ys []float64) [][2][]float64 {
	if len(xs) == 1 {
		if p.inside(xs[0], ys[0]) {
			return [][2][]float64{{xs, ys}}
		}
		return nil
	}
	var runs [][2][]float64
	var cx, cy []float64
	flush := func() {
		if len(cx) > 0 {
			runs = append(runs, [2][]float64{cx, cy})
		}
		cx, cy = nil, nil
	}
	for i := 1; i < len(xs); i++ {
		ax, ay, bx, by, ok := clipSegment(xs[i-1], ys[i-1], xs[i], ys[i], p.x0, p.x1, p.y0, p.y1)
		if !ok {
			flush()
			continue
		}
		if n := len(cx); n == 0 || cx[n-1] != ax || cy[n-1] != ay {
			flush()
			cx, cy = []float64{ax}, []float64{ay}
		}
		cx, cy = append(cx, bx), append(cy, by)
	}
	flush()
	return runs
}

// clipSegment clips the segment (x0,y0)-(x1,y1) to the box
// [xmin,xmax]×[ymin,ymax] (Liang-Barsky). Ends inside are returned
// unchanged, so consecutive segments still join exactly.
func clipSegment(x0, y0, x1, y1, xmin, xmax, ymin, ymax float64) (ax, ay, bx, by float64, ok bool) {
	t0, t1 := 0.0, 1.0
	dx, dy := x1-x0, y1-y0
	for _, e := range [4][2]float64{{-dx, x0 - xmin}, {dx, xmax - x0}, {-dy, y0 - ymin}, {dy, ymax - y0}} {
		d, q := e[0], e[1]
		if d == 0 {
			if q < 0 {
				return 0, 0, 0, 0, false
			}
			continue
		}
		t := q / d
		if d < 0 {
			t0 = math.Max(t0, t)
		} else {
			t1 = math.Min(t1, t)
		}
		if t0 > t1 {
			return 0, 0, 0, 0, false
		}
	}
	ax, ay, bx, by = x0, y0, x1, y1
	if t0 > 0 {
		ax, ay = x0+t0*dx, y0+t0*dy
	}
	if t1 < 1 {
		bx, by = x0+t1*dx, y0+t1*dy
	}
	return ax, ay, bx, by, true
}

// barsIn keeps the timeline bars a zoomed plot shows (all, unzoomed).
func (p *plot) barsIn(bars []timelineBar, div float64) []timelineBar {
	if !p.clip {
		return bars
	}
	var in []timelineBar
	for _, b := range bars {
		if _, _, ok := p.clampSpan(b.start/div, b.end/div); ok {
			in = append(in, b)
		}
	}
	return in
}

// clampSpan cuts the data interval [a, b] to a zoomed plot's x range; ok
// is false when nothing of it is left.
func (p *plot) clampSpan(a, b float64) (float64, float64, bool) {
	if !p.clip {
		return a, b, true
	}
	a, b = math.Max(a, p.x0), math.Min(b, p.x1)
	return a, b, a <= b
}

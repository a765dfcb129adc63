package reports

import (
	"fmt"
	"math"
	"sort"
)

// This file draws the value landscape over the parameters: Optuna's slice
// plot (value against each parameter) and contour plot (value over the two
// most important parameters), from the complete trials of view
// report_trials.

// slicePanelMax is the most trials one slice panel draws (see maxDrawn).
const slicePanelMax = 400

// sliceFigure draws the final value of each complete trial against each
// parameter, one small panel per parameter, most important first. Panels
// share the value axis so they compare. A categorical choice has its own
// tick, and its trials spread a little sideways so that they do not hide
// each other. Colour is the trial number (light = early), which shows where
// the sampler moved. A conditional parameter's panel holds only the trials
// that sampled it. z zooms the shared value axis (z.X is ignored).
func (r *Report) sliceFigure(z Zoom) (Figure, bool) {
	trials := completeTrials(r.Trials)
	if len(trials) == 0 || len(r.Params) == 0 {
		return Figure{}, false
	}
	sortByValue(trials, r.Study.Direction != "minimize") // best first, for thin
	var names []string
	for _, p := range r.Params {
		names = append(names, p.Name)
	}
	names = byImportance(names, r.Importance)
	var vals []float64
	maxNum := 1
	for _, t := range trials {
		vals = append(vals, *t.Value)
		maxNum = max(maxNum, t.Number)
	}
	v0, v1 := rangeOf(vals)
	const cols, pw, ph, head = 4, 280.0, 210.0, 26.0
	rows := (len(names) + cols - 1) / cols
	out := &plot{w: cols * pw, h: head + float64(rows)*ph, left: 10}
	fmt.Fprintf(&out.b, `<text x="10" y="18" class="title">Slice: final %s against each parameter (complete trials)</text>`, esc(r.Study.Metric))
	drawnMax := 0
	var axes *Axes
	for i, name := range names {
		p, _ := paramByName(r.Params, name)
		pl, drawn := slicePanel(p, trials, r.Study.Metric, v0, v1, maxNum, z.Y)
		drawnMax = max(drawnMax, drawn)
		x, y := float64(i%cols)*pw, head+float64(i/cols)*ph
		out.b.WriteString(pl.panel(x, y))
		if axes == nil {
			axes = pl.axes(false, true)
			axes.Areas = nil
		}
		a := pl.area()
		axes.Areas = append(axes.Areas, [4]float64{x + a[0], y + a[1], x + a[2], y + a[3]})
	}
	note := "view report_trials; one panel per parameter, most important first; colour = trial number (light = early, dark = late); a conditional parameter's panel has only the trials that sampled it"
	if drawnMax < len(trials) {
		note += fmt.Sprintf("; drawn per panel: at most %d of %d trials (the best and an even sample of the rest)", drawnMax, len(trials))
	}
	return Figure{ID: "slice", Note: note, SVG: out.svg(), Axes: axes}, true
}

// slicePanel draws one parameter's panel; trials are sorted best first.
// It returns the panel and how many trials it drew. A non-nil zoom
// narrows the value axis to it.
func slicePanel(p ParamRow, trials []TrialRow, metric string, v0, v1 float64, maxNum int, zoom *Range) (*plot, int) {
	axis := newParamAxis(p, trials)
	type point struct {
		u float64
		t TrialRow
	}
	var pts []point
	sampled := 0
	for _, t := range trials {
		if u, ok := axis.pos(t.Params[p.Name]); ok {
			sampled++
			if zoom == nil || (*t.Value >= zoom.Lo && *t.Value <= zoom.Hi) {
				pts = append(pts, point{u, t})
			}
		}
	}
	title := p.Name
	if sampled < len(trials) {
		title = fmt.Sprintf("%s (%d of %d)", p.Name, sampled, len(trials))
	}
	pl := newPlot(clipText(title, 40, false), "", metric, 0, 1, v0, v1)
	pl.w, pl.h, pl.left, pl.right, pl.top, pl.bot = 280, 210, 50, 12, 26, 24
	pl.zoomTo(Zoom{Y: zoom})
	pl.xTicks = axis.ticks()
	pl.frame()
	drawn := thin(len(pts), slicePanelMax, func(i int) bool { return i < pinnedBest })
	// Draw in trial order, so that late trials lie on top of early ones.
	sort.Slice(drawn, func(i, j int) bool { return pts[drawn[i]].t.Number < pts[drawn[j]].t.Number })
	for _, i := range drawn {
		pt := pts[i]
		u := pt.u
		if k := axis.bands(); k > 0 {
			// Golden-ratio jitter: deterministic, spread evenly over
			// half the choice's band.
			frac := math.Mod(float64(pt.t.Number)*0.6180339887, 1)
			u += (frac - 0.5) * 0.5 / float64(k)
		}
		pl.dot(u, *pt.t.Value, 2.2, ramp(float64(pt.t.Number)/float64(maxNum)),
			fmt.Sprintf("trial %d: %.4f, %s=%s", pt.t.Number, *pt.t.Value, p.Name, formatValue(p, pt.t.Params[p.Name])))
	}
	return pl, len(drawn)
}

// contourFigure draws the two most important parameters against each
// other as a binned grid, not an interpolated surface: a cell's colour is
// the mean final value of the complete trials inside it, and a cell no
// trial reached stays blank, so the picture never invents values where the
// sampler did not look. A categorical parameter has one cell per choice; a
// numeric one cells of equal width on its (log) axis, more with more trials
// (3 to 20). Dots are the trials. Needs an importance estimate (at least
// minImportanceTrials complete trials) and two parameters.
func (r *Report) contourFigure() (Figure, bool) {
	if len(r.Importance) < 2 {
		return Figure{}, false
	}
	pa, _ := paramByName(r.Params, r.Importance[0].Param)
	pb, _ := paramByName(r.Params, r.Importance[1].Param)
	trials := completeTrials(r.Trials)
	maximize := r.Study.Direction != "minimize"
	sortByValue(trials, maximize)
	ax, ay := newParamAxis(pa, trials), newParamAxis(pb, trials)
	type point struct {
		u, v float64
		t    TrialRow
	}
	var pts []point
	for _, t := range trials {
		u, okU := ax.pos(t.Params[pa.Name])
		v, okV := ay.pos(t.Params[pb.Name])
		if okU && okV {
			pts = append(pts, point{u, v, t})
		}
	}
	if len(pts) < 2 {
		return Figure{}, false
	}
	g := min(20, max(3, int(math.Sqrt(float64(len(pts))/2))))
	nx, ny := g, g
	if k := ax.bands(); k > 0 {
		nx = k
	}
	if k := ay.bands(); k > 0 {
		ny = k
	}
	type cell struct {
		sum, best float64
		n         int
	}
	cells := make([]cell, nx*ny)
	at := func(u float64, n int) int { return min(n-1, int(u*float64(n))) }
	for _, pt := range pts {
		c := &cells[at(pt.v, ny)*nx+at(pt.u, nx)]
		if c.n == 0 || better(*pt.t.Value, c.best, maximize) {
			c.best = *pt.t.Value
		}
		c.sum += *pt.t.Value
		c.n++
	}
	var means []float64
	for _, c := range cells {
		if c.n > 0 {
			means = append(means, c.sum/float64(c.n))
		}
	}
	m0, m1 := rangeOf(means)
	p := &plot{w: 560, h: 400, left: 64, right: 84, top: 30, bot: 42, x0: 0, x1: 1, y0: 0, y1: 1,
		title:  clipText("Contour: "+pa.Name+" × "+pb.Name, 60, false),
		xlabel: pa.Name, ylabel: pb.Name, xTicks: ax.ticks(), yTicks: ay.ticks()}
	p.frame()
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			c := cells[j*nx+i]
			if c.n == 0 {
				continue
			}
			mean := c.sum / float64(c.n)
			p.rect(float64(i)/float64(nx), float64(i+1)/float64(nx), float64(j)/float64(ny), float64(j+1)/float64(ny), 0,
				viridis(valueShade(unit(mean, m0, m1), maximize)),
				fmt.Sprintf("mean %.4f of %d trials, best %.4f", mean, c.n, c.best))
		}
	}
	drawn := thin(len(pts), maxDrawn, func(i int) bool { return i < pinnedBest })
	for _, i := range drawn {
		pt := pts[i]
		p.dot(pt.u, pt.v, 1.6, "#222222", fmt.Sprintf("trial %d: %.4f", pt.t.Number, *pt.t.Value))
	}
	p.colorBar(m0, m1, maximize)
	note := fmt.Sprintf("view report_trials; binned, not interpolated: a cell's colour is the mean %s of the complete trials in it "+
		"(yellow = best; hover for count and best), blank = no trial there; the two most important parameters; %d of %d complete trials sampled both",
		r.Study.Metric, len(pts), len(trials))
	return Figure{ID: "contour", Note: note + sampleNote(len(drawn), len(pts)), SVG: p.svg()}, true
}

// colorBar draws the viridis scale from lo (bottom) to hi (top) in the
// right margin.
func (p *plot) colorBar(lo, hi float64, maximize bool) {
	const steps = 12
	x := p.w - p.right + 16
	height := (p.h - p.top - p.bot) / steps
	for k := 0; k < steps; k++ {
		u := (float64(k) + 0.5) / steps
		y := p.h - p.bot - float64(k+1)*height
		fmt.Fprintf(&p.b, `<rect x="%g" y="%s" width="12" height="%s" fill="%s"/>`, x, num(y), num(height+0.5), viridis(valueShade(u, maximize)))
	}
	fmt.Fprintf(&p.b, `<text x="%g" y="%g" class="tick">%s</text>`, x+15, p.top+8, formatFloat(hi))
	fmt.Fprintf(&p.b, `<text x="%g" y="%g" class="tick">%s</text>`, x+15, p.h-p.bot, formatFloat(lo))
}

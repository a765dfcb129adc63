package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Figure is one titled SVG chart of the HTML report. A figure with no SVG
// is a note saying why there is nothing to draw.
type Figure struct {
	ID   string
	Note string // shown under the chart: where the numbers come from
	SVG  string
	// Axes is set on the charts that can zoom (see ZoomFigure); it is
	// not part of the SVG.
	Axes *Axes
}

// Down-sampling. One SVG mark per trial makes a 10,000-trial report a page
// of tens of megabytes that browsers draw slowly, while a chart a few
// hundred pixels wide cannot show more than about a thousand marks apart.
// Past maxDrawn trials a figure draws the pinnedBest best trials and an
// even sample of the rest, and its note says how many it drew.
const (
	maxDrawn   = 1000
	pinnedBest = 100
	// maxCurvePoints is the most points drawn of one trial's curve.
	maxCurvePoints = 200
)

// Figures returns the HTML report's charts in reading order; the best
// trial's training curves (metricFigures) come last.
func (r *Report) Figures() []Figure {
	figs := []Figure{r.historyFigure(Zoom{}), r.curvesFigure(Zoom{}), r.parallelFigure()}
	if len(r.Importance) > 0 {
		figs = append(figs, r.importanceFigure())
	}
	contour := func(Zoom) (Figure, bool) { return r.contourFigure() }
	for _, f := range []func(Zoom) (Figure, bool){r.sliceFigure, contour, r.edfFigure, r.timelineFigure} {
		if fig, ok := f(Zoom{}); ok {
			figs = append(figs, fig)
		}
	}
	return append(figs, r.metricFigures(Zoom{})...)
}

// thin returns the ascending indices of the items to draw out of n: all
// of them up to limit, else every item keep selects and an even sample of
// the others filling the limit. It is deterministic, so goldens hold.
func thin(n, limit int, keep func(i int) bool) []int {
	out := make([]int, 0, min(n, limit))
	if n <= limit {
		for i := 0; i < n; i++ {
			out = append(out, i)
		}
		return out
	}
	var rest []int
	for i := 0; i < n; i++ {
		if keep != nil && keep(i) {
			out = append(out, i)
		} else {
			rest = append(rest, i)
		}
	}
	if budget := limit - len(out); budget > 0 && len(rest) > 0 {
		for k := 0; k < budget; k++ {
			out = append(out, rest[k*len(rest)/budget])
		}
	}
	sort.Ints(out)
	return out
}

// sampleNote is the caption suffix of a down-sampled figure.
func sampleNote(drawn, total int) string {
	if drawn >= total {
		return ""
	}
	return fmt.Sprintf("; drawn: %d of %d trials (the best and an even sample of the rest)", drawn, total)
}

// topNumbers returns the numbers of the n best complete trials.
func topNumbers(trials []TrialRow, maximize bool, n int) map[int]bool {
	c := completeTrials(trials)
	sortByValue(c, maximize)
	set := map[int]bool{}
	for i := 0; i < len(c) && i < n; i++ {
		set[c[i].Number] = true
	}
	return set
}

// historyFigure plots every finished trial's value by trial number and the
// best-so-far line (view report_history), zoomed to z.
func (r *Report) historyFigure(z Zoom) Figure {
	var rows []HistoryRow
	var xs, ys, bx, by []float64
	var prev *float64
	improved := map[int]bool{}
	for i, h := range r.History {
		if h.Value != nil {
			rows = append(rows, h)
			xs, ys = append(xs, float64(h.Number)), append(ys, *h.Value)
		}
		// The staircase needs only the trials where the best changed, and
		// the last one to carry the line to the end.
		if h.BestSoFar != nil && (prev == nil || *h.BestSoFar != *prev || i == len(r.History)-1) {
			if prev == nil || *h.BestSoFar != *prev {
				improved[h.Number] = true
			}
			bx, by = append(bx, float64(h.Number)), append(by, *h.BestSoFar)
			prev = h.BestSoFar
		}
	}
	if len(rows) == 0 {
		return Figure{ID: "history", Note: "No trial has finished with a value yet (view report_history), so there is no history to draw."}
	}
	x0, x1 := rangeOf(xs)
	y0, y1 := rangeOf(ys)
	p := newPlot("Optimisation history", "trial number", r.Study.Metric, x0, x1, y0, y1)
	p.zoomTo(z)
	p.frame()
	if p.clip {
		// Thin among the trials in the box: zooming in shows more of them.
		var in []HistoryRow
		for _, h := range rows {
			if p.inside(float64(h.Number), *h.Value) {
				in = append(in, h)
			}
		}
		rows = in
	}
	top := topNumbers(r.Trials, r.Study.Direction != "minimize", pinnedBest)
	drawn := thin(len(rows), maxDrawn, func(i int) bool { return top[rows[i].Number] || improved[rows[i].Number] })
	var complete, other bool
	for _, i := range drawn {
		h := rows[i]
		col, rad := colBlue, 2.6
		if h.State != "COMPLETE" {
			col, rad = colGrey, 2
		}
		complete, other = complete || h.State == "COMPLETE", other || h.State != "COMPLETE"
		p.dot(float64(h.Number), *h.Value, rad, col, fmt.Sprintf("trial %d %s %.4f", h.Number, h.State, *h.Value))
	}
	sx, sy := stepLine(bx, by)
	p.line(sx, sy, colOrange, 2, 1, "best so far")
	p.legend(legendItems(legendEntry{complete, colBlue, "complete"},
		legendEntry{other, colGrey, "pruned (last value)"}, legendEntry{len(bx) > 0, colOrange, "best"})...)
	return Figure{ID: "history", Note: "view report_history" + sampleNote(len(drawn), len(rows)), SVG: p.svg(), Axes: p.axes(true, true)}
}

// legendEntry is one series of a legend; show says whether it has data.
type legendEntry struct {
	show         bool
	color, label string
}

// legendItems keeps the entries with data, as (colour, label) pairs for
// plot.legend, so that a legend never lists an empty series.
func legendItems(entries ...legendEntry) []string {
	var out []string
	for _, e := range entries {
		if e.show {
			out = append(out, e.color, e.label)
		}
	}
	return out
}

// stepLine turns points into a staircase (best-so-far changes only at trials).
func stepLine(xs, ys []float64) ([]float64, []float64) {
	var sx, sy []float64
	for i := range xs {
		if i > 0 {
			sx, sy = append(sx, xs[i]), append(sy, ys[i-1])
		}
		sx, sy = append(sx, xs[i]), append(sy, ys[i])
	}
	return sx, sy
}

// curvesFigure plots each trial's intermediate values (view report_curves);
// pruned trials end in a red ×, failed ones are grey, the best trial is
// drawn on top. A study whose objective reported no intermediate values
// gets a note instead of empty axes. Zoomed to z, it draws the curves
// that cross the box.
func (r *Report) curvesFigure(z Zoom) Figure {
	if len(r.Curves) == 0 {
		return Figure{ID: "curves", Note: "No intermediate values were reported (view report_curves is empty for this study), so there are no learning curves to draw."}
	}
	state := map[int]string{}
	for _, t := range r.Trials {
		state[t.Number] = t.State
	}
	var steps, vals []float64
	for _, c := range r.Curves {
		steps, vals = append(steps, float64(c.Step)), append(vals, c.Value)
	}
	x0, x1 := rangeOf(steps)
	y0, y1 := rangeOf(vals)
	p := newPlot("Intermediate values per trial", "epoch", r.Study.Metric, x0, x1, y0, y1)
	p.zoomTo(z)
	p.frame()
	best := -1
	if r.Best != nil {
		best = r.Best.Number
	}
	type curve struct {
		num    int
		xs, ys []float64
	}
	var curves []curve
	forEachCurve(r.Curves, func(num int, xs, ys []float64) {
		if xs, ys = p.visible(xs, ys); p.clip && len(p.clipLine(xs, ys)) == 0 {
			return
		}
		curves = append(curves, curve{num, xs, ys})
	})
	top := topNumbers(r.Trials, r.Study.Direction != "minimize", pinnedBest)
	drawn := thin(len(curves), maxDrawn, func(i int) bool { return top[curves[i].num] })
	var complete, pruned bool
	others := map[string]bool{} // failed or running trials, by state
	var bx, by []float64
	for _, i := range drawn {
		c := curves[i]
		xs, ys := thinPoints(c.xs, c.ys, maxCurvePoints)
		switch st := state[c.num]; {
		case c.num == best:
			bx, by = xs, ys
		case st == "PRUNED":
			pruned = true
			p.line(xs, ys, colRed, 1, 0.35, fmt.Sprintf("trial %d (pruned)", c.num))
			p.cross(xs[len(xs)-1], ys[len(ys)-1], 2.5, colRed)
		case st == "COMPLETE":
			complete = true
			p.line(xs, ys, colBlue, 1, 0.35, fmt.Sprintf("trial %d", c.num))
		default:
			others[strings.ToLower(st)] = true
			p.line(xs, ys, colGrey, 1, 0.5, fmt.Sprintf("trial %d (%s)", c.num, st))
		}
	}
	p.line(bx, by, colOrange, 2.5, 1, fmt.Sprintf("best trial %d", best))
	var other []string
	for st := range others {
		other = append(other, st)
	}
	sort.Strings(other)
	p.legend(legendItems(legendEntry{complete, colBlue, "complete"}, legendEntry{pruned, colRed, "pruned ×"},
		legendEntry{len(other) > 0, colGrey, strings.Join(other, "/")}, legendEntry{len(bx) > 0, colOrange, "best"})...)
	return Figure{ID: "curves", Note: "view report_curves" + sampleNote(len(drawn), len(curves)), SVG: p.svg(), Axes: p.axes(true, true)}
}

// thinPoints keeps at most limit points of a curve, evenly spaced, always
// with its last point (where a pruned trial stopped).
func thinPoints(xs, ys []float64, limit int) ([]float64, []float64) {
	if len(xs) <= limit {
		return xs, ys
	}
	idx := thin(len(xs), limit, func(i int) bool { return i == len(xs)-1 })
	ox, oy := make([]float64, len(idx)), make([]float64, len(idx))
	for k, i := range idx {
		ox[k], oy[k] = xs[i], ys[i]
	}
	return ox, oy
}

// forEachCurve calls fn with each trial's steps and values; curves must be
// sorted by number then step.
func forEachCurve(curves []CurvePoint, fn func(num int, xs, ys []float64)) {
	for i := 0; i < len(curves); {
		j := i
		var xs, ys []float64
		for ; j < len(curves) && curves[j].Number == curves[i].Number; j++ {
			xs, ys = append(xs, float64(curves[j].Step)), append(ys, curves[j].Value)
		}
		fn(curves[i].Number, xs, ys)
		i = j
	}
}

// importanceFigure draws the importance shares as horizontal bars.
func (r *Report) importanceFigure() Figure {
	rowH := 22.0
	p := &plot{w: 560, h: 40 + rowH*float64(len(r.Importance)), left: 130, right: 60, top: 30}
	fmt.Fprintf(&p.b, `<text x="10" y="18" class="title">Parameter importance (PED-ANOVA)</text>`)
	maxShare := 0.0
	for _, im := range r.Importance {
		maxShare = math.Max(maxShare, im.Share)
	}
	if maxShare == 0 {
		maxShare = 1
	}
	width := p.w - p.left - p.right
	for i, im := range r.Importance {
		y := p.top + float64(i)*rowH
		fmt.Fprintf(&p.b, `<text x="%g" y="%g" class="label" text-anchor="end">%s</text>`, p.left-6, y+14, esc(im.Param))
		fmt.Fprintf(&p.b, `<rect x="%g" y="%g" width="%s" height="%g" fill="%s"><title>%s %s</title></rect>`,
			p.left, y+3, num(width*im.Share/maxShare), rowH-7, colBlue, esc(im.Param), formatShare(im.Share))
		fmt.Fprintf(&p.b, `<text x="%s" y="%g" class="tick">%s</text>`, num(p.left+width*im.Share/maxShare+4), y+14, formatShare(im.Share))
	}
	return Figure{ID: "importance", Note: "computed from view report_trials (see docs/reports.md)", SVG: p.svg()}
}

// metricFigures plots the best trial's training curves from trial_metrics
// (view report_metrics): learning rate, gradient norm, losses. A study
// without stored metrics gets one figure saying so. z zooms each chart.
func (r *Report) metricFigures(z Zoom) []Figure {
	series := map[string][][2]float64{}
	for _, m := range r.BestMetrics {
		series[m.Name] = append(series[m.Name], [2]float64{float64(m.Step), m.Value})
	}
	best := -1
	if r.Best != nil {
		best = r.Best.Number
	}
	panels := []struct {
		id, title, ylabel string
		names             []string
	}{
		{"lr", "Learning rate of the best trial", "lr", []string{"lr"}},
		{"grad_norm", "Gradient norm of the best trial", "global L2 norm", []string{"grad_norm"}},
		{"loss", "Losses of the best trial", "loss", []string{"train_loss", "val_loss"}},
	}
	var figs []Figure
	for _, pn := range panels {
		var xs, ys []float64
		for _, name := range pn.names {
			for _, pt := range series[name] {
				xs, ys = append(xs, pt[0]), append(ys, pt[1])
			}
		}
		if len(xs) == 0 {
			continue
		}
		x0, x1 := rangeOf(xs)
		y0, y1 := rangeOf(ys)
		p := newPlot(fmt.Sprintf("%s (trial %d)", pn.title, best), "epoch", pn.ylabel, x0, x1, y0, y1)
		p.zoomTo(z)
		p.frame()
		var legend []string
		for i, name := range pn.names {
			if len(series[name]) == 0 {
				// The synthetic objective stores val_loss only: a
				// train_loss entry would name a line that is not there.
				continue
			}
			col := []string{colBlue, colOrange}[i%2]
			var sx, sy []float64
			for _, pt := range series[name] {
				sx, sy = append(sx, pt[0]), append(sy, pt[1])
			}
			sx, sy = p.visible(sx, sy)
			sx, sy = thinPoints(sx, sy, maxCurvePoints)
			p.line(sx, sy, col, 1.8, 1, name)
			legend = append(legend, col, name)
		}
		p.legend(legend...)
		figs = append(figs, Figure{ID: pn.id, Note: "view report_metrics", SVG: p.svg(), Axes: p.axes(true, true)})
	}
	if len(figs) == 0 {
		figs = append(figs, Figure{ID: "metrics",
			Note: fmt.Sprintf("No per-step training metrics (lr, grad_norm, losses) were stored for trial %d; objectives that record them (cifar10) get curves here.", best)})
	}
	return figs
}

// edfMaxPoints is the most steps drawn of the EDF (a chart this wide shows
// no more).
const edfMaxPoints = 500

// edfFigure draws Optuna's empirical distribution function of the final
// values of complete trials: at each value x, the share of trials whose
// value is at most x. It shows at a glance how many trials came close to
// the best, which a best-so-far line hides. z zooms it.
func (r *Report) edfFigure(z Zoom) (Figure, bool) {
	trials := completeTrials(r.Trials)
	if len(trials) == 0 {
		return Figure{}, false
	}
	vals := make([]float64, len(trials))
	for i, t := range trials {
		vals[i] = *t.Value
	}
	sort.Float64s(vals)
	n := len(vals)
	// Zoomed in x, thin among the values in the range (and one either
	// side), so that zooming in shows every step there.
	from, to := 0, n
	if z.X != nil {
		from = max(0, sort.SearchFloat64s(vals, z.X.Lo)-1)
		to = min(n, sort.Search(n, func(i int) bool { return vals[i] > z.X.Hi })+1)
	}
	idx := thin(to-from, edfMaxPoints, func(i int) bool { return i == 0 || i == to-from-1 })
	for k := range idx {
		idx[k] += from
	}
	xs, ys := []float64{vals[from]}, []float64{float64(from) / float64(n)}
	for _, i := range idx {
		xs, ys = append(xs, vals[i]), append(ys, float64(i+1)/float64(n))
	}
	sx, sy := stepLine(xs, ys)
	p := newPlot("Empirical distribution of "+r.Study.Metric, r.Study.Metric, "share of trials ≤ x", vals[0], vals[n-1], 0, 1)
	p.zoomTo(z)
	p.frame()
	p.line(sx, sy, colBlue, 2, 1, "")
	note := fmt.Sprintf("view report_trials; %d complete trials; y = share whose final %s is at most x", n, r.Study.Metric)
	if len(idx) < n {
		note += fmt.Sprintf("; drawn through %d of the %d sorted values", len(idx), n)
	}
	return Figure{ID: "edf", Note: note, SVG: p.svg(), Axes: p.axes(true, true)}, true
}

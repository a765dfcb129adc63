package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Figure is one titled SVG chart of the HTML report.
type Figure struct {
	ID   string
	Note string // shown under the chart: where the numbers come from
	SVG  string
}

// Figures returns the HTML report's charts in reading order.
func (r *Report) Figures() []Figure {
	figs := []Figure{r.historyFigure(), r.curvesFigure(), r.parallelFigure()}
	if len(r.Importance) > 0 {
		figs = append(figs, r.importanceFigure())
	}
	return append(figs, r.metricFigures()...)
}

// historyFigure plots every finished trial's value by trial number and the
// best-so-far line (view report_history).
func (r *Report) historyFigure() Figure {
	var xs, ys, bx, by []float64
	for _, h := range r.History {
		if h.Value != nil {
			xs, ys = append(xs, float64(h.Number)), append(ys, *h.Value)
		}
		if h.BestSoFar != nil {
			bx, by = append(bx, float64(h.Number)), append(by, *h.BestSoFar)
		}
	}
	x0, x1 := rangeOf(xs)
	y0, y1 := rangeOf(ys)
	p := newPlot("Optimisation history", "trial number", r.Study.Metric, x0, x1, y0, y1)
	p.frame()
	for _, h := range r.History {
		if h.Value == nil {
			continue
		}
		col, rad := colBlue, 2.6
		if h.State != "COMPLETE" {
			col, rad = colGrey, 2
		}
		p.dot(float64(h.Number), *h.Value, rad, col, fmt.Sprintf("trial %d %s %.4f", h.Number, h.State, *h.Value))
	}
	sx, sy := stepLine(bx, by)
	p.line(sx, sy, colOrange, 2, 1, "best so far")
	p.legend(colBlue, "complete", colGrey, "pruned (last value)", colOrange, "best")
	return Figure{ID: "history", Note: "view report_history", SVG: p.svg()}
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
// pruned trials end in a red ×, the best trial is drawn on top.
func (r *Report) curvesFigure() Figure {
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
	p.frame()
	best := -1
	if r.Best != nil {
		best = r.Best.Number
	}
	var bx, by []float64
	forEachCurve(r.Curves, func(num int, xs, ys []float64) {
		if num == best {
			bx, by = xs, ys
			return
		}
		if state[num] == "PRUNED" {
			p.line(xs, ys, colRed, 1, 0.35, fmt.Sprintf("trial %d (pruned)", num))
			p.cross(xs[len(xs)-1], ys[len(ys)-1], 2.5, colRed)
			return
		}
		p.line(xs, ys, colBlue, 1, 0.35, fmt.Sprintf("trial %d", num))
	})
	p.line(bx, by, colOrange, 2.5, 1, fmt.Sprintf("best trial %d", best))
	p.legend(colBlue, "complete", colRed, "pruned ×", colOrange, "best")
	return Figure{ID: "curves", Note: "view report_curves", SVG: p.svg()}
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

// parallelFigure draws complete trials across one vertical axis per key
// parameter plus the metric, coloured by value (view report_trials).
func (r *Report) parallelFigure() Figure {
	var axes []ParamRow
	for _, name := range r.KeyParams {
		p, _ := paramByName(r.Params, name)
		axes = append(axes, p)
	}
	trials := completeTrials(r.Trials)
	maximize := r.Study.Direction != "minimize"
	// Worst first, so the best lines end up on top.
	sortByValue(trials, !maximize)
	var vals []float64
	for _, t := range trials {
		vals = append(vals, *t.Value)
	}
	v0, v1 := rangeOf(vals)
	p := &plot{w: 1120, h: 300, left: 40, right: 70, top: 34, bot: 40, title: "Parallel coordinates (complete trials)"}
	fmt.Fprintf(&p.b, `<text x="%g" y="18" class="title">%s</text>`, p.left, esc(p.title))
	n := len(axes) + 1
	ax := func(i int) float64 { return p.left + float64(i)*(p.w-p.left-p.right)/math.Max(1, float64(n-1)) }
	ay := func(u float64) float64 { return p.h - p.bot - u*(p.h-p.top-p.bot) }
	scales := make([]func(any) float64, len(axes))
	for i, a := range axes {
		scales[i] = axisScale(a, trials)
	}
	for _, t := range trials {
		var pts []string
		for i := range axes {
			if v, ok := t.Params[axes[i].Name]; ok && v != nil {
				pts = append(pts, num(ax(i))+","+num(ay(scales[i](v))))
			}
		}
		u := unit(*t.Value, v0, v1)
		pts = append(pts, num(ax(n-1))+","+num(ay(u)))
		fmt.Fprintf(&p.b, `<polyline fill="none" points="%s" stroke="%s" stroke-opacity="0.55" stroke-width="1"><title>trial %d: %.4f</title></polyline>`,
			strings.Join(pts, " "), viridis(valueShade(u, maximize)), t.Number, *t.Value)
	}
	for i := 0; i < n; i++ {
		name, lo, hi := r.Study.Metric, formatFloat(v0), formatFloat(v1)
		if i < len(axes) {
			name, lo, hi = axes[i].Name, axisLabel(axes[i], trials, false), axisLabel(axes[i], trials, true)
		}
		x := ax(i)
		fmt.Fprintf(&p.b, `<line x1="%s" x2="%s" y1="%g" y2="%g" class="axis"/>`, num(x), num(x), p.top, p.h-p.bot)
		fmt.Fprintf(&p.b, `<text x="%s" y="%g" class="label" text-anchor="middle">%s</text>`, num(x), p.h-p.bot+16, esc(name))
		fmt.Fprintf(&p.b, `<text x="%s" y="%g" class="tick">%s</text>`, num(x+3), p.top+8, esc(hi))
		fmt.Fprintf(&p.b, `<text x="%s" y="%g" class="tick">%s</text>`, num(x+3), p.h-p.bot-2, esc(lo))
	}
	return Figure{ID: "parallel", Note: "view report_trials; colour = " + r.Study.Metric + " (yellow = best)", SVG: p.svg()}
}

// valueShade maps a value's position in the range so that yellow is best.
func valueShade(u float64, maximize bool) float64 {
	if maximize {
		return u
	}
	return 1 - u
}

func unit(v, lo, hi float64) float64 {
	if !(hi > lo) {
		return 0.5
	}
	return (v - lo) / (hi - lo)
}

// axisScale maps a parameter value to [0,1] on its axis: categorical choices
// evenly spaced, numbers by their declared (log) range.
func axisScale(p ParamRow, trials []TrialRow) func(any) float64 {
	if p.Kind == "categorical" {
		idx := choiceIndex(p, trials)
		return func(v any) float64 {
			if len(idx) < 2 {
				return 0.5
			}
			return float64(idx[fmt.Sprint(v)]) / float64(len(idx)-1)
		}
	}
	var vals []any
	for _, t := range trials {
		vals = append(vals, t.Params[p.Name])
	}
	s := unitScale(p, vals)
	return func(v any) float64 { f, _ := paramFloat(v); return s(f) }
}

// choiceIndex numbers a categorical parameter's choices: declared ones
// first, then any other value seen, sorted.
func choiceIndex(p ParamRow, trials []TrialRow) map[string]int {
	idx := map[string]int{}
	for _, c := range p.Choices {
		idx[fmt.Sprint(c)] = len(idx)
	}
	var extra []string
	seen := map[string]bool{}
	for _, t := range trials {
		if v, ok := t.Params[p.Name]; ok && v != nil {
			s := fmt.Sprint(v)
			if _, known := idx[s]; !known && !seen[s] {
				extra, seen[s] = append(extra, s), true
			}
		}
	}
	sort.Strings(extra)
	for _, e := range extra {
		idx[e] = len(idx)
	}
	return idx
}

// axisLabel is the text at the top (high) or bottom of a parameter axis.
func axisLabel(p ParamRow, trials []TrialRow, high bool) string {
	if p.Kind == "categorical" {
		idx := choiceIndex(p, trials)
		want := 0
		if high {
			want = len(idx) - 1
		}
		for k, i := range idx {
			if i == want {
				return k
			}
		}
		return ""
	}
	if p.High > p.Low {
		if high {
			return formatValue(p, p.High)
		}
		return formatValue(p, p.Low)
	}
	var vals []float64
	for _, t := range trials {
		if f, ok := paramFloat(t.Params[p.Name]); ok {
			vals = append(vals, f)
		}
	}
	lo, hi := rangeOf(vals)
	if high {
		return formatValue(p, hi)
	}
	return formatValue(p, lo)
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
// without stored metrics gets one figure saying so.
func (r *Report) metricFigures() []Figure {
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
		p.frame()
		var legend []string
		for i, name := range pn.names {
			col := []string{colBlue, colOrange}[i%2]
			var sx, sy []float64
			for _, pt := range series[name] {
				sx, sy = append(sx, pt[0]), append(sy, pt[1])
			}
			p.line(sx, sy, col, 1.8, 1, name)
			legend = append(legend, col, name)
		}
		p.legend(legend...)
		figs = append(figs, Figure{ID: pn.id, Note: "view report_metrics", SVG: p.svg()})
	}
	if len(figs) == 0 {
		figs = append(figs, Figure{ID: "metrics",
			Note: fmt.Sprintf("No per-step training metrics (lr, grad_norm, losses) were stored for trial %d; objectives that record them (cifar10) get curves here.", best)})
	}
	return figs
}

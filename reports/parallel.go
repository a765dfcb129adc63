package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// paramAxis places one parameter's values on [0,1] for the plots that put
// a parameter on an axis (parallel coordinates, slice, contour).
// Categorical choices take equal bands, in declared order and then any
// other value seen, sorted; a choice sits at its band's centre, so a
// contour cell is one band. Numbers take their declared range (the values
// seen when none is declared), log-scaled for log parameters.
type paramAxis struct {
	p      ParamRow
	names  []string       // categorical: the choices, one per band
	index  map[string]int // categorical: choice → band
	lo, hi float64        // numeric: the range mapped onto [0,1]
	log    bool
}

func newParamAxis(p ParamRow, trials []TrialRow) paramAxis {
	a := paramAxis{p: p}
	if p.Kind == "categorical" {
		a.index = map[string]int{}
		add := func(s string) {
			if _, ok := a.index[s]; !ok {
				a.index[s] = len(a.names)
				a.names = append(a.names, s)
			}
		}
		for _, c := range p.Choices {
			add(fmt.Sprint(c))
		}
		var extra []string
		for _, t := range trials {
			if v, ok := t.Params[p.Name]; ok && v != nil {
				if _, known := a.index[fmt.Sprint(v)]; !known {
					extra = append(extra, fmt.Sprint(v))
				}
			}
		}
		sort.Strings(extra)
		for _, e := range extra {
			add(e)
		}
		return a
	}
	a.lo, a.hi = p.Low, p.High
	if !(a.hi > a.lo) {
		var vals []float64
		for _, t := range trials {
			if f, ok := paramFloat(t.Params[p.Name]); ok {
				vals = append(vals, f)
			}
		}
		a.lo, a.hi = rangeOf(vals)
	}
	a.log = p.Log && a.lo > 0
	return a
}

// bands is the number of categorical choices; 0 for a numeric axis.
func (a paramAxis) bands() int { return len(a.names) }

// pos returns v's position in [0,1]; false when the trial did not sample
// the parameter (nil) or the value cannot be placed.
func (a paramAxis) pos(v any) (float64, bool) {
	if v == nil {
		return 0, false
	}
	if a.index != nil {
		i, ok := a.index[fmt.Sprint(v)]
		if !ok {
			return 0, false
		}
		return (float64(i) + 0.5) / float64(len(a.names)), true
	}
	f, ok := paramFloat(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return a.unit(f), true
}

func (a paramAxis) unit(f float64) float64 {
	tr := func(x float64) float64 { return x }
	if a.log {
		tr = func(x float64) float64 { return math.Log10(math.Max(x, 1e-300)) }
	}
	lo, hi := tr(a.lo), tr(a.hi)
	if !(hi > lo) {
		return 0.5
	}
	return math.Min(1, math.Max(0, (tr(f)-lo)/(hi-lo)))
}

// ticks labels the axis: every categorical choice (labels thinned past 16
// choices, ticks kept), decades of a log axis (1-2-5 steps when it spans
// less than two), round numbers otherwise. At is in [0,1].
func (a paramAxis) ticks() []axisTick {
	var out []axisTick
	if a.index != nil {
		every := (len(a.names) + 15) / 16
		for i, name := range a.names {
			label := ""
			if i%every == 0 {
				label = clipText(name, 14, false)
			}
			out = append(out, axisTick{(float64(i) + 0.5) / float64(len(a.names)), label})
		}
		return out
	}
	var vals []float64
	if a.log {
		for _, mant := range [][]float64{{1}, {1, 2, 5}} {
			vals = vals[:0]
			for e := math.Floor(math.Log10(a.lo)); e <= math.Ceil(math.Log10(a.hi)); e++ {
				for _, m := range mant {
					if v := m * math.Pow(10, e); v >= a.lo*(1-1e-9) && v <= a.hi*(1+1e-9) {
						vals = append(vals, v)
					}
				}
			}
			if len(vals) >= 2 {
				break
			}
		}
	} else {
		for _, v := range niceTicks(a.lo, a.hi, 4) {
			if a.p.Kind != "int" || v == math.Trunc(v) {
				vals = append(vals, v)
			}
		}
	}
	if len(vals) < 2 && a.hi > a.lo {
		vals = []float64{a.lo, a.hi}
	}
	for _, v := range vals {
		label := tickLabel(v) // 0.0001 rather than the tables' 1.00e-04
		if a.p.Kind == "int" {
			label = formatValue(a.p, v)
		}
		out = append(out, axisTick{a.unit(v), label})
	}
	return out
}

// byImportance orders parameter names by importance, most important first;
// names without an importance keep their order, after the others.
func byImportance(names []string, imp []Importance) []string {
	rank := map[string]int{}
	for i, im := range imp {
		rank[im.Param] = i
	}
	out := append([]string(nil), names...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, iok := rank[out[i]]
		rj, jok := rank[out[j]]
		if iok && jok {
			return ri < rj
		}
		return iok && !jok
	})
	return out
}

// parallelFigure draws complete trials across one vertical axis for the
// metric and one per key parameter, most important first, so that the
// parameter that matters most sits next to the metric (view
// report_trials). A trial's line breaks at a parameter it did not sample (a
// conditional one) instead of crossing that axis at a made-up value.
func (r *Report) parallelFigure() Figure {
	trials := completeTrials(r.Trials)
	if len(trials) == 0 {
		return Figure{ID: "parallel", Note: "No complete trial yet (view report_trials): parallel coordinates need final values."}
	}
	sortByValue(trials, r.Study.Direction != "minimize") // best first
	names := byImportance(r.KeyParams, r.Importance)
	axes := make([]paramAxis, len(names))
	for i, name := range names {
		p, _ := paramByName(r.Params, name)
		axes[i] = newParamAxis(p, trials)
	}
	var vals []float64
	for _, t := range trials {
		vals = append(vals, *t.Value)
	}
	v0, v1 := rangeOf(vals)
	p := &plot{w: 1120, h: 330, left: 40, right: 90, top: 34, bot: 48, title: "Parallel coordinates (complete trials)"}
	fmt.Fprintf(&p.b, `<text x="%g" y="18" class="title">%s</text>`, p.left, esc(p.title))
	n := len(axes) + 1
	ax := func(i int) float64 { return p.left + float64(i)*(p.w-p.left-p.right)/math.Max(1, float64(n-1)) }
	ay := func(u float64) float64 { return p.h - p.bot - u*(p.h-p.top-p.bot) }
	drawn := thin(len(trials), maxDrawn, func(i int) bool { return i < pinnedBest })
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range xs {
		xs[i] = ax(i)
	}
	// Worst first, so the best lines end up on top.
	for k := len(drawn) - 1; k >= 0; k-- {
		t := trials[drawn[k]]
		u := unit(*t.Value, v0, v1)
		ys[0] = ay(u)
		for i, a := range axes {
			ys[i+1] = math.NaN()
			if pos, ok := a.pos(t.Params[a.p.Name]); ok {
				ys[i+1] = ay(pos)
			}
		}
		fmt.Fprintf(&p.b, `<path fill="none" d="%s" stroke="%s" stroke-opacity="0.55" stroke-width="1"><title>trial %d: %.4f</title></path>`,
			brokenPath(xs, ys), viridis(valueShade(u, r.Study.Direction != "minimize")), t.Number, *t.Value)
	}
	metricTicks := numTicks(v0, v1, 5)
	for i := range metricTicks {
		metricTicks[i].At = unit(metricTicks[i].At, v0, v1)
	}
	if len(metricTicks) == 0 && len(trials) > 0 { // one value: unit puts it mid-axis
		metricTicks = []axisTick{{0.5, formatFloat(v0)}}
	}
	p.parallelAxis(ax(0), ay, r.Study.Metric, "", metricTicks)
	for i, a := range axes {
		sub := ""
		if c := countWith(trials, a.p.Name); c < len(trials) {
			sub = fmt.Sprintf("sampled in %d of %d", c, len(trials))
		}
		p.parallelAxis(ax(i+1), ay, a.p.Name, sub, a.ticks())
	}
	note := "view report_trials; axes: " + r.Study.Metric + ", then parameters by importance; colour = " +
		r.Study.Metric + " (yellow = best); a line breaks at a parameter its trial did not sample"
	return Figure{ID: "parallel", Note: note + sampleNote(len(drawn), len(trials)), SVG: p.svg()}
}

// parallelAxis draws one vertical axis at x with its ticks (At in [0,1]),
// its name below and an optional second line.
func (p *plot) parallelAxis(x float64, ay func(float64) float64, name, sub string, ticks []axisTick) {
	fmt.Fprintf(&p.b, `<line x1="%s" x2="%s" y1="%g" y2="%g" class="axis"/>`, num(x), num(x), p.top, p.h-p.bot)
	for _, t := range ticks {
		y := ay(t.At)
		fmt.Fprintf(&p.b, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="axis"/>`, num(x-3), num(x), num(y), num(y))
		if t.Label != "" {
			fmt.Fprintf(&p.b, `<text x="%s" y="%s" class="tick">%s</text>`, num(x+4), num(y+3), esc(t.Label))
		}
	}
	fmt.Fprintf(&p.b, `<text x="%s" y="%g" class="label" text-anchor="middle">%s</text>`, num(x), p.h-p.bot+16, esc(name))
	if sub != "" {
		fmt.Fprintf(&p.b, `<text x="%s" y="%g" class="tick" text-anchor="middle">%s</text>`, num(x), p.h-p.bot+29, esc(sub))
	}
}

// brokenPath joins (xs[i], ys[i]) as an SVG path, lifting the pen across
// NaN ys: a segment only ever joins neighbouring axes. An isolated point
// gets a short dash so that its value still shows.
func brokenPath(xs, ys []float64) string {
	var b strings.Builder
	for i := range xs {
		if math.IsNaN(ys[i]) {
			continue
		}
		prev := i > 0 && !math.IsNaN(ys[i-1])
		next := i+1 < len(xs) && !math.IsNaN(ys[i+1])
		switch {
		case prev:
			b.WriteByte('L')
		case next:
			b.WriteByte('M')
		default:
			fmt.Fprintf(&b, "M%s %sm-3 0h6", num(xs[i]), num(ys[i]))
			continue
		}
		b.WriteString(num(xs[i]))
		b.WriteByte(' ')
		b.WriteString(num(ys[i]))
	}
	return b.String()
}

// countWith counts the trials that sampled param.
func countWith(trials []TrialRow, param string) int {
	n := 0
	for _, t := range trials {
		if v, ok := t.Params[param]; ok && v != nil {
			n++
		}
	}
	return n
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

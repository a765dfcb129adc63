package reports

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file renders one trial (TrialData) for the dashboard's trial page,
// and exports the value formatting the report tables use, so that another
// renderer of the same rows prints the same numbers.

// FormatParam prints a parameter value as the report tables do: ints
// without a decimal point, floats with 4 significant digits, "-" for nil.
func FormatParam(p ParamRow, v any) string { return formatValue(p, v) }

// FormatMetric prints a metric value with 4 decimals, "-" for nil.
func FormatMetric(v *float64) string { return formatMetric(v) }

// FormatDuration prints seconds compactly: 42.0s, 3m07s, 2h05m.
func FormatDuration(s float64) string { return formatDuration(s) }

// ParamFloat returns a numeric parameter value as float64; ok is false for
// a categorical choice that is not a number.
func ParamFloat(v any) (f float64, ok bool) {
	if f, ok := paramFloat(v); ok {
		return f, true
	}
	if s, isStr := v.(string); isStr {
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	return 0, false
}

// Figures returns the comparison's charts: both studies' best-so-far.
func (c *Comparison) Figures() []Figure { return []Figure{c.compareFigure(Zoom{})} }

// IsPath says whether a user attr names a file or directory a person may
// want to open (checkpoints, the trial directory, logs): the trial page
// lists those apart from the other attrs.
func IsPath(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "checkpoint") || strings.HasSuffix(k, "_dir") ||
		strings.HasSuffix(k, "_path") || strings.HasSuffix(k, "_file")
}

// Tables returns the trial's tables: the run (state, value, steps, times,
// worker, reason), the params in spec order, and the user attrs, paths
// first. Cells hold untrusted text as stored; renderers escape it.
func (d *TrialData) Tables() []Table {
	t := d.Trial
	at := func(p *time.Time) string {
		if p == nil {
			return "-"
		}
		return p.Format(time.RFC3339)
	}
	run := Table{Name: "trial", Title: fmt.Sprintf("Trial %d", t.Number), Header: []string{"field", "value"},
		Rows: [][]string{
			{"state", t.State},
			{d.Study.Metric, formatMetric(t.Value)},
			{"steps", epochs(t.Steps)},
			{"duration", formatDuration(t.DurationS)},
			{"started", at(t.Started)},
			{"finished", at(t.Finished)},
			{"worker", t.Worker},
			{"reason", t.Reason},
		}}
	params := Table{Name: "params", Title: "Params", Header: []string{"param", "value", "distribution"}}
	seen := map[string]bool{}
	for _, p := range d.Params {
		v, ok := t.Params[p.Name]
		seen[p.Name] = true
		if !ok {
			continue // a conditional param this trial did not draw
		}
		params.Rows = append(params.Rows, []string{p.Name, formatValue(p, v), distText(p)})
	}
	var rest []string
	for k := range t.Params {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		params.Rows = append(params.Rows, []string{k, fmt.Sprint(t.Params[k]), ""})
	}
	attrs := Table{Name: "attrs", Title: "Attrs and paths", Header: []string{"attr", "value"}}
	keys := make([]string, 0, len(d.Attrs))
	for k := range d.Attrs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if IsPath(keys[i]) != IsPath(keys[j]) {
			return IsPath(keys[i])
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		attrs.Rows = append(attrs.Rows, []string{k, strings.Trim(d.Attrs[k], `"`)})
	}
	return []Table{run, params, attrs}
}

// distText prints a parameter's distribution: [low, high] (log), or its
// choices.
func distText(p ParamRow) string {
	if p.Kind == "categorical" {
		parts := make([]string, len(p.Choices))
		for i, c := range p.Choices {
			parts[i] = fmt.Sprint(c)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	s := fmt.Sprintf("%s [%s, %s]", p.Kind, formatFloat(p.Low), formatFloat(p.High))
	if p.Log {
		s += " log"
	}
	return s
}

// Figures returns the trial's charts: the study metric by step (its
// intermediate values), then one chart per stored training metric, in
// name order, so every series the trial reported is drawn. A metric's
// chart has ID "metric." and the metric's name.
func (d *TrialData) Figures() []Figure { return d.figures(Zoom{}) }

// figures draws the trial's charts zoomed to z.
func (d *TrialData) figures(z Zoom) []Figure {
	var figs []Figure
	if len(d.Curve) > 0 {
		xs, ys := make([]float64, len(d.Curve)), make([]float64, len(d.Curve))
		for i, c := range d.Curve {
			xs[i], ys[i] = float64(c.Step), c.Value
		}
		figs = append(figs, seriesFigure("curve", fmt.Sprintf("%s of trial %d", d.Study.Metric, d.Trial.Number),
			d.Study.Metric, xs, ys, "view report_curves", z))
	}
	var name string
	var xs, ys []float64
	flush := func() {
		if len(xs) > 0 {
			figs = append(figs, seriesFigure("metric."+name, fmt.Sprintf("%s of trial %d", name, d.Trial.Number),
				name, xs, ys, "view report_metrics", z))
		}
		xs, ys = nil, nil
	}
	for _, m := range d.Metrics { // by name, then step
		if m.Name != name {
			flush()
			name = m.Name
		}
		xs, ys = append(xs, float64(m.Step)), append(ys, m.Value)
	}
	flush()
	if len(figs) == 0 {
		figs = append(figs, Figure{ID: "curve", Note: fmt.Sprintf("Trial %d reported no intermediate values and no training metrics yet.", d.Trial.Number)})
	}
	return figs
}

// seriesFigure draws one line of (step, value) points with its points
// marked, thinned to maxCurvePoints, zoomed to z.
func seriesFigure(id, title, ylabel string, xs, ys []float64, note string, z Zoom) Figure {
	x0, x1 := rangeOf(xs)
	y0, y1 := rangeOf(ys)
	p := newPlot(title, "step", ylabel, x0, x1, y0, y1)
	p.zoomTo(z)
	p.frame()
	sx, sy := p.visible(xs, ys)
	sx, sy = thinPoints(sx, sy, maxCurvePoints)
	p.line(sx, sy, colBlue, 1.8, 1, ylabel)
	if len(sx) <= 60 {
		for i := range sx {
			p.dot(sx[i], sy[i], 2.2, colBlue, fmt.Sprintf("step %g: %s", sx[i], strconv.FormatFloat(sy[i], 'g', 6, 64)))
		}
	}
	return Figure{ID: id, Note: note, SVG: p.svg(), Axes: p.axes(true, true)}
}

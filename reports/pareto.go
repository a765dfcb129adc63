package reports

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"sweep/internal/safetext"
	"sweep/search/mo"
)

// Pareto is a multi-objective study's report (`sweep report --pareto`):
// the Pareto front of its COMPLETE feasible trials, the hypervolume after
// each of them, and the trade-off trial a weighting picks. Values are in
// the metrics' own units; a single-objective study has one metric and a
// front of its best trial.
type Pareto struct {
	Study      StudyRow      `json:"study"`
	Metrics    []string      `json:"metrics"`
	Directions []string      `json:"directions"`
	Points     []ParetoPoint `json:"points"`     // COMPLETE trials with every value, by number
	Front      []ParetoPoint `json:"front"`      // non-dominated feasible points, by the first metric
	Infeasible int           `json:"infeasible"` // COMPLETE trials breaking a constraint
	// Reference is the hypervolume's reference point in metric units:
	// each metric's worst feasible value moved 10% outwards (Optuna's).
	Reference   []float64    `json:"reference"`
	Hypervolume []HVPoint    `json:"hypervolume"`
	Weights     []float64    `json:"weights"`
	TradeOff    *ParetoPoint `json:"trade_off,omitempty"`
}

// ParetoPoint is one COMPLETE trial's values.
type ParetoPoint struct {
	Number   int       `json:"number"`
	Values   []float64 `json:"values"`
	Feasible bool      `json:"feasible"`
	Front    bool      `json:"front"`
}

// HVPoint is the hypervolume of the feasible points among the first N
// COMPLETE trials (N counts from 1; Number is the N-th trial's number).
type HVPoint struct {
	N           int     `json:"n"`
	Number      int     `json:"number"`
	Hypervolume float64 `json:"hypervolume"`
}

// BuildPareto derives the Pareto report from report_objectives rows.
// weights (one per metric, ≥ 0, not all 0; nil means equal) pick the
// trade-off trial: the front point with the least weighted sum of its
// metrics scaled to [0, 1] over the front (0 = the front's best).
func BuildPareto(study StudyRow, rows []ObjectiveRow, weights []float64) (*Pareto, error) {
	p := &Pareto{Study: study}
	byNumber := map[int][]ObjectiveRow{}
	var order []int
	for _, r := range rows {
		if r.State != "COMPLETE" {
			continue
		}
		if _, ok := byNumber[r.Number]; !ok {
			order = append(order, r.Number)
		}
		byNumber[r.Number] = append(byNumber[r.Number], r)
		if r.Objective >= len(p.Metrics) {
			p.Metrics = append(p.Metrics, r.Metric)
			p.Directions = append(p.Directions, r.Direction)
		}
	}
	if len(p.Metrics) == 0 {
		p.Metrics, p.Directions = []string{study.Metric}, []string{study.Direction}
	}
	if err := p.setWeights(weights); err != nil {
		return nil, err
	}
	dirs := make([]mo.Direction, len(p.Directions))
	for i, d := range p.Directions {
		dirs[i], _ = mo.ParseDirection(d)
	}
	var losses [][]float64
	for _, n := range order {
		rs := byNumber[n]
		if len(rs) != len(p.Metrics) || slices.ContainsFunc(rs, func(r ObjectiveRow) bool { return r.Value == nil }) {
			continue
		}
		pt := ParetoPoint{Number: n, Feasible: rs[0].Feasible}
		for _, r := range rs {
			pt.Values = append(pt.Values, *r.Value)
		}
		if !pt.Feasible {
			p.Infeasible++
		}
		p.Points = append(p.Points, pt)
		losses = append(losses, mo.Losses(pt.Values, dirs))
	}
	p.front(losses)
	p.hypervolume(losses, dirs)
	p.tradeOff(dirs)
	return p, nil
}

// setWeights checks and stores the trade-off weights.
func (p *Pareto) setWeights(w []float64) error {
	if w == nil {
		p.Weights = slices.Repeat([]float64{1}, len(p.Metrics))
		return nil
	}
	if len(w) != len(p.Metrics) {
		return fmt.Errorf("%w: %d weights for %d metrics (%s)", ErrBadWeights, len(w), len(p.Metrics), strings.Join(p.Metrics, ", "))
	}
	sum := 0.0
	for _, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %g is not a finite weight ≥ 0", ErrBadWeights, v)
		}
		sum += v
	}
	if sum == 0 {
		return fmt.Errorf("%w: all weights are 0", ErrBadWeights)
	}
	p.Weights = w
	return nil
}

// front marks the non-dominated feasible points.
func (p *Pareto) front(losses [][]float64) {
	var feasible [][]float64
	var idx []int
	for i, pt := range p.Points {
		if pt.Feasible {
			feasible, idx = append(feasible, losses[i]), append(idx, i)
		}
	}
	for _, k := range mo.Front(feasible) {
		p.Points[idx[k]].Front = true
		p.Front = append(p.Front, p.Points[idx[k]])
	}
	slices.SortStableFunc(p.Front, func(a, b ParetoPoint) int { return cmp.Compare(a.Values[0], b.Values[0]) })
}

// hypervolume fills the curve against a reference point fixed from all
// feasible points, so that values after different numbers of trials
// compare.
func (p *Pareto) hypervolume(losses [][]float64, dirs []mo.Direction) {
	var feasible [][]float64
	for i, pt := range p.Points {
		if pt.Feasible {
			feasible = append(feasible, losses[i])
		}
	}
	ref := mo.Reference(feasible)
	if ref == nil {
		return
	}
	p.Reference = mo.Losses(ref, dirs) // back to metric units: negation is its own inverse
	var seen [][]float64
	for i, pt := range p.Points {
		if pt.Feasible {
			seen = append(seen, losses[i])
		}
		p.Hypervolume = append(p.Hypervolume, HVPoint{N: i + 1, Number: pt.Number, Hypervolume: mo.Hypervolume(seen, ref)})
	}
}

// tradeOff picks the front point with the least weighted scaled loss.
func (p *Pareto) tradeOff(dirs []mo.Direction) {
	if len(p.Front) == 0 {
		return
	}
	m := len(p.Metrics)
	lo, hi := make([]float64, m), make([]float64, m)
	for j := range m {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
		for _, pt := range p.Front {
			l := mo.Losses(pt.Values, dirs)[j]
			lo[j], hi[j] = math.Min(lo[j], l), math.Max(hi[j], l)
		}
	}
	best, bestScore := -1, math.Inf(1)
	for i, pt := range p.Front {
		score := 0.0
		for j, l := range mo.Losses(pt.Values, dirs) {
			if hi[j] > lo[j] {
				score += p.Weights[j] * (l - lo[j]) / (hi[j] - lo[j])
			}
		}
		if score < bestScore || score == bestScore && pt.Number < p.Front[best].Number {
			best, bestScore = i, score
		}
	}
	t := p.Front[best]
	p.TradeOff = &t
}

// Tables returns the Pareto report's tables: the front, the trade-off
// pick, and the hypervolume after every tenth of the trials.
func (p *Pareto) Tables() []Table {
	front := Table{Name: "pareto_front", Title: fmt.Sprintf("Pareto front (%d of %d complete trials; %d infeasible)", len(p.Front), len(p.Points), p.Infeasible),
		Header: append([]string{"trial"}, p.labels()...), Right: slices.Repeat([]bool{true}, len(p.Metrics)+1)}
	for _, pt := range p.Front {
		front.Rows = append(front.Rows, p.row(pt))
	}
	trade := Table{Name: "trade_off", Title: "Trade-off trial for weights " + formatWeights(p.Weights),
		Header: append([]string{"trial"}, p.labels()...), Right: slices.Repeat([]bool{true}, len(p.Metrics)+1)}
	if p.TradeOff != nil {
		trade.Rows = append(trade.Rows, p.row(*p.TradeOff))
	}
	hv := Table{Name: "hypervolume", Title: "Hypervolume of the feasible trials so far (reference " + formatValues(p.Reference) + ")",
		Header: []string{"trials", "last trial", "hypervolume"}, Right: []bool{true, true, true}}
	step := max(1, len(p.Hypervolume)/10)
	for i, h := range p.Hypervolume {
		if (i+1)%step == 0 || i == len(p.Hypervolume)-1 {
			hv.Rows = append(hv.Rows, []string{strconv.Itoa(h.N), strconv.Itoa(h.Number), strconv.FormatFloat(h.Hypervolume, 'g', 6, 64)})
		}
	}
	return []Table{front, trade, hv}
}

// labels are the metric columns: "val_acc ↑", "train_seconds ↓".
func (p *Pareto) labels() []string {
	out := make([]string, len(p.Metrics))
	for i, m := range p.Metrics {
		arrow := "↓"
		if p.Directions[i] == "maximize" {
			arrow = "↑"
		}
		out[i] = m + " " + arrow
	}
	return out
}

func (p *Pareto) row(pt ParetoPoint) []string {
	row := []string{strconv.Itoa(pt.Number)}
	for _, v := range pt.Values {
		row = append(row, strconv.FormatFloat(v, 'g', 5, 64))
	}
	return row
}

func formatWeights(w []float64) string {
	parts := make([]string, len(w))
	for i, v := range w {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

func formatValues(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'g', 4, 64)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// RenderPareto writes the Pareto report as a terminal table, Markdown,
// CSV, JSON, or HTML with the scatter plots and the hypervolume curve.
func RenderPareto(w io.Writer, p *Pareto, format string) error {
	switch format {
	case "", "table":
		return writeText(w, p.Tables(), "", false)
	case "markdown", "md":
		return writeText(w, p.Tables(), "", true)
	case "csv":
		return writeCSV(w, p.Tables())
	case "json":
		return writeJSON(w, p)
	case "html":
		return writeParetoHTML(w, p)
	}
	return fmt.Errorf("render pareto report %q: %w (want table, markdown, csv, json or html)", format, ErrUnknownFormat)
}

func writeParetoHTML(w io.Writer, p *Pareto) error {
	tables := p.Tables()
	doc := htmlDoc{
		Title: "sweep pareto report: " + safetext.Terminal(p.Study.Name),
		Subtitle: fmt.Sprintf("%s · %d complete trials · every number comes from the report_objectives SQL view",
			strings.Join(p.labels(), ", "), len(p.Points)),
	}
	doc.Sections = append(doc.Sections,
		htmlSection{Title: "Pareto front", Figures: toHTMLFigures(p.Figures())},
		htmlSection{Title: "Tables", Tables: []htmlTable{toHTMLTable(tables[0], true), toHTMLTable(tables[1], true), toHTMLTable(tables[2], true)}})
	if err := htmlPage.Execute(w, doc); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

// Figures draws one scatter per pair of metrics (one for two metrics,
// three for three) and the hypervolume curve.
func (p *Pareto) Figures() []Figure {
	var figs []Figure
	for i := range p.Metrics {
		for j := i + 1; j < len(p.Metrics); j++ {
			figs = append(figs, p.scatter(i, j))
		}
	}
	if len(p.Hypervolume) > 0 {
		xs, ys := make([]float64, len(p.Hypervolume)), make([]float64, len(p.Hypervolume))
		for k, h := range p.Hypervolume {
			xs[k], ys[k] = float64(h.N), h.Hypervolume
		}
		x0, x1 := rangeOf(xs)
		y0, y1 := rangeOf(ys)
		pl := newPlot("Hypervolume over trials", "complete trials", "hypervolume", x0, x1, y0, y1)
		pl.frame()
		pl.line(xs, ys, colBlue, 2, 1, "hypervolume")
		figs = append(figs, Figure{ID: "hypervolume", Note: "view report_objectives; reference point " + formatValues(p.Reference), SVG: pl.svg()})
	}
	return figs
}

// scatter plots metric j against metric i: the front in blue (joined as a
// staircase when the study has two metrics), dominated trials in grey,
// infeasible ones as red crosses, the trade-off trial in orange.
func (p *Pareto) scatter(i, j int) Figure {
	id := "pareto_" + strconv.Itoa(i) + "_" + strconv.Itoa(j)
	if len(p.Points) == 0 {
		return Figure{ID: id, Note: "No COMPLETE trial with every metric yet (view report_objectives)."}
	}
	xs, ys := make([]float64, len(p.Points)), make([]float64, len(p.Points))
	for k, pt := range p.Points {
		xs[k], ys[k] = pt.Values[i], pt.Values[j]
	}
	x0, x1 := rangeOf(xs)
	y0, y1 := rangeOf(ys)
	pl := newPlot(fmt.Sprintf("Pareto front: %s against %s", p.Metrics[j], p.Metrics[i]), p.labels()[i], p.labels()[j], x0, x1, y0, y1)
	pl.frame()
	var dominated, infeasible bool
	for _, pt := range p.Points {
		switch {
		case !pt.Feasible:
			infeasible = true
			pl.cross(pt.Values[i], pt.Values[j], 2.5, colRed)
		case !pt.Front:
			dominated = true
			pl.dot(pt.Values[i], pt.Values[j], 2, colGrey, fmt.Sprintf("trial %d (dominated)", pt.Number))
		}
	}
	if len(p.Metrics) == 2 && len(p.Front) > 1 {
		fx, fy := make([]float64, len(p.Front)), make([]float64, len(p.Front))
		for k, pt := range p.Front {
			fx[k], fy[k] = pt.Values[i], pt.Values[j]
		}
		pl.line(fx, fy, colBlue, 1, 0.5, "Pareto front")
	}
	for _, pt := range p.Front {
		pl.dot(pt.Values[i], pt.Values[j], 3, colBlue, fmt.Sprintf("trial %d: %s=%g, %s=%g", pt.Number, p.Metrics[i], pt.Values[i], p.Metrics[j], pt.Values[j]))
	}
	if t := p.TradeOff; t != nil {
		pl.dot(t.Values[i], t.Values[j], 5, colOrange, fmt.Sprintf("trade-off trial %d (weights %s)", t.Number, formatWeights(p.Weights)))
	}
	pl.legend(legendItems(legendEntry{len(p.Front) > 0, colBlue, "Pareto front"}, legendEntry{dominated, colGrey, "dominated"},
		legendEntry{infeasible, colRed, "infeasible"}, legendEntry{p.TradeOff != nil, colOrange, "trade-off"})...)
	return Figure{ID: id, Note: "view report_objectives; one mark per COMPLETE trial", SVG: pl.svg()}
}

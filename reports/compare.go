package reports

import (
	"fmt"
	"io"
	"sort"
	"strconv"
)

// Comparison puts two studies side by side, e.g. random search against TPE
// on the same space: their summaries, and the best value each had found
// after the same number of finished trials (view report_history).
type Comparison struct {
	A, B *Report
	Rows []CompareRow
}

// CompareRow is the best-so-far of both studies after N finished trials;
// nil when a study has fewer trials or none complete yet.
type CompareRow struct {
	N     int      `json:"n"`
	BestA *float64 `json:"best_a"`
	BestB *float64 `json:"best_b"`
}

// Compare builds the comparison of two built reports. Checkpoints are
// 1, 2, 5, 10, 20, 50... finished trials, plus each study's final count.
func Compare(a, b *Report) *Comparison {
	c := &Comparison{A: a, B: b}
	na, nb := len(a.History), len(b.History)
	ns := map[int]bool{na: true, nb: true}
	for base := 1; base <= max(na, nb); base *= 10 {
		for _, m := range []int{1, 2, 5} {
			if base*m <= max(na, nb) {
				ns[base*m] = true
			}
		}
	}
	var keys []int
	for n := range ns {
		if n > 0 {
			keys = append(keys, n)
		}
	}
	sort.Ints(keys)
	for _, n := range keys {
		c.Rows = append(c.Rows, CompareRow{N: n, BestA: bestAt(a.History, n), BestB: bestAt(b.History, n)})
	}
	return c
}

func bestAt(h []HistoryRow, n int) *float64 {
	if n > len(h) {
		return nil
	}
	return h[n-1].BestSoFar
}

// Tables returns the comparison's tables: summaries side by side, then
// best-so-far at equal trial counts.
func (c *Comparison) Tables() []Table {
	sa, sb := c.A.summaryTable(), c.B.summaryTable()
	side := Table{Name: "summary", Title: fmt.Sprintf("%s vs %s", c.A.Study.Name, c.B.Study.Name),
		Header: []string{"field", c.A.Study.Name, c.B.Study.Name}}
	rows := map[string][2]string{}
	var order []string
	for i, t := range []Table{sa, sb} {
		for _, r := range t.Rows {
			v, seen := rows[r[0]]
			if !seen {
				order = append(order, r[0])
			}
			v[i] = r[1]
			rows[r[0]] = v
		}
	}
	for _, k := range order {
		side.Rows = append(side.Rows, []string{k, rows[k][0], rows[k][1]})
	}
	bsf := Table{Name: "best_so_far",
		Title:  fmt.Sprintf("Best %s after n finished trials", c.A.Study.Metric),
		Header: []string{"trials", c.A.Study.Name, c.B.Study.Name, "ahead"},
		Right:  []bool{true, true, true, false}}
	maximize := c.A.Study.Direction != "minimize"
	for _, r := range c.Rows {
		ahead := "-"
		switch {
		case r.BestA != nil && r.BestB != nil && *r.BestA == *r.BestB:
			ahead = "tie"
		case r.BestA != nil && (r.BestB == nil || better(*r.BestA, *r.BestB, maximize)):
			ahead = c.A.Study.Name
		case r.BestB != nil:
			ahead = c.B.Study.Name
		}
		bsf.Rows = append(bsf.Rows, []string{strconv.Itoa(r.N), formatMetric(r.BestA), formatMetric(r.BestB), ahead})
	}
	return []Table{side, bsf, c.A.leaderboardTable(), c.B.leaderboardTable()}
}

// RenderComparison writes a comparison in format (one of Formats).
func RenderComparison(w io.Writer, c *Comparison, format string) error {
	tables := c.Tables()
	tables[2].Title = c.A.Study.Name + ": " + tables[2].Title
	tables[3].Title = c.B.Study.Name + ": " + tables[3].Title
	tables[2].Name, tables[3].Name = "leaderboard_a", "leaderboard_b"
	switch format {
	case "", "table":
		return writeText(w, tables, "", false)
	case "markdown", "md":
		return writeText(w, tables, "", true)
	case "csv":
		return writeCSV(w, tables)
	case "json":
		return writeJSON(w, struct {
			A    *Report      `json:"a"`
			B    *Report      `json:"b"`
			Rows []CompareRow `json:"best_so_far"`
		}{c.A, c.B, c.Rows})
	case "html":
		return writeComparisonHTML(w, c, tables)
	}
	return fmt.Errorf("render %q for two studies: %w", format, ErrUnknownFormat)
}

// compareFigure overlays both studies' best-so-far curves, zoomed to z.
func (c *Comparison) compareFigure(z Zoom) Figure {
	var all []float64
	for _, h := range [][]HistoryRow{c.A.History, c.B.History} {
		for _, r := range h {
			if r.BestSoFar != nil {
				all = append(all, *r.BestSoFar)
			}
		}
	}
	y0, y1 := rangeOf(all)
	p := newPlot("Best so far at equal trial counts", "finished trials", c.A.Study.Metric,
		1, float64(max(len(c.A.History), len(c.B.History), 2)), y0, y1)
	p.zoomTo(z)
	p.frame()
	for i, h := range [][]HistoryRow{c.A.History, c.B.History} {
		var xs, ys []float64
		for _, r := range h {
			if r.BestSoFar != nil {
				xs, ys = append(xs, float64(r.N)), append(ys, *r.BestSoFar)
			}
		}
		sx, sy := stepLine(xs, ys)
		p.line(sx, sy, []string{colBlue, colOrange}[i], 2, 1, "")
	}
	p.legend(colBlue, c.A.Study.Name, colOrange, c.B.Study.Name)
	return Figure{ID: "compare", Note: "view report_history (best_so_far by n)", SVG: p.svg(), Axes: p.axes(true, true)}
}

func writeComparisonHTML(w io.Writer, c *Comparison, tables []Table) error {
	doc := htmlDoc{
		Title:    fmt.Sprintf("sweep report: %s vs %s", c.A.Study.Name, c.B.Study.Name),
		Subtitle: "every number comes from the report_* SQL views",
		Sections: []htmlSection{
			{Title: "Summary", Tables: []htmlTable{toHTMLTable(tables[0], false)}},
			{Title: tables[1].Title, Figures: toHTMLFigures([]Figure{c.compareFigure(Zoom{})}),
				Tables: []htmlTable{toHTMLTable(tables[1], false)}},
			{Title: "Leaderboards", Tables: []htmlTable{toHTMLTable(tables[2], true), toHTMLTable(tables[3], true)}},
		},
	}
	if err := htmlPage.Execute(w, doc); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

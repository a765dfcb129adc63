package reports

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Table is one rendered table in a format-neutral form: every text format
// (terminal, Markdown, CSV, HTML) prints the same cells.
type Table struct {
	Name   string // stable identifier: summary, leaderboard, group_optimizer...
	Title  string
	Header []string
	Right  []bool // right-align column i (numbers)
	Rows   [][]string
}

// Tables returns the report's tables in reading order.
func (r *Report) Tables() []Table {
	ts := []Table{r.summaryTable(), r.leaderboardTable()}
	for _, g := range r.Groups {
		ts = append(ts, r.groupTable(g))
	}
	if len(r.Importance) > 0 {
		ts = append(ts, r.importanceTable())
	}
	return ts
}

func (r *Report) summaryTable() Table {
	s := r.Summary
	rows := [][]string{
		{"study", fmt.Sprintf("%s (%s %s)", r.Study.Name, r.Study.Direction, r.Study.Metric)},
		{"status", r.Study.Status},
		{"trials", fmt.Sprintf("%d: %d complete, %d pruned, %d failed, %d running, %d waiting",
			s.Trials, s.Complete, s.Pruned, s.Failed, s.Running, s.Waiting)},
	}
	if r.Best != nil {
		rows = append(rows,
			[]string{"best", fmt.Sprintf("%s = %s (trial %d)", r.Study.Metric, formatMetric(&r.Best.Value), r.Best.Number)},
			[]string{"best params", r.paramList(r.Best.Params)})
		if r.Best.TestAcc != nil {
			rows = append(rows, []string{"best test_acc", formatMetric(r.Best.TestAcc)})
		}
	}
	rows = append(rows,
		[]string{"elapsed", formatDuration(s.ElapsedS)},
		[]string{"workers seen", workersSeen(s)},
		[]string{"compute used", fmt.Sprintf("%s, %s trial time", epochs(s.StepsUsed), formatDuration(s.WallUsedS))},
		[]string{"without pruning", fmt.Sprintf("%s, %s trial time (every trial run to %s)",
			epochs(s.StepsFull), formatDuration(s.WallFullS), epochs(s.FullSteps))},
		[]string{"saved by pruning", fmt.Sprintf("%s of epochs, %s of trial time",
			formatShare(s.StepsSaved), formatShare(s.WallSaved))},
	)
	return Table{Name: "summary", Title: "Study " + r.Study.Name, Header: []string{"field", "value"}, Rows: rows}
}

// epochs prints a count of report steps, which the built-in objectives
// report once per epoch.
func epochs(n int) string {
	if n == 1 {
		return "1 epoch"
	}
	return strconv.Itoa(n) + " epochs"
}

func (r *Report) leaderboardTable() Table {
	hasTest := false
	for _, l := range r.Leaderboard {
		hasTest = hasTest || l.TestAcc != nil
	}
	t := Table{Name: "leaderboard", Title: fmt.Sprintf("Top %d trials by %s", len(r.Leaderboard), r.Study.Metric)}
	t.Header = append([]string{"rank", "trial"}, r.KeyParams...)
	t.Header = append(t.Header, r.Study.Metric)
	if hasTest {
		t.Header = append(t.Header, "test_acc")
	}
	t.Header = append(t.Header, "epochs", "time")
	t.Right = make([]bool, len(t.Header))
	for i := range t.Right {
		t.Right[i] = i < 2 || i >= 2+len(r.KeyParams)
	}
	for _, l := range r.Leaderboard {
		row := []string{strconv.Itoa(l.Rank), strconv.Itoa(l.Number)}
		for _, name := range r.KeyParams {
			p, _ := paramByName(r.Params, name)
			row = append(row, formatValue(p, l.Params[name]))
		}
		row = append(row, formatMetric(&l.Value))
		if hasTest {
			row = append(row, formatMetric(l.TestAcc))
		}
		row = append(row, strconv.Itoa(l.Steps), formatDuration(l.DurationS))
		t.Rows = append(t.Rows, row)
	}
	return t
}

// showCells are a comparison row's best trial number and its values of
// the parameters named in show; "-" where there is no complete trial or the
// trial lacks a conditional parameter.
func (r *Report) showCells(show []string, row GroupRow) []string {
	cells := []string{"-"}
	if row.BestTrial != nil {
		cells[0] = "#" + strconv.Itoa(*row.BestTrial)
	}
	for _, name := range show {
		v, ok := row.BestParams[name]
		if !ok || v == nil {
			cells = append(cells, "-")
			continue
		}
		p, _ := paramByName(r.Params, name)
		cells = append(cells, formatValue(p, v))
	}
	return cells
}

func (r *Report) groupTable(g Group) Table {
	reach := strconv.FormatFloat(g.Reach, 'g', 4, 64)
	op := "≥"
	if r.Study.Direction == "minimize" {
		op = "≤"
	}
	t := Table{
		Name:  "group_" + strings.Join(g.By, "_"),
		Title: fmt.Sprintf("By %s (convergence: first epoch with %s %s %s)", strings.Join(g.By, " × "), r.Study.Metric, op, reach),
	}
	t.Header = append(append([]string{}, g.By...), "trials", "complete", "pruned", "best")
	if len(g.Show) > 0 {
		t.Header = append(t.Header, "best #")
		for _, name := range g.Show {
			t.Header = append(t.Header, name+" (best)")
		}
	}
	t.Header = append(t.Header, "mean", "reached", "median epochs", "median time")
	t.Right = make([]bool, len(t.Header))
	for i := len(g.By); i < len(t.Header); i++ {
		t.Right[i] = true
	}
	for _, row := range g.Rows {
		cells := append([]string{}, row.Key...)
		cells = append(cells, strconv.Itoa(row.Trials), strconv.Itoa(row.Complete), strconv.Itoa(row.Pruned),
			formatMetric(row.Best))
		if len(g.Show) > 0 {
			cells = append(cells, r.showCells(g.Show, row)...)
		}
		cells = append(cells, formatMetric(row.Mean), fmt.Sprintf("%d/%d", row.Reached, row.Trials),
			formatOpt(row.MedianSteps, 1), formatMinutes(row.MedianMinutes))
		t.Rows = append(t.Rows, cells)
	}
	return t
}

func (r *Report) importanceTable() Table {
	t := Table{Name: "importance", Title: "Parameter importance (PED-ANOVA: top 10%, at least 5, of complete trials vs all)",
		Header: []string{"param", "share", ""}, Right: []bool{false, true, false}}
	for _, im := range r.Importance {
		t.Rows = append(t.Rows, []string{im.Param, formatShare(im.Share), bar(im.Share, 30)})
	}
	return t
}

// paramList prints params as name=value in spec order.
func (r *Report) paramList(params map[string]any) string {
	var parts []string
	seen := map[string]bool{}
	for _, p := range r.Params {
		if v, ok := params[p.Name]; ok {
			parts = append(parts, p.Name+"="+formatValue(p, v))
			seen[p.Name] = true
		}
	}
	var rest []string
	for k := range params {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		parts = append(parts, k+"="+fmt.Sprint(params[k]))
	}
	return strings.Join(parts, ", ")
}

// bar draws share (0..1) as a horizontal bar of up to width cells, with
// eighth-block characters for the fractional cell.
func bar(share float64, width int) string {
	eighths := int(share*float64(width)*8 + 0.5)
	full, rest := eighths/8, eighths%8
	s := strings.Repeat("█", full)
	if rest > 0 {
		s += string([]rune("▏▎▍▌▋▊▉")[rest-1])
	}
	return s
}

func formatShare(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// formatMinutes prints a duration given in minutes as formatDuration does.
func formatMinutes(m *float64) string {
	if m == nil {
		return "-"
	}
	return formatDuration(*m * 60)
}

func formatOpt(v *float64, prec int) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', prec, 64)
}

// workersSeen prints the worker count, with names when there are few.
func workersSeen(s SummaryRow) string {
	out := fmt.Sprintf("%d on %d host(s)", s.Workers, s.Hosts)
	if s.Workers > 0 && s.Workers <= 4 && s.WorkerNames != "" {
		out += ": " + s.WorkerNames
	}
	return out
}

// trialsTable lists every trial with full-precision numbers, one column per
// parameter: the tidy table for pandas or a spreadsheet (CSV output only).
func (r *Report) trialsTable() Table {
	t := Table{Name: "trials", Title: "Trials",
		Header: []string{"number", "state", r.Study.Metric, "test_acc", "epochs", "duration_s", "worker", "reason"}}
	for _, p := range r.Params {
		t.Header = append(t.Header, p.Name)
	}
	raw := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	for _, tr := range r.Trials {
		row := []string{strconv.Itoa(tr.Number), tr.State, raw(tr.Value), raw(tr.TestAcc), strconv.Itoa(tr.Steps),
			strconv.FormatFloat(tr.DurationS, 'g', -1, 64), tr.Worker, tr.Reason}
		for _, p := range r.Params {
			v, ok := tr.Params[p.Name]
			switch f, isNum := paramFloat(v); {
			case !ok || v == nil:
				row = append(row, "")
			case isNum:
				row = append(row, strconv.FormatFloat(f, 'g', -1, 64))
			default:
				row = append(row, fmt.Sprint(v))
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

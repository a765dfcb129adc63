package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Group is one comparison table: trials grouped by the values of one or
// more parameters (numeric ones in quantile bins), in the style of the
// classic CIFAR tuning write-ups.
type Group struct {
	By []string `json:"by"`
	// Show names the parameters whose values in each row's best trial the
	// table adds as columns (Options.Show).
	Show []string `json:"show,omitempty"`
	// Reach is the X of "epochs to reach X", in the study's metric.
	Reach float64    `json:"reach"`
	Rows  []GroupRow `json:"rows"`
}

// GroupRow is one choice, bin or combination. Counts include COMPLETE and
// PRUNED trials; Best and Mean are over COMPLETE trials' final values.
type GroupRow struct {
	Key      []string `json:"key"` // one label per Group.By entry; "-" when absent
	Trials   int      `json:"trials"`
	Complete int      `json:"complete"`
	Pruned   int      `json:"pruned"`
	Best     *float64 `json:"best"`
	Mean     *float64 `json:"mean"`
	// Reached counts trials whose intermediate values reached Group.Reach.
	Reached int `json:"reached"`
	// MedianSteps and MedianMinutes are the medians, over the trials that
	// reached Group.Reach, of the first step (epoch) at which they did and
	// of the wall time from trial start to that report.
	MedianSteps   *float64 `json:"median_steps"`
	MedianMinutes *float64 `json:"median_minutes"`
	// BestTrial is the number of the trial that set Best; BestParams holds
	// that trial's values of the parameters named in Options.Show, so that
	// a table by optimizer can say which learning rate won (the article's
	// "optimizer, LR, final accuracy" shape).
	BestTrial  *int           `json:"best_trial,omitempty"`
	BestParams map[string]any `json:"best_params,omitempty"`

	order []int // sort key: choice or bin index per param
}

// reachPoint is when one trial first reached the target value.
type reachPoint struct {
	step    int
	elapsed float64 // seconds; <0 unknown
}

// buildGroups makes the comparison tables: one for opts.GroupBy, or one per
// parameter when it is empty.
func buildGroups(d *Data, opts Options, maximize bool) ([]Group, error) {
	reach := defaultReach(d.Trials)
	if opts.Reach != nil {
		reach = *opts.Reach
	}
	reached := reachSteps(d.Curves, reach, maximize)
	var trials []TrialRow
	for _, t := range d.Trials {
		if t.State == "COMPLETE" || t.State == "PRUNED" {
			trials = append(trials, t)
		}
	}
	sets := [][]string{opts.GroupBy}
	if len(opts.GroupBy) == 0 {
		sets = nil
		for _, p := range d.Params {
			sets = append(sets, []string{p.Name})
		}
	}
	for _, name := range opts.Show {
		if _, ok := paramByName(d.Params, name); !ok {
			return nil, fmt.Errorf("show %q: %w (have %s)", name, ErrUnknownParam, paramNames(d.Params))
		}
	}
	var out []Group
	for _, by := range sets {
		var ps []ParamRow
		for _, name := range by {
			p, ok := paramByName(d.Params, name)
			if !ok {
				return nil, fmt.Errorf("group by %q: %w (have %s)", name, ErrUnknownParam, paramNames(d.Params))
			}
			ps = append(ps, p)
		}
		g := Group{By: by, Reach: reach, Show: opts.Show}
		g.Rows = groupRows(ps, trials, reached, opts.Bins, maximize, opts.Show)
		out = append(out, g)
	}
	return out, nil
}

func paramNames(ps []ParamRow) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// defaultReach is the median final value of the complete trials, so that
// about half of them count as having reached it.
func defaultReach(ts []TrialRow) float64 {
	var vs []float64
	for _, t := range completeTrials(ts) {
		vs = append(vs, *t.Value)
	}
	if m := median(vs); m != nil {
		return *m
	}
	return 0
}

// reachSteps finds, per trial number, the first intermediate value that is
// at least (maximize) or at most (minimize) x. Curves are sorted by number
// then step.
func reachSteps(curves []CurvePoint, x float64, maximize bool) map[int]reachPoint {
	out := map[int]reachPoint{}
	for _, c := range curves {
		if _, done := out[c.Number]; done {
			continue
		}
		if (maximize && c.Value >= x) || (!maximize && c.Value <= x) {
			out[c.Number] = reachPoint{step: c.Step, elapsed: c.ElapsedS}
		}
	}
	return out
}

type groupAcc struct {
	row   GroupRow
	sum   float64
	steps []float64
	mins  []float64
}

func groupRows(ps []ParamRow, trials []TrialRow, reached map[int]reachPoint, bins int, maximize bool, show []string) []GroupRow {
	labelers := make([]labeler, len(ps))
	for i, p := range ps {
		labelers[i] = newLabeler(p, trials, bins)
	}
	acc := map[string]*groupAcc{}
	var keys []string
	for _, t := range trials {
		row := GroupRow{Key: make([]string, len(ps)), order: make([]int, len(ps))}
		for i, l := range labelers {
			row.Key[i], row.order[i] = l(t)
		}
		if len(ps) == 1 && row.order[0] == absentOrder {
			continue // a conditional parameter's own table lists only trials that have it
		}
		k := strings.Join(row.Key, "\x00")
		a := acc[k]
		if a == nil {
			a = &groupAcc{row: row}
			acc[k] = a
			keys = append(keys, k)
		}
		a.add(t, reached, maximize, show)
	}
	out := make([]GroupRow, 0, len(keys))
	for _, k := range keys {
		out = append(out, acc[k].finish())
	}
	sortGroupRows(out, len(ps) == 1, maximize)
	return out
}

func (a *groupAcc) add(t TrialRow, reached map[int]reachPoint, maximize bool, show []string) {
	a.row.Trials++
	if t.State == "PRUNED" {
		a.row.Pruned++
	}
	if t.State == "COMPLETE" && t.Value != nil && !math.IsNaN(*t.Value) {
		v := *t.Value
		a.row.Complete++
		a.sum += v
		if a.row.Best == nil || better(v, *a.row.Best, maximize) {
			a.row.Best = &v
			n := t.Number
			a.row.BestTrial = &n
			a.row.BestParams = nil
			for _, name := range show {
				if a.row.BestParams == nil {
					a.row.BestParams = map[string]any{}
				}
				a.row.BestParams[name] = t.Params[name] // nil: the trial lacks this conditional param
			}
		}
	}
	if r, ok := reached[t.Number]; ok {
		a.row.Reached++
		a.steps = append(a.steps, float64(r.step))
		if r.elapsed >= 0 {
			a.mins = append(a.mins, r.elapsed/60)
		}
	}
}

func (a *groupAcc) finish() GroupRow {
	r := a.row
	if r.Complete > 0 {
		m := a.sum / float64(r.Complete)
		r.Mean = &m
	}
	r.MedianSteps = median(a.steps)
	r.MedianMinutes = median(a.mins)
	return r
}

// sortGroupRows keeps a single parameter's rows in their natural order
// (choices as declared, bins low to high) and puts a combination's best
// rows first.
func sortGroupRows(rows []GroupRow, natural, maximize bool) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if !natural {
			switch {
			case a.Best != nil && b.Best != nil && *a.Best != *b.Best:
				return better(*a.Best, *b.Best, maximize)
			case (a.Best == nil) != (b.Best == nil):
				return a.Best != nil
			}
		}
		for k := range a.order {
			if a.order[k] != b.order[k] {
				return a.order[k] < b.order[k]
			}
		}
		return strings.Join(a.Key, ",") < strings.Join(b.Key, ",")
	})
}

// median returns the median of xs (the mean of the middle two for an even
// count, as PostgreSQL's percentile_cont(0.5)), or nil when empty.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &m
}

// labeler names the group a trial falls in for one parameter, with a sort
// index that keeps choices and bins in their natural order.
type labeler func(t TrialRow) (label string, order int)

// absentOrder sorts trials without the (conditional) parameter last.
const absentOrder = math.MaxInt32

func newLabeler(p ParamRow, trials []TrialRow, bins int) labeler {
	if p.Kind == "categorical" {
		return choiceLabeler(p)
	}
	return binLabeler(p, trials, bins)
}

func choiceLabeler(p ParamRow) labeler {
	index := map[string]int{}
	for i, c := range p.Choices {
		index[fmt.Sprint(c)] = i
	}
	return func(t TrialRow) (string, int) {
		v, ok := t.Params[p.Name]
		if !ok || v == nil {
			return "-", absentOrder
		}
		s := fmt.Sprint(v)
		if i, ok := index[s]; ok {
			return s, i
		}
		return s, len(index)
	}
}

// binLabeler puts a numeric parameter's values into quantile bins with the
// semantics of SQL's ntile(bins) OVER (ORDER BY value, number): after
// sorting, the first n mod bins bins hold one trial more than the rest. A
// parameter with at most bins distinct values gets one group per value.
// Bin labels give the lowest and highest value in the bin.
func binLabeler(p ParamRow, trials []TrialRow, bins int) labeler {
	type item struct {
		v   float64
		num int
	}
	var items []item
	distinct := map[float64]bool{}
	for _, t := range trials {
		if f, ok := paramFloat(t.Params[p.Name]); ok {
			items = append(items, item{f, t.Number})
			distinct[f] = true
		}
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].v != items[j].v {
			return items[i].v < items[j].v
		}
		return items[i].num < items[j].num
	})
	label := map[int]string{}
	order := map[int]int{}
	if len(distinct) <= bins {
		rank, last := -1, math.NaN()
		for _, it := range items {
			if it.v != last {
				rank, last = rank+1, it.v
			}
			label[it.num], order[it.num] = formatValue(p, it.v), rank
		}
	} else {
		n := len(items)
		lo, hi := make([]float64, bins), make([]float64, bins)
		for i, it := range items {
			b := ntile(i, n, bins)
			if i == 0 || ntile(i-1, n, bins) != b {
				lo[b] = it.v
			}
			hi[b] = it.v
			order[it.num] = b
		}
		for num, b := range order {
			label[num] = fmt.Sprintf("[%s, %s]", formatValue(p, lo[b]), formatValue(p, hi[b]))
			if lo[b] == hi[b] {
				label[num] = formatValue(p, lo[b])
			}
		}
	}
	return func(t TrialRow) (string, int) {
		if l, ok := label[t.Number]; ok {
			return l, order[t.Number]
		}
		return "-", absentOrder
	}
}

// ntile returns the 0-based bucket of the i-th of n sorted rows split into
// k buckets, exactly as PostgreSQL's ntile(k) (minus one).
func ntile(i, n, k int) int {
	if n < k {
		return i
	}
	q, r := n/k, n%k
	if i < r*(q+1) {
		return i / (q + 1)
	}
	return r + (i-r*(q+1))/q
}

package reports

import (
	"fmt"
	"math"
	"sort"
)

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

package dashboard

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sweep/internal/safetext"
	"sweep/reports"
)

// The trial table's filters and sorting come from the query string, so a
// filtered view is a link one can share:
//
//	state=COMPLETE&state=PRUNED   only these states (repeatable)
//	min.lr=0.001&max.lr=0.1       numeric param range, inclusive
//	is.optimizer=sgd              categorical param choices (repeatable)
//	sort=value|number|steps|duration|state|param.NAME, desc=1
//	limit=N                       rows shown (default 500)

// states are the trial states, in the order filters list them.
var states = []string{"COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"}

const defaultLimit = 500

// trialQuery is a parsed filter and sort of the trial table.
type trialQuery struct {
	states []string
	lo, hi map[string]float64
	is     map[string][]string
	sort   string
	desc   bool
	limit  int
	raw    url.Values
	params []reports.ParamRow
}

// parseTrialQuery reads the filters; unknown params, states and sort keys
// and malformed numbers wrap ErrInvalid.
func parseTrialQuery(q url.Values, params []reports.ParamRow) (*trialQuery, error) {
	tq := &trialQuery{lo: map[string]float64{}, hi: map[string]float64{}, is: map[string][]string{},
		sort: q.Get("sort"), desc: q.Get("desc") == "1", limit: defaultLimit, raw: q, params: params}
	known := map[string]bool{}
	for _, p := range params {
		known[p.Name] = true
	}
	for _, st := range q["state"] {
		if !slices.Contains(states, st) {
			return nil, fmt.Errorf("%w: state %q: want one of %s", ErrInvalid, st, strings.Join(states, ", "))
		}
		tq.states = append(tq.states, st)
	}
	for key, vals := range q {
		kind, name, ok := strings.Cut(key, ".")
		if !ok || (kind != "min" && kind != "max" && kind != "is") {
			continue
		}
		if !known[name] {
			return nil, fmt.Errorf("%w: filter %s: the study has no param %q", ErrInvalid, key, name)
		}
		for _, v := range vals {
			if v == "" {
				continue
			}
			if kind == "is" {
				tq.is[name] = append(tq.is[name], v)
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) {
				return nil, fmt.Errorf("%w: filter %s=%q: want a number", ErrInvalid, key, v)
			}
			if kind == "min" {
				tq.lo[name] = f
			} else {
				tq.hi[name] = f
			}
		}
	}
	switch s := tq.sort; {
	case s == "", s == "number", s == "value", s == "steps", s == "duration", s == "state":
	case strings.HasPrefix(s, "param.") && known[strings.TrimPrefix(s, "param.")]:
	default:
		return nil, fmt.Errorf("%w: sort %q: want number, value, steps, duration, state or param.NAME", ErrInvalid, s)
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: limit %q: want a positive number", ErrInvalid, l)
		}
		tq.limit = n
	}
	return tq, nil
}

// keep says whether a trial passes the filters. A range or choice filter
// on a param drops the trials that did not draw it.
func (tq *trialQuery) keep(t reports.TrialRow) bool {
	if len(tq.states) > 0 && !slices.Contains(tq.states, t.State) {
		return false
	}
	for name, choices := range tq.is {
		v, ok := t.Params[name]
		if !ok || !slices.Contains(choices, fmt.Sprint(v)) {
			return false
		}
	}
	for _, bound := range []struct {
		m     map[string]float64
		below bool
	}{{tq.lo, true}, {tq.hi, false}} {
		for name, lim := range bound.m {
			f, ok := reports.ParamFloat(t.Params[name])
			if !ok || (bound.below && f < lim) || (!bound.below && f > lim) {
				return false
			}
		}
	}
	return true
}

// less orders two trials by the sort key; trials without a value (or the
// param) go last whatever the direction, ties by number.
func (tq *trialQuery) less(a, b reports.TrialRow) bool {
	key := func(t reports.TrialRow) (float64, string, bool) {
		switch {
		case tq.sort == "value":
			if t.Value == nil {
				return 0, "", false
			}
			return *t.Value, "", true
		case tq.sort == "steps":
			return float64(t.Steps), "", true
		case tq.sort == "duration":
			return t.DurationS, "", true
		case tq.sort == "state":
			return 0, t.State, true
		case strings.HasPrefix(tq.sort, "param."):
			v, ok := t.Params[strings.TrimPrefix(tq.sort, "param.")]
			if !ok {
				return 0, "", false
			}
			if f, isNum := reports.ParamFloat(v); isNum {
				return f, "", true
			}
			return 0, fmt.Sprint(v), true
		}
		return float64(t.Number), "", true
	}
	fa, sa, oka := key(a)
	fb, sb, okb := key(b)
	if oka != okb {
		return oka
	}
	if fa != fb || sa != sb {
		lt := fa < fb || (fa == fb && sa < sb)
		return lt != tq.desc
	}
	return a.Number < b.Number
}

// trialTable is the filtered, sorted trial table and its filter form.
type trialTable struct {
	Header  []sortLink
	Rows    []trialLine
	Shown   int
	Matched int
	Total   int
	States  []stateBox
	Params  []paramFilter
	Sort    string
	Desc    bool
}

type sortLink struct{ Text, Href string }

type trialLine struct {
	Number int
	URL    string
	State  string
	Cells  []string
	Reason string
}

type stateBox struct {
	State   string
	Checked bool
}

// paramFilter is one param's filter inputs: a range for numbers, a choice
// list for categoricals.
type paramFilter struct {
	Name     string // as stored: the form field names carry it
	Label    string
	Numeric  bool
	Min, Max string
	Choices  []stateBox
}

// table filters and sorts the report's trials.
func (tq *trialQuery) table(rep *reports.Report, study string) trialTable {
	tt := trialTable{Total: len(rep.Trials), Sort: tq.sort, Desc: tq.desc}
	var kept []reports.TrialRow
	for _, t := range rep.Trials {
		if tq.keep(t) {
			kept = append(kept, t)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return tq.less(kept[i], kept[j]) })
	tt.Matched = len(kept)
	if len(kept) > tq.limit {
		kept = kept[:tq.limit]
	}
	tt.Shown = len(kept)
	cols := []struct{ text, key string }{{"trial", "number"}, {"state", "state"},
		{safetext.Terminal(rep.Study.Metric), "value"}, {"epochs", "steps"}, {"time", "duration"}}
	for _, p := range rep.Params {
		cols = append(cols, struct{ text, key string }{safetext.Terminal(p.Name), "param." + p.Name})
	}
	for _, c := range cols {
		tt.Header = append(tt.Header, sortLink{Text: c.text, Href: tq.sortHref(c.key)})
	}
	for _, t := range kept {
		line := trialLine{Number: t.Number, URL: studyURL(study) + "/trial/" + strconv.Itoa(t.Number), State: t.State,
			Reason: safetext.Terminal(t.Reason)}
		line.Cells = []string{reports.FormatMetric(t.Value), strconv.Itoa(t.Steps), reports.FormatDuration(t.DurationS)}
		for _, p := range rep.Params {
			v, ok := t.Params[p.Name]
			if !ok {
				line.Cells = append(line.Cells, "")
				continue
			}
			line.Cells = append(line.Cells, safetext.Terminal(reports.FormatParam(p, v)))
		}
		tt.Rows = append(tt.Rows, line)
	}
	for _, st := range states {
		tt.States = append(tt.States, stateBox{st, slices.Contains(tq.states, st)})
	}
	for _, p := range rep.Params {
		f := paramFilter{Name: p.Name, Label: safetext.Terminal(p.Name), Numeric: p.Kind != "categorical"}
		if f.Numeric {
			f.Min, f.Max = tq.raw.Get("min."+p.Name), tq.raw.Get("max."+p.Name)
		}
		for _, c := range p.Choices {
			ct := fmt.Sprint(c)
			f.Choices = append(f.Choices, stateBox{ct, slices.Contains(tq.is[p.Name], ct)})
		}
		tt.Params = append(tt.Params, f)
	}
	return tt
}

// sortHref is the query string that sorts by key, keeping the filters;
// the current key's link flips the direction.
func (tq *trialQuery) sortHref(key string) string {
	q := url.Values{}
	for k, v := range tq.raw {
		if k != "sort" && k != "desc" && k != "fragment" {
			q[k] = v
		}
	}
	q.Set("sort", key)
	cur := tq.sort
	if cur == "" {
		cur = "number"
	}
	if key == cur && !tq.desc {
		q.Set("desc", "1")
	}
	return "?" + q.Encode() + "#trials"
}

// Package reports turns a stored study into what people read after a sweep:
// a summary (trials by state, compute saved by pruning), a leaderboard,
// comparison tables per parameter choice with convergence speed, parameter
// importance, the best configuration as YAML, and plots.
//
// The package works in two steps. [Load] (query.go, the only file with SQL)
// reads plain row structs from the report_* views in sql/views, so psql
// users see the same numbers. [Build] derives the report from those rows
// without touching the database, and [Render] writes it as a terminal
// table, Markdown, CSV, JSON or a self-contained HTML page with inline SVG.
//
// It does not run trials, change stored data or train models.
package reports

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"
)

// Sentinel errors.
var (
	// ErrNoStudy means no study is stored under the requested name.
	ErrNoStudy = errors.New("reports: no such study")
	// ErrUnknownParam means a --group-by name is not a parameter of the study.
	ErrUnknownParam = errors.New("reports: unknown parameter")
	// ErrUnknownFormat means the output format is not one of Formats.
	ErrUnknownFormat = errors.New("reports: unknown format")
	// ErrNoComplete means the study has no complete trial, so no best one.
	ErrNoComplete = errors.New("reports: no complete trial")
	// ErrNoTrial means the study has no trial with the requested number.
	ErrNoTrial = errors.New("reports: no such trial")
	// ErrNoFigure means a zoom named a chart that is not there or cannot
	// zoom (bars, parallel coordinates, the contour grid, a note).
	ErrNoFigure = errors.New("reports: no such zoomable chart")
	// ErrBadWeights means the Pareto report's --weights do not fit the
	// study's metrics.
	ErrBadWeights = errors.New("reports: bad weights")
)

// Options select what a report contains. The zero value is a full report
// with the defaults documented on each field.
type Options struct {
	// GroupBy names the parameters of one comparison table (a combination,
	// e.g. optimizer × scheduler). Empty: one table per parameter.
	GroupBy []string
	// Reach is the metric value X of "epochs to reach X". Nil: the median
	// final value of the study's complete trials.
	Reach *float64
	// Bins is the number of quantile bins for numeric parameters (default 4).
	Bins int
	// Top is the number of leaderboard rows (default 10).
	Top int
	// Show names parameters whose value in each comparison row's best
	// trial is added as a column, with that trial's number.
	Show []string
}

func (o Options) withDefaults() Options {
	if o.Bins <= 0 {
		o.Bins = 4
	}
	if o.Top <= 0 {
		o.Top = 10
	}
	return o
}

// Report is everything one study's report shows. Build fills it from
// [Data]; every renderer reads only this struct. Values are in the study's
// metric; durations are seconds; steps are the objective's report steps
// (epochs for the built-in objectives).
type Report struct {
	Study       StudyRow      `json:"study"`
	Summary     SummaryRow    `json:"summary"`
	Best        *Best         `json:"best,omitempty"`
	Params      []ParamRow    `json:"params"`
	KeyParams   []string      `json:"key_params"`
	Leaderboard []LeaderRow   `json:"leaderboard"`
	Groups      []Group       `json:"groups"`
	Importance  []Importance  `json:"importance"`
	BestConfig  string        `json:"best_config"`
	History     []HistoryRow  `json:"history"`
	Curves      []CurvePoint  `json:"-"`
	Trials      []TrialRow    `json:"trials"`
	BestMetrics []MetricPoint `json:"best_metrics,omitempty"`
}

// Best is the best complete trial.
type Best struct {
	Number    int            `json:"number"`
	Value     float64        `json:"value"`
	Params    map[string]any `json:"params"`
	TestAcc   *float64       `json:"test_acc,omitempty"`
	Steps     int            `json:"steps"`
	DurationS float64        `json:"duration_s"`
}

// LeaderRow is one leaderboard line: a complete trial ranked by value.
type LeaderRow struct {
	Rank      int            `json:"rank"`
	Number    int            `json:"number"`
	Value     float64        `json:"value"`
	TestAcc   *float64       `json:"test_acc,omitempty"`
	Params    map[string]any `json:"params"`
	Steps     int            `json:"steps"`
	DurationS float64        `json:"duration_s"`
}

// Build derives a report from loaded rows. It never queries the database.
func Build(d *Data, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	r := &Report{
		Study:       d.Study,
		Summary:     d.Summary,
		Params:      d.Params,
		History:     d.History,
		Curves:      d.Curves,
		Trials:      d.Trials,
		BestMetrics: d.BestMetrics,
	}
	if full := specSteps(d.Study.Spec); full > 0 && (d.Summary.Complete == 0 || d.Summary.FullSteps == 0) {
		r.Summary = rebudget(d.Summary, d.Trials, max(full, d.Summary.FullSteps))
	}
	maximize := d.Study.Direction != "minimize"
	complete := completeTrials(d.Trials)
	sortByValue(complete, maximize)
	if len(complete) > 0 {
		b := complete[0]
		r.Best = &Best{Number: b.Number, Value: *b.Value, Params: b.Params,
			TestAcc: b.TestAcc, Steps: b.Steps, DurationS: b.DurationS}
	}
	r.Importance = importance(d.Params, complete)
	r.KeyParams = keyParams(d.Params, r.Importance, 6)
	for i, t := range complete {
		if i == opts.Top {
			break
		}
		r.Leaderboard = append(r.Leaderboard, LeaderRow{Rank: i + 1, Number: t.Number,
			Value: *t.Value, TestAcc: t.TestAcc, Params: t.Params, Steps: t.Steps, DurationS: t.DurationS})
	}
	groups, err := buildGroups(d, opts, maximize)
	if err != nil {
		return nil, err
	}
	r.Groups = groups
	if r.Best != nil {
		cfg, err := bestConfig(d.Study, d.Params, *r.Best)
		if err != nil {
			return nil, err
		}
		r.BestConfig = cfg
	}
	return r, nil
}

// specSteps returns how many steps a trial runs when nothing stops it,
// from the spec: objective.epochs, else the pruner's max_resource; 0 when
// the spec sets neither or does not parse.
func specSteps(spec string) int {
	var s struct {
		Objective struct {
			Epochs int `yaml:"epochs"`
		} `yaml:"objective"`
		Pruner struct {
			MaxResource int `yaml:"max_resource"`
		} `yaml:"pruner"`
	}
	if yaml.Unmarshal([]byte(spec), &s) != nil {
		return 0
	}
	if s.Objective.Epochs > 0 {
		return s.Objective.Epochs
	}
	return max(0, s.Pruner.MaxResource)
}

// rebudget redoes the summary's "without pruning" compute for a study with
// no complete trial. report_study_summary takes a full run to be the most
// steps a COMPLETE trial reported, and without one it can only fall back on
// the longest trial seen: a study whose trials all failed after one epoch
// would read "every trial run to 1 epoch" when the spec asks for 4. The sums
// are the view's, over the same report_trials rows, with full from the spec.
func rebudget(s SummaryRow, trials []TrialRow, full int) SummaryRow {
	s.FullSteps = full
	var stepsUsed, stepsFull int
	var wallUsed, wallFull float64
	for _, t := range trials {
		if t.State != "COMPLETE" && t.State != "PRUNED" && t.State != "FAIL" {
			continue
		}
		stepsUsed += t.Steps
		wallUsed += t.DurationS
		if t.State != "PRUNED" {
			stepsFull += t.Steps
			wallFull += t.DurationS
			continue
		}
		n := max(t.Steps, full)
		stepsFull += n
		if t.Steps > 0 {
			wallFull += t.DurationS * float64(n) / float64(t.Steps)
		} else {
			wallFull += t.DurationS
		}
	}
	s.StepsUsed, s.StepsFull, s.WallUsedS, s.WallFullS = stepsUsed, stepsFull, wallUsed, wallFull
	s.StepsSaved, s.WallSaved = 0, 0
	if stepsFull > 0 {
		s.StepsSaved = 1 - float64(stepsUsed)/float64(stepsFull)
	}
	if wallFull > 0 {
		s.WallSaved = 1 - wallUsed/wallFull
	}
	return s
}

// completeTrials returns the COMPLETE trials that have a finite value.
func completeTrials(ts []TrialRow) []TrialRow {
	var out []TrialRow
	for _, t := range ts {
		if t.State == "COMPLETE" && t.Value != nil && !math.IsNaN(*t.Value) && !math.IsInf(*t.Value, 0) {
			out = append(out, t)
		}
	}
	return out
}

// sortByValue orders trials best first; ties go to the lower trial number.
func sortByValue(ts []TrialRow, maximize bool) {
	sort.SliceStable(ts, func(i, j int) bool {
		a, b := *ts[i].Value, *ts[j].Value
		if a != b {
			return better(a, b, maximize)
		}
		return ts[i].Number < ts[j].Number
	})
}

func better(a, b float64, maximize bool) bool {
	if maximize {
		return a > b
	}
	return a < b
}

// keyParams picks the leaderboard's parameter columns: every parameter when
// there are at most max, else the max most important, in spec order.
func keyParams(params []ParamRow, imp []Importance, max int) []string {
	if len(params) <= max {
		names := make([]string, len(params))
		for i, p := range params {
			names[i] = p.Name
		}
		return names
	}
	chosen := map[string]bool{}
	for i, im := range imp {
		if i == max {
			break
		}
		chosen[im.Param] = true
	}
	var names []string
	for _, p := range params {
		if chosen[p.Name] || (len(chosen) == 0 && len(names) < max) {
			names = append(names, p.Name)
		}
	}
	return names
}

// formatDuration prints seconds compactly: 42.0s, 3m07s, 2h05m.
func formatDuration(s float64) string {
	if math.IsNaN(s) || s < 0 {
		return "-"
	}
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", s)
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}

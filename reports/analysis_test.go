package reports

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// lcg is a deterministic source for synthetic trials.
type lcg uint64

func (l *lcg) next() float64 {
	*l = *l*6364136223846793005 + 1442695040888963407
	return float64(uint64(*l)>>11) / (1 << 53)
}

// synthTrials makes n complete trials where only "lr" (log scale) drives the
// value; "noise" is uniform and irrelevant; "opt" is categorical and adds a
// small effect.
func synthTrials(n int) ([]ParamRow, []TrialRow) {
	params := []ParamRow{
		{Name: "lr", Kind: "float", Log: true, Low: 1e-4, High: 1},
		{Name: "noise", Kind: "float", Low: 0, High: 1},
		{Name: "opt", Kind: "categorical", Choices: []any{"sgd", "adamw"}},
	}
	src := lcg(3)
	var ts []TrialRow
	for i := 0; i < n; i++ {
		lr := math.Exp(math.Log(1e-4) + src.next()*math.Log(1e4))
		noise := src.next()
		opt := []string{"sgd", "adamw"}[int(src.next()*2)]
		v := 0.9 - 0.05*math.Pow(math.Log10(lr)+1, 2)
		if opt == "adamw" {
			v -= 0.01
		}
		ts = append(ts, TrialRow{Number: i, State: "COMPLETE", Value: &v,
			Params: map[string]any{"lr": lr, "noise": noise, "opt": opt}})
	}
	return params, ts
}

func TestImportance_RanksTheParameterThatMatters(t *testing.T) {
	params, ts := synthTrials(300)
	sortByValue(ts, true)
	imp := importance(params, ts)
	if len(imp) != 3 {
		t.Fatalf("got %d importances, want 3", len(imp))
	}
	if imp[0].Param != "lr" || imp[0].Share < 0.6 {
		t.Errorf("top parameter = %s with share %.3f, want lr with > 0.6: %+v", imp[0].Param, imp[0].Share, imp)
	}
	sum := 0.0
	for _, im := range imp {
		sum += im.Share
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("shares sum to %v, want 1", sum)
	}
	if few := importance(params, ts[:minImportanceTrials-1]); few != nil {
		t.Errorf("importance with %d trials = %v, want nil", minImportanceTrials-1, few)
	}
}

func TestNtile_MatchesPostgres(t *testing.T) {
	// PostgreSQL: SELECT ntile(4) OVER (ORDER BY g) FROM generate_series(1,10) g
	// gives 1 1 1 2 2 2 3 3 4 4.
	want := []int{0, 0, 0, 1, 1, 1, 2, 2, 3, 3}
	for i, w := range want {
		if got := ntile(i, 10, 4); got != w {
			t.Errorf("ntile(%d, 10, 4) = %d, want %d", i, got, w)
		}
	}
	for i := 0; i < 3; i++ { // fewer rows than buckets: one row each
		if got := ntile(i, 3, 4); got != i {
			t.Errorf("ntile(%d, 3, 4) = %d, want %d", i, got, i)
		}
	}
}

func TestBestConfig_MergesObjectiveOptionsAndParams(t *testing.T) {
	spec := `study: s
objective:
  type: cifar10
  lr: 0.5
  epochs: 30        # budget
  model: tiny
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  batch_size: {type: categorical, choices: [64, 128]}
  width: {type: int, low: 1, high: 4}
  wd: {type: float, low: 0, high: 2}
  smoothing: {type: categorical, choices: [0.0, 0.1]}
  eps: {type: categorical, choices: [1.0e-3, "1e-4"]}
`
	params := []ParamRow{
		{Name: "lr", Kind: "float", Log: true},
		{Name: "batch_size", Kind: "categorical", Choices: []any{"64", "128"}},
		{Name: "width", Kind: "int"},
		{Name: "wd", Kind: "float"},
		{Name: "smoothing", Kind: "categorical", Choices: []any{"0", "0.1"}},
		{Name: "eps", Kind: "categorical", Choices: []any{"0.001", "1e-4"}},
	}
	// Categorical values come back from storage as strings in Go's
	// shortest form: the spec's 0.0 and 1.0e-3 are stored "0" and "0.001".
	best := Best{Number: 3, Value: 0.91, Params: map[string]any{"lr": 0.0123, "batch_size": "128", "width": float64(2), "wd": float64(1),
		"smoothing": "0", "eps": "0.001"}}
	out, err := bestConfig(StudyRow{Name: "s", Metric: "val_acc", Spec: spec}, params, best)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("best config is not YAML: %v\n%s", err, out)
	}
	want := map[string]any{"epochs": 30, "model": "tiny", "lr": 0.0123, "batch_size": 128, "width": 2, "wd": 1.0,
		"smoothing": 0.0, "eps": 1e-3}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %#v (%T), want %#v (%T)\n%s", k, got[k], got[k], w, w, out)
		}
	}
	if _, ok := got["type"]; ok {
		t.Errorf("objective type leaked into the config:\n%s", out)
	}
	if !strings.Contains(out, "# budget") {
		t.Errorf("comment on epochs was lost:\n%s", out)
	}
	if strings.Count(out, "lr:") != 1 || strings.Index(out, "lr:") > strings.Index(out, "epochs:") {
		t.Errorf("lr should replace the objective option in place, before epochs:\n%s", out)
	}
}

// TestBestConfig_CommandStudy: `sweep train` cannot run a command study's
// best trial, so its config does not say it can.
func TestBestConfig_CommandStudy(t *testing.T) {
	spec := "study: s\nobjective:\n  type: command\n  argv: [python3, train.py]\nparams:\n  lr: {type: float, low: 0.001, high: 1}\n"
	out, err := bestConfig(StudyRow{Name: "s", Metric: "val_acc", Spec: spec}, []ParamRow{{Name: "lr", Kind: "float"}},
		Best{Number: 1, Value: 0.5, Params: map[string]any{"lr": 0.25}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "sweep train") || !strings.Contains(out, "the study's argv") || !strings.Contains(out, "lr: 0.25") {
		t.Errorf("command study's best config:\n%s", out)
	}
}

func TestParseDistribution_Forms(t *testing.T) {
	cases := []struct {
		raw  string
		want ParamRow
	}{
		{`{"name":"LogUniformDistribution","attributes":{"low":0.0001,"high":1}}`, ParamRow{Kind: "float", Log: true, Low: 1e-4, High: 1}},
		{`{"name":"IntUniformDistribution","attributes":{"low":5,"high":30}}`, ParamRow{Kind: "int", Low: 5, High: 30}},
		{`{"name":"CategoricalDistribution","attributes":{"choices":["a","b"]}}`, ParamRow{Kind: "categorical", Choices: []any{"a", "b"}}},
		{`{"type":"int","low":1,"high":64,"log":true}`, ParamRow{Kind: "int", Log: true, Low: 1, High: 64}},
	}
	for _, c := range cases {
		var p ParamRow
		if err := parseDistribution([]byte(c.raw), &p); err != nil {
			t.Fatalf("%s: %v", c.raw, err)
		}
		if p.Kind != c.want.Kind || p.Log != c.want.Log || p.Low != c.want.Low || p.High != c.want.High || len(p.Choices) != len(c.want.Choices) {
			t.Errorf("%s: got %+v, want %+v", c.raw, p, c.want)
		}
	}
	if err := parseDistribution([]byte(`not json`), new(ParamRow)); err == nil {
		t.Error("parseDistribution accepted invalid JSON")
	}
}

func TestCompare_BestSoFarCheckpoints(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	hist := func(vals ...float64) []HistoryRow {
		var h []HistoryRow
		for i, v := range vals {
			h = append(h, HistoryRow{N: i + 1, Number: i, BestSoFar: f(v)})
		}
		return h
	}
	a := &Report{Study: StudyRow{Name: "a", Direction: "maximize"}, History: hist(0.1, 0.5, 0.5, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.8, 0.8)}
	b := &Report{Study: StudyRow{Name: "b", Direction: "maximize"}, History: hist(0.2, 0.2, 0.3)}
	c := Compare(a, b)
	var ns []int
	for _, r := range c.Rows {
		ns = append(ns, r.N)
	}
	if got, want := ns, []int{1, 2, 3, 5, 10, 12}; !equalInts(got, want) {
		t.Fatalf("checkpoints = %v, want %v", got, want)
	}
	if *c.Rows[4].BestA != 0.7 || c.Rows[4].BestB != nil {
		t.Errorf("row n=10: got A=%v B=%v, want 0.7 and none", *c.Rows[4].BestA, c.Rows[4].BestB)
	}
	tab := c.Tables()[1]
	if tab.Rows[0][3] != "b" || tab.Rows[2][3] != "a" {
		t.Errorf("ahead column = %q, %q; want b then a", tab.Rows[0][3], tab.Rows[2][3])
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFormatDuration(t *testing.T) {
	for s, want := range map[float64]string{0: "0.0s", 42.04: "42.0s", 187: "3m07s", 7500: "2h05m", -1: "-"} {
		if got := formatDuration(s); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", s, got, want)
		}
	}
}

func TestBar(t *testing.T) {
	if got := bar(0.5, 4); got != "██" {
		t.Errorf("bar(0.5, 4) = %q", got)
	}
	if got := bar(1.0/8, 4); got != "▌" {
		t.Errorf("bar(1/8, 4) = %q, want a half block", got)
	}
}

// TestRender_EdgeCases renders every format for an empty study and for a
// minimised metric, where "best" means lowest.
func TestRender_EdgeCases(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	empty := &Data{Study: StudyRow{Name: "empty", Direction: "maximize", Metric: "val_acc"}}
	minimize := &Data{
		Study:  StudyRow{Name: "loss", Direction: "minimize", Metric: "val_loss"},
		Params: []ParamRow{{Name: "lr", Kind: "float", Log: true, Low: 1e-3, High: 1}},
	}
	for i := 0; i < 8; i++ {
		lr := math.Pow(10, -3+3*float64(i)/7)
		minimize.Trials = append(minimize.Trials, TrialRow{Number: i, State: "COMPLETE", Value: f(1 + float64((i-3)*(i-3))/10),
			Params: map[string]any{"lr": lr}, Steps: 2})
		minimize.Curves = append(minimize.Curves, CurvePoint{Number: i, Step: 1, Value: 3}, CurvePoint{Number: i, Step: 2, Value: 1 + float64((i-3)*(i-3))/10})
	}
	for _, d := range []*Data{empty, minimize} {
		r, err := Build(d, Options{})
		if err != nil {
			t.Fatalf("%s: %v", d.Study.Name, err)
		}
		for _, format := range Formats {
			var buf strings.Builder
			err := Render(&buf, r, format)
			if d == empty && format == "yaml" {
				if !errors.Is(err, ErrNoComplete) {
					t.Errorf("empty study as yaml: %v, want ErrNoComplete", err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s as %s: %v", d.Study.Name, format, err)
			}
		}
	}
	r, _ := Build(minimize, Options{})
	if r.Best == nil || r.Best.Number != 3 || r.Leaderboard[0].Number != 3 {
		t.Errorf("minimize: best = %+v, want trial 3 (lowest loss)", r.Best)
	}
	if err := Render(new(strings.Builder), r, "pdf"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Render(pdf) = %v, want ErrUnknownFormat", err)
	}
	if _, err := Build(minimize, Options{GroupBy: []string{"nope"}}); !errors.Is(err, ErrUnknownParam) {
		t.Errorf("Build(group by nope) = %v, want ErrUnknownParam", err)
	}
}

// TestRender_WrapsLongCells checks that a big search space's best params
// wrap instead of making the summary table wider than a terminal.
func TestRender_WrapsLongCells(t *testing.T) {
	v := 0.9
	d := &Data{Study: StudyRow{Name: "wide", Direction: "maximize", Metric: "val_acc"}}
	params := map[string]any{}
	for i := 0; i < 14; i++ {
		name := fmt.Sprintf("layer_lr_multiplier_%02d", i)
		d.Params = append(d.Params, ParamRow{Name: name, Kind: "float", Low: 0.1, High: 2})
		params[name] = 0.123456 + float64(i)
	}
	d.Trials = []TrialRow{{Number: 0, State: "COMPLETE", Value: &v, Params: params, Steps: 1}}
	r, err := Build(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := Render(&buf, r, "table"); err != nil {
		t.Fatal(err)
	}
	summary := strings.SplitN(buf.String(), "\n\n", 2)[0]
	for _, line := range strings.Split(summary, "\n") {
		if n := len([]rune(line)); n > 120 {
			t.Fatalf("summary line is %d runes wide, want ≤ 120:\n%s", n, summary)
		}
	}
	if !strings.Contains(summary, "layer_lr_multiplier_13=13.12") {
		t.Errorf("wrapped summary lost the last param:\n%s", summary)
	}
}

// BenchmarkImportance_1000Trials times PED-ANOVA alone on 1000 complete
// trials with three parameters (goal: well under 1 s).
func BenchmarkImportance_1000Trials(b *testing.B) {
	params, ts := synthTrials(1000)
	sortByValue(ts, true)
	for b.Loop() {
		importance(params, ts)
	}
}

// TestGroup_ShowsBestTrialsParams checks the article's table shape: per
// optimizer, the best trial, its learning rate, and "-" for a conditional
// parameter the best trial lacks.
func TestGroup_ShowsBestTrialsParams(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	d := &Data{
		Study: StudyRow{Name: "opt", Direction: "maximize", Metric: "val_acc"},
		Params: []ParamRow{
			{Name: "optimizer", Kind: "categorical", Choices: []any{"sgd", "adamw"}},
			{Name: "lr", Kind: "float", Low: 1e-3, High: 1, Log: true},
			{Name: "momentum", Kind: "float", Low: 0.8, High: 0.95},
		},
		Trials: []TrialRow{
			{Number: 0, State: "COMPLETE", Value: f(0.80), Params: map[string]any{"optimizer": "sgd", "lr": 0.1, "momentum": 0.9}, Steps: 4},
			{Number: 1, State: "COMPLETE", Value: f(0.85), Params: map[string]any{"optimizer": "sgd", "lr": 0.3, "momentum": 0.85}, Steps: 4},
			{Number: 2, State: "COMPLETE", Value: f(0.83), Params: map[string]any{"optimizer": "adamw", "lr": 0.002}, Steps: 4},
			{Number: 3, State: "PRUNED", Value: f(0.99), Params: map[string]any{"optimizer": "adamw", "lr": 0.5}, Steps: 1},
		},
	}
	r, err := Build(d, Options{GroupBy: []string{"optimizer"}, Show: []string{"lr", "momentum"}})
	if err != nil {
		t.Fatal(err)
	}
	rows := r.Groups[0].Rows
	if len(rows) != 2 || *rows[0].BestTrial != 1 || rows[0].BestParams["lr"] != 0.3 ||
		*rows[1].BestTrial != 2 || rows[1].BestParams["lr"] != 0.002 {
		t.Fatalf("rows = %+v, want sgd best #1 lr 0.3, adamw best #2 lr 0.002 (a pruned trial never sets best)", rows)
	}
	var buf strings.Builder
	if err := Render(&buf, r, "markdown"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"best #", "lr (best)", "momentum (best)", "| sgd ", "#1", "#2"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	var adamw string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| adamw ") {
			adamw = line
		}
	}
	if cells := strings.Split(adamw, "|"); len(cells) < 9 || strings.TrimSpace(cells[8]) != "-" {
		t.Errorf("adamw row %q: want - for the momentum its best trial lacks", adamw)
	}
	if _, err := Build(d, Options{GroupBy: []string{"optimizer"}, Show: []string{"nope"}}); !errors.Is(err, ErrUnknownParam) {
		t.Errorf("Build(show nope) = %v, want ErrUnknownParam", err)
	}
}

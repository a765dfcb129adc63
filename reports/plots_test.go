package reports_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"sweep/reports"
	"sweep/reports/reportstest"
)

// This file checks the HTML report's figures from in-memory rows, where a
// test controls every time, worker and parameter: parallel coordinates,
// slice, contour, EDF, timeline, legends and down-sampling.

// svgElem is one element of a parsed figure.
type svgElem struct {
	name  string
	attr  map[string]string
	text  string // character data inside it (a <text>'s label)
	title string // its <title> child's text (hover text)
}

// parseSVG parses a figure's SVG as XML, failing the test when it is not
// well formed: text that escaped its escaping would show up here.
func parseSVG(tb testing.TB, svg string) []svgElem {
	tb.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	var out []svgElem
	var stack []int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("svg does not parse: %v\n%s", err, clip([]byte(svg)))
		}
		switch x := tok.(type) {
		case xml.StartElement:
			e := svgElem{name: x.Name.Local, attr: map[string]string{}}
			for _, a := range x.Attr {
				e.attr[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			top := stack[len(stack)-1]
			out[top].text += string(x)
			if out[top].name == "title" && len(stack) > 1 {
				out[stack[len(stack)-2]].title += string(x)
			}
		}
	}
	return out
}

func attrF(tb testing.TB, e svgElem, name string) float64 {
	tb.Helper()
	f, err := strconv.ParseFloat(e.attr[name], 64)
	if err != nil {
		tb.Fatalf("<%s %s=%q>: %v", e.name, name, e.attr[name], err)
	}
	return f
}

func figure(tb testing.TB, r *reports.Report, id string) reports.Figure {
	tb.Helper()
	for _, f := range r.Figures() {
		if f.ID == id {
			return f
		}
	}
	tb.Fatalf("no figure %q", id)
	return reports.Figure{}
}

func hasFigure(r *reports.Report, id string) bool {
	for _, f := range r.Figures() {
		if f.ID == id {
			return true
		}
	}
	return false
}

// memParams is the fixture study's search space as report_params gives it.
var memParams = []reports.ParamRow{
	{Name: "lr", Kind: "float", Log: true, Low: 1e-4, High: 1},
	{Name: "momentum", Kind: "float", Low: 0.8, High: 0.99},
	{Name: "batch_size", Kind: "categorical", Choices: []any{"64", "128", "256"}},
	{Name: "optimizer", Kind: "categorical", Choices: []any{"sgd", "adamw"}},
	{Name: "scheduler", Kind: "categorical", Choices: []any{"cosine", "step", "onecycle"}},
	{Name: "step_size", Kind: "int", Low: 5, High: 30},
}

// memTrial describes one trial of an in-memory study.
type memTrial struct {
	state    string
	value    float64
	params   map[string]any
	steps    int
	worker   string
	start    float64 // seconds after fixtureT0
	duration float64 // seconds; a RUNNING trial has no finish
}

// memData builds the rows Load would return for trials (maximize
// val_acc): summary counts, history with best-so-far, and a straight
// learning curve of steps points ending at each trial's value.
func memData(spec string, params []reports.ParamRow, trials []memTrial) *reports.Data {
	d := &reports.Data{
		Study:  reports.StudyRow{ID: 1, Name: "mem", Direction: "maximize", Metric: "val_acc", Spec: spec, Status: "finished", Created: fixtureT0},
		Params: params,
	}
	var best *float64
	for i, m := range trials {
		t := reports.TrialRow{Number: i, State: m.state, Params: m.params, Steps: m.steps, DurationS: m.duration, Worker: m.worker}
		if m.state == "COMPLETE" || m.state == "PRUNED" {
			v := m.value
			t.Value = &v
		}
		if m.state != "WAITING" {
			st := fixtureT0.Add(time.Duration(m.start * float64(time.Second)))
			t.Started = &st
			if m.state != "RUNNING" {
				fin := st.Add(time.Duration(m.duration * float64(time.Second)))
				t.Finished = &fin
			}
		}
		d.Trials = append(d.Trials, t)
		d.Summary.Trials++
		switch m.state {
		case "COMPLETE":
			d.Summary.Complete++
			if best == nil || m.value > *best {
				v := m.value
				best = &v
			}
		case "PRUNED":
			d.Summary.Pruned++
		case "FAIL":
			d.Summary.Failed++
		case "RUNNING":
			d.Summary.Running++
		}
		if m.state == "COMPLETE" || m.state == "PRUNED" || m.state == "FAIL" {
			d.History = append(d.History, reports.HistoryRow{N: len(d.History) + 1, Number: i, State: m.state, Value: t.Value, BestSoFar: best})
		}
		for s := 1; s <= m.steps; s++ {
			d.Curves = append(d.Curves, reports.CurvePoint{Number: i, Step: s, Value: m.value * float64(s) / float64(m.steps), ElapsedS: -1})
		}
	}
	return d
}

// lcg is a deterministic source for in-memory studies.
type lcg uint64

func (l *lcg) next() float64 {
	*l = *l*6364136223846793005 + 1442695040888963407
	return float64(uint64(*l)>>11) / (1 << 53)
}

// bigTrials makes n trials of the fixture's search space on 8 worker
// slots that run back to back: lr and the optimizer drive the value;
// about 35% are pruned at epoch 3 and 5% fail.
func bigTrials(n int) []memTrial {
	src := lcg(11)
	clock := make([]float64, 8)
	var out []memTrial
	for i := 0; i < n; i++ {
		lr := math.Exp(math.Log(1e-4) + src.next()*math.Log(1e4))
		opt := []string{"sgd", "adamw"}[int(src.next()*2)]
		sched := []string{"cosine", "step", "onecycle"}[int(src.next()*3)]
		params := map[string]any{"lr": lr, "momentum": 0.8 + 0.19*src.next(),
			"batch_size": []string{"64", "128", "256"}[int(src.next()*3)], "optimizer": opt, "scheduler": sched}
		if sched == "step" {
			params["step_size"] = float64(5 + int(src.next()*26))
		}
		best := map[string]float64{"sgd": -1, "adamw": -2.5}[opt]
		v := 0.93 - 0.05*math.Pow(math.Log10(lr)-best, 2) + 0.01*src.next()
		m := memTrial{state: "COMPLETE", value: v, params: params, steps: 10}
		switch u := src.next(); {
		case u < 0.05:
			m.state, m.steps = "FAIL", 2
		case u < 0.40:
			m.state, m.steps = "PRUNED", 3
		}
		slot := i % 8
		m.worker = fmt.Sprintf("gpu-host:%d:5f3a/%d", 100+slot/4, slot%4)
		m.duration = float64(m.steps) * (20 + 10*src.next())
		m.start = clock[slot] + 2
		clock[slot] = m.start + m.duration
		out = append(out, m)
	}
	return out
}

// specFor is the fixture spec for a study of n trials.
func specFor(name string, n int) string { return fmt.Sprintf(reportstest.Spec, name, n) }

func buildMem(tb testing.TB, d *reports.Data) *reports.Report {
	tb.Helper()
	r, err := reports.Build(d, reports.Options{})
	if err != nil {
		tb.Fatalf("build: %v", err)
	}
	return r
}

var pathPoint = regexp.MustCompile(`([ML])(-?[\d.]+) (-?[\d.]+)`)

// parallelView is what checkParallel read from the parallel coordinates.
type parallelView struct {
	axes   []string        // axis names, left to right
	ticks  map[string]bool // tick labels
	lines  int             // trial lines drawn
	breaks int             // pen lifts inside a line
}

// checkParallel reads the parallel-coordinates figure and checks its
// lines: every point sits on an axis, a trial's line touches a parameter's
// axis only when the trial sampled it, and every segment joins
// neighbouring axes (a line lifts its pen rather than crossing an axis it
// has no value for).
func checkParallel(t *testing.T, r *reports.Report) parallelView {
	t.Helper()
	elems := parseSVG(t, figure(t, r, "parallel").SVG)
	type axis struct {
		name string
		x    float64
	}
	var axes []axis
	v := parallelView{ticks: map[string]bool{}}
	for _, e := range elems {
		switch {
		case e.name == "text" && e.attr["class"] == "label":
			axes = append(axes, axis{e.text, attrF(t, e, "x")})
		case e.name == "text" && e.attr["class"] == "tick":
			v.ticks[e.text] = true
		}
	}
	sort.Slice(axes, func(i, j int) bool { return axes[i].x < axes[j].x })
	for _, a := range axes {
		v.axes = append(v.axes, a.name)
	}
	axisOf := func(x float64) int {
		for i, a := range axes {
			if math.Abs(a.x-x) < 0.2 {
				return i
			}
		}
		return -1
	}
	params := map[int]map[string]any{}
	for _, tr := range r.Trials {
		params[tr.Number] = tr.Params
	}
	for _, e := range elems {
		if e.name != "path" {
			continue
		}
		v.lines++
		var num int
		if _, err := fmt.Sscanf(e.title, "trial %d:", &num); err != nil {
			t.Fatalf("path title %q: %v", e.title, err)
		}
		prev := -1
		for _, m := range pathPoint.FindAllStringSubmatch(e.attr["d"], -1) {
			x, _ := strconv.ParseFloat(m[2], 64)
			i := axisOf(x)
			if i < 0 {
				t.Fatalf("trial %d has a point at x=%v, on no axis", num, x)
			}
			if _, ok := params[num][axes[i].name]; !ok && i > 0 {
				t.Errorf("trial %d did not sample %s but its line crosses that axis", num, axes[i].name)
			}
			if m[1] == "L" && i != prev+1 {
				t.Errorf("trial %d: a segment joins axis %d to axis %d, crossing one between", num, prev, i)
			}
			if m[1] == "M" && prev >= 0 {
				v.breaks++
			}
			prev = i
		}
	}
	return v
}

// TestParallel_ConditionalAndCategoricalAxes checks the parallel
// coordinates: a tick labelled for every categorical choice (the middle
// ones too), axes in importance order after the metric, and lines that
// break at the conditional step_size for trials that lack it.
func TestParallel_ConditionalAndCategoricalAxes(t *testing.T) {
	r := buildMem(t, memData(specFor("mem", 10), memParams, bigTrials(60)))
	if len(r.Importance) == 0 {
		t.Fatal("no importance estimate for 60 trials")
	}
	v := checkParallel(t, r)
	want := []string{"val_acc"}
	for _, im := range r.Importance {
		want = append(want, im.Param)
	}
	if strings.Join(v.axes, ",") != strings.Join(want, ",") {
		t.Errorf("axes left to right = %v, want the metric then parameters by importance %v", v.axes, want)
	}
	for _, c := range []string{"64", "128", "256", "cosine", "step", "onecycle", "sgd", "adamw"} {
		if !v.ticks[c] {
			t.Errorf("no tick labelled %q (every categorical choice needs one)", c)
		}
	}
	if v.lines != r.Summary.Complete {
		t.Errorf("drew %d lines, want one per complete trial (%d)", v.lines, r.Summary.Complete)
	}
	if v.breaks == 0 {
		t.Error("no line breaks, though most trials lack the conditional step_size")
	}
}

// TestFigures_OptunaPlots checks the slice, contour and EDF figures of a
// study with enough trials for importance.
func TestFigures_OptunaPlots(t *testing.T) {
	r := buildMem(t, memData(specFor("mem", 10), memParams, bigTrials(80)))
	t.Run("slice", func(t *testing.T) {
		elems := parseSVG(t, figure(t, r, "slice").SVG)
		panels, dots := 0, 0
		for _, e := range elems {
			switch {
			case e.name == "svg" && e.attr["x"] != "":
				panels++
			case e.name == "circle":
				dots++
			}
		}
		if panels != len(memParams) {
			t.Errorf("slice has %d panels, want one per parameter (%d)", panels, len(memParams))
		}
		// Every parameter's panel has a dot per trial that sampled it.
		want := 0
		for _, tr := range r.Trials {
			if tr.State == "COMPLETE" {
				want += len(tr.Params)
			}
		}
		if dots != want {
			t.Errorf("slice has %d dots, want %d (one per complete trial and parameter it sampled)", dots, want)
		}
	})
	t.Run("contour", func(t *testing.T) {
		f := figure(t, r, "contour")
		if !strings.Contains(f.Note, "binned, not interpolated") {
			t.Errorf("contour note does not say how it is made: %q", f.Note)
		}
		elems := parseSVG(t, f.SVG)
		var title string
		cells, counted := 0, 0
		for _, e := range elems {
			if e.name == "text" && e.attr["class"] == "title" {
				title = e.text
			}
			var mean float64
			var n int
			if e.name == "rect" && e.title != "" {
				if _, err := fmt.Sscanf(e.title, "mean %g of %d trials", &mean, &n); err == nil {
					cells++
					counted += n
				}
			}
		}
		wantTitle := "Contour: " + r.Importance[0].Param + " × " + r.Importance[1].Param
		if title != wantTitle {
			t.Errorf("contour title %q, want %q (the two most important parameters)", title, wantTitle)
		}
		both := 0
		for _, tr := range r.Trials {
			_, a := tr.Params[r.Importance[0].Param]
			_, b := tr.Params[r.Importance[1].Param]
			if tr.State == "COMPLETE" && a && b {
				both++
			}
		}
		if cells < 2 || counted != both {
			t.Errorf("contour has %d cells holding %d trials, want the %d complete trials that sampled both", cells, counted, both)
		}
	})
	t.Run("edf", func(t *testing.T) {
		elems := parseSVG(t, figure(t, r, "edf").SVG)
		var pts [][2]float64
		for _, e := range elems {
			if e.name == "polyline" {
				for _, p := range strings.Fields(e.attr["points"]) {
					var x, y float64
					fmt.Sscanf(p, "%g,%g", &x, &y)
					pts = append(pts, [2]float64{x, y})
				}
			}
		}
		if len(pts) < 2*r.Summary.Complete {
			t.Fatalf("EDF has %d points, want a step per complete trial (%d)", len(pts), r.Summary.Complete)
		}
		for i := 1; i < len(pts); i++ {
			if pts[i][0] < pts[i-1][0] || pts[i][1] > pts[i-1][1] { // SVG y grows downwards
				t.Fatalf("EDF falls or goes back at point %d: %v after %v", i, pts[i], pts[i-1])
			}
		}
	})
}

// TestTimeline_IdleSlotsAndStragglers lays out three slots: one idle for
// 10 s between two trials, one busy throughout, one running a trial at a
// sixth of the others' pace, and one trial still running.
func TestTimeline_IdleSlotsAndStragglers(t *testing.T) {
	p := map[string]any{"lr": 0.01}
	trials := []memTrial{
		{state: "COMPLETE", value: 0.8, params: p, steps: 10, worker: "h:1:a/0", start: 0, duration: 10},
		{state: "COMPLETE", value: 0.8, params: p, steps: 10, worker: "h:1:a/1", start: 0, duration: 10},
		{state: "PRUNED", value: 0.5, params: p, steps: 10, worker: "h:1:a/1", start: 10, duration: 10},
		{state: "COMPLETE", value: 0.8, params: p, steps: 10, worker: "h:1:a/0", start: 20, duration: 10},
		{state: "COMPLETE", value: 0.8, params: p, steps: 10, worker: "h:1:a/1", start: 20, duration: 10},
		{state: "COMPLETE", value: 0.8, params: p, steps: 10, worker: "h:2:b/0", start: 1, duration: 60},
		{state: "RUNNING", params: p, steps: 5, worker: "h:1:a/0", start: 40, duration: 5},
		{state: "WAITING"},
	}
	r := buildMem(t, memData(specFor("mem", 10), memParams[:1], trials))
	f := figure(t, r, "timeline")
	elems := parseSVG(t, f.SVG)
	var lanes []string
	bars := map[int]svgElem{}
	var outlined []string
	legend := map[string]bool{}
	for _, e := range elems {
		var n int
		switch {
		case e.name == "text" && e.attr["text-anchor"] == "end":
			lanes = append(lanes, e.text)
		case e.name == "text" && e.attr["class"] == "tick" && e.attr["text-anchor"] == "":
			legend[e.text] = true
		case e.name == "rect" && e.attr["fill"] == "none":
			outlined = append(outlined, e.title)
		case e.name == "rect":
			if _, err := fmt.Sscanf(e.title, "trial %d", &n); err == nil {
				bars[n] = e
			}
		}
	}
	if got := strings.Join(lanes, ","); got != "h:1:a/0,h:1:a/1,h:2:b/0" {
		t.Errorf("lanes = %s, want one per worker slot by first start", got)
	}
	if len(bars) != 7 {
		t.Fatalf("%d bars, want one per started trial (7): %v", len(bars), bars)
	}
	x := func(n int) (float64, float64) {
		return attrF(t, bars[n], "x"), attrF(t, bars[n], "x") + attrF(t, bars[n], "width")
	}
	_, end0 := x(0)
	start3, end3 := x(3)
	if attrF(t, bars[0], "y") != attrF(t, bars[3], "y") {
		t.Errorf("trials 0 and 3 ran on the same slot but sit on different lanes")
	}
	if gap, width := start3-end0, end3-start3; math.Abs(gap-width) > 0.5 {
		t.Errorf("the 10 s idle gap is %.1f px wide, want that of a 10 s trial (%.1f px)", gap, width)
	}
	_, end1 := x(1)
	start2, _ := x(2)
	if math.Abs(end1-start2) > 0.5 {
		t.Errorf("slot h:1:a/1 ran back to back but its bars leave a gap or overlap")
	}
	wantFill := map[int]string{0: "#0072b2", 2: "#d55e00", 6: "#009e73"}
	for n, fill := range wantFill {
		if bars[n].attr["fill"] != fill {
			t.Errorf("trial %d (%s) is %s, want %s", n, r.Trials[n].State, bars[n].attr["fill"], fill)
		}
	}
	if len(outlined) != 1 || !strings.HasPrefix(outlined[0], "straggler: trial 5,") {
		t.Errorf("outlined bars %q, want the straggler trial 5 only", outlined)
	}
	for _, st := range []string{"complete", "pruned", "running"} {
		if !legend[st] {
			t.Errorf("legend lacks %q", st)
		}
	}
	if legend["fail"] {
		t.Error("legend lists fail, though no trial failed")
	}
	if !strings.Contains(f.Note, "1 straggler") {
		t.Errorf("note does not count the straggler: %q", f.Note)
	}
}

// TestFigures_LegendListsOnlySeriesWithData: the synthetic objective stores
// val_loss but no train_loss, so the losses legend must not name it.
func TestFigures_LegendListsOnlySeriesWithData(t *testing.T) {
	d := memData(specFor("mem", 10), memParams[:1], []memTrial{
		{state: "COMPLETE", value: 0.8, params: map[string]any{"lr": 0.01}, steps: 3, worker: "w/0", duration: 3},
	})
	for s := 1; s <= 3; s++ {
		d.BestMetrics = append(d.BestMetrics, reports.MetricPoint{Name: "val_loss", Step: s, Value: 1 / float64(s)})
	}
	r := buildMem(t, d)
	labels := map[string]bool{}
	for _, e := range parseSVG(t, figure(t, r, "loss").SVG) {
		if e.name == "text" {
			labels[e.text] = true
		}
	}
	if !labels["val_loss"] || labels["train_loss"] {
		t.Errorf("losses legend: val_loss %v, train_loss %v; want only the series with data", labels["val_loss"], labels["train_loss"])
	}
}

// TestRender_10000Trials: a 10,000-trial study renders as an HTML page
// under 5 MB because every figure down-samples and says so; the time it
// takes is BenchmarkRender_10000Trials's business.
func TestRender_10000Trials(t *testing.T) {
	const n = 10000
	r := buildMem(t, memData(specFor("big", n), memParams, bigTrials(n)))
	var buf bytes.Buffer
	if err := reports.Render(&buf, r, "html"); err != nil {
		t.Fatal(err)
	}
	if size := buf.Len(); size > 5<<20 {
		t.Errorf("HTML of %d trials is %.1f MB, want under 5 MB", n, float64(size)/(1<<20))
	}
	marks := map[string]string{"history": "circle", "curves": "polyline", "parallel": "path"}
	for id, mark := range marks {
		f := figure(t, r, id)
		if !strings.Contains(f.Note, "drawn: ") {
			t.Errorf("%s note does not say it was down-sampled: %q", id, f.Note)
		}
		count := 0
		for _, e := range parseSVG(t, f.SVG) {
			if e.name == mark {
				count++
			}
		}
		if count > 1100 || count < 500 {
			t.Errorf("%s draws %d <%s>, want about a thousand", id, count, mark)
		}
	}
	if !strings.Contains(figure(t, r, "parallel").SVG, fmt.Sprintf("<title>trial %d:", r.Best.Number)) {
		t.Errorf("down-sampled parallel coordinates lost the best trial %d", r.Best.Number)
	}
	tl := figure(t, r, "timeline")
	if !strings.Contains(tl.Note, "pixel column") {
		t.Errorf("timeline note does not say it merged bars: %q", tl.Note)
	}
	if rects := strings.Count(tl.SVG, "<rect"); rects > 8*1000 {
		t.Errorf("timeline has %d rects, more than 8 lanes × its width", rects)
	}
}

// BenchmarkRender_10000Trials measures building and rendering the HTML
// report of a 10,000-trial study from loaded rows. Goal: under 1 s per op.
func BenchmarkRender_10000Trials(b *testing.B) {
	d := memData(specFor("big", 10000), memParams, bigTrials(10000))
	size := 0
	for b.Loop() {
		r, err := reports.Build(d, reports.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := reports.Render(&buf, r, "html"); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/(1<<20), "MB/page")
}

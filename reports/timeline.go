package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Constants of the timeline.
const (
	// stragglerFactor marks a trial as a straggler when its seconds per
	// step exceed this multiple of the study's median.
	stragglerFactor = 2.0
	// minStragglerTrials is the fewest finished trials with steps that
	// give a median worth comparing against.
	minStragglerTrials = 5
	// maxStragglers is the most straggler outlines drawn (slowest first).
	maxStragglers = 100
)

// timelineBar is one trial on the timeline, in seconds since the first
// trial started.
type timelineBar struct {
	lane       int
	start, end float64
	t          TrialRow
	straggler  bool
}

// timelineFigure draws one lane per worker slot (the trials' worker id,
// "<worker>/<slot>") and one bar per trial from its start to its finish
// (now, for a running trial), coloured by state. White space in a lane is
// the slot standing idle: waiting to claim, or done while others still run.
// Outlined bars are stragglers, over stragglerFactor times the study's
// median seconds per step. Past maxDrawn trials each lane is drawn one
// pixel column at a time in the state that covers most of it, so idle gaps
// of a pixel or more stay visible however many trials there are. z.X
// zooms the time axis (in the chart's unit); z.Y is ignored.
func (r *Report) timelineFigure(z Zoom) (Figure, bool) {
	bars, lanes := timelineBars(r.Trials)
	if len(bars) == 0 {
		return Figure{}, false
	}
	span := 0.0
	for _, b := range bars {
		span = math.Max(span, b.end)
	}
	span = math.Max(span, 1e-3)
	div, unitName := timeUnit(span)
	laneH := math.Min(18, math.Max(3, math.Floor(360/float64(len(lanes)))))
	p := &plot{w: 1120, h: 72 + laneH*float64(len(lanes)), left: 160, right: 16, top: 30, bot: 42,
		x0: 0, x1: span / div, y0: 0, y1: float64(len(lanes)),
		title: "Timeline of trials per worker slot", xlabel: "time since the first trial started (" + unitName + ")"}
	every := (len(lanes) + 39) / 40
	for i, name := range lanes {
		label := ""
		if i%every == 0 {
			label = clipText(name, 26, true)
		}
		p.yTicks = append(p.yTicks, axisTick{float64(len(lanes)-i) - 0.5, label})
	}
	p.zoomTo(Zoom{X: z.X})
	p.frame()
	// Count only the bars in a zoomed time range, so that zooming in
	// draws them one by one again.
	all := bars
	bars = p.barsIn(bars, div)
	laneY := func(lane int) (float64, float64) { // data y of a lane's bar, bottom and top
		top := float64(len(lanes) - lane)
		return top - 0.9, top - 0.1
	}
	states := map[string]bool{}
	for _, b := range bars {
		states[b.t.State] = true
	}
	if len(bars) <= maxDrawn {
		for _, b := range bars {
			y0, y1 := laneY(b.lane)
			p.rect(b.start/div, b.end/div, y0, y1, 1, stateColor(b.t.State), fmt.Sprintf("trial %d %s, %s, %s",
				b.t.Number, b.t.State, formatDuration(b.end-b.start), b.t.Worker))
		}
	} else {
		p.rasterLanes(bars, len(lanes), div, laneY)
	}
	stragglers := 0
	for _, b := range slowestFirst(bars) {
		if !b.straggler || stragglers == maxStragglers {
			break
		}
		stragglers++
		y0, y1 := laneY(b.lane)
		s, e, _ := p.clampSpan(b.start/div, b.end/div)
		x0, x1 := p.px(s), p.px(e)
		fmt.Fprintf(&p.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#000" stroke-width="1.2"><title>straggler: trial %d, %s per step</title></rect>`,
			num(x0), num(p.py(y1)), num(math.Max(1, x1-x0)), num(p.py(y0)-p.py(y1)), b.t.Number, formatDuration((b.end-b.start)/float64(b.t.Steps)))
	}
	var legend []legendEntry
	for _, st := range []string{"COMPLETE", "PRUNED", "FAIL", "RUNNING"} {
		legend = append(legend, legendEntry{states[st], stateColor(st), strings.ToLower(st)})
	}
	p.legend(legendItems(legend...)...)
	note := fmt.Sprintf("view report_trials (worker, started, finished); one lane per worker slot; white = the slot stood idle; "+
		"slots busy %s of the time from their first trial to the last finish", formatShare(busyShare(all, len(lanes), span)))
	if stragglers > 0 {
		note += fmt.Sprintf("; outlined: %d straggler(s), over %g× the median time per step", stragglers, stragglerFactor)
	}
	if len(bars) > maxDrawn {
		note += fmt.Sprintf("; %d trials drawn one pixel column at a time in the state covering most of it", len(bars))
	}
	return Figure{ID: "timeline", Note: note, SVG: p.svg(), Axes: p.axes(true, false)}, true
}

// timelineBars places the trials that started on lanes (worker ids,
// ordered by their first start, then name) and marks stragglers.
func timelineBars(trials []TrialRow) ([]timelineBar, []string) {
	var t0 time.Time
	for _, t := range trials {
		if t.Started != nil && (t0.IsZero() || t.Started.Before(t0)) {
			t0 = *t.Started
		}
	}
	first := map[string]float64{}
	var bars []timelineBar
	for _, t := range trials {
		if t.Started == nil {
			continue
		}
		start := t.Started.Sub(t0).Seconds()
		end := start + math.Max(0, t.DurationS)
		if t.Finished != nil {
			end = math.Max(start, t.Finished.Sub(t0).Seconds())
		}
		if f, ok := first[laneName(t)]; !ok || start < f {
			first[laneName(t)] = start
		}
		bars = append(bars, timelineBar{start: start, end: end, t: t})
	}
	lanes := make([]string, 0, len(first))
	for w := range first {
		lanes = append(lanes, w)
	}
	sort.Slice(lanes, func(i, j int) bool {
		if first[lanes[i]] != first[lanes[j]] {
			return first[lanes[i]] < first[lanes[j]]
		}
		return lanes[i] < lanes[j]
	})
	index := map[string]int{}
	for i, w := range lanes {
		index[w] = i
	}
	for i := range bars {
		bars[i].lane = index[laneName(bars[i].t)]
	}
	markStragglers(bars)
	return bars, lanes
}

// laneName is the timeline lane of a trial: its worker slot.
func laneName(t TrialRow) string {
	if t.Worker == "" {
		return "(no worker recorded)"
	}
	return t.Worker
}

// markStragglers flags the bars whose time per step exceeds
// stragglerFactor times the median of the finished trials; a trial that
// reported no step has no pace and is never flagged.
func markStragglers(bars []timelineBar) {
	var pace []float64
	for _, b := range bars {
		if b.t.Steps > 0 && (b.t.State == "COMPLETE" || b.t.State == "PRUNED") {
			pace = append(pace, (b.end-b.start)/float64(b.t.Steps))
		}
	}
	if len(pace) < minStragglerTrials {
		return
	}
	sort.Float64s(pace)
	median := pace[len(pace)/2]
	for i, b := range bars {
		bars[i].straggler = b.t.Steps > 0 && (b.end-b.start)/float64(b.t.Steps) > stragglerFactor*median
	}
}

// slowestFirst returns the bars by time per step, slowest first.
func slowestFirst(bars []timelineBar) []timelineBar {
	out := append([]timelineBar(nil), bars...)
	pace := func(b timelineBar) float64 {
		if b.t.Steps == 0 {
			return 0
		}
		return (b.end - b.start) / float64(b.t.Steps)
	}
	sort.SliceStable(out, func(i, j int) bool { return pace(out[i]) > pace(out[j]) })
	return out
}

// rasterLanes draws each lane one pixel column at a time: a column takes
// the state whose trials cover most of it, and stays white when trials
// cover less than half of it. Runs of equal columns become one rect, so
// the output is bounded by lanes × width whatever the number of trials.
func (p *plot) rasterLanes(bars []timelineBar, lanes int, div float64, laneY func(int) (float64, float64)) {
	states := []string{"COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"}
	stateIdx := map[string]int{}
	for i, s := range states {
		stateIdx[s] = i
	}
	cols := int(math.Ceil(p.w - p.left - p.right))
	cover := make([][]float64, lanes)
	for i := range cover {
		cover[i] = make([]float64, cols*len(states))
	}
	for _, b := range bars {
		s, ok := stateIdx[b.t.State]
		if !ok {
			s = len(states) - 1
		}
		a, z := p.px(b.start/div)-p.left, p.px(b.end/div)-p.left
		for c := max(0, int(a)); c < cols && float64(c) < z; c++ {
			cover[b.lane][c*len(states)+s] += math.Min(z, float64(c+1)) - math.Max(a, float64(c))
		}
	}
	width := p.w - p.left - p.right
	toX := func(c int) float64 { return p.x0 + float64(c)/width*(p.x1-p.x0) }
	for lane := range cover {
		y0, y1 := laneY(lane)
		run, from := -1, 0
		flush := func(to int) {
			if run >= 0 {
				p.rect(toX(from), toX(to), y0, y1, 0, stateColor(states[run]), strings.ToLower(states[run]))
			}
		}
		for c := 0; c <= cols; c++ {
			st := -1
			if c < cols {
				col := cover[lane][c*len(states) : (c+1)*len(states)]
				total, most := 0.0, 0.0
				for s, v := range col {
					total += v
					if v > most {
						st, most = s, v
					}
				}
				if total < 0.5 {
					st = -1
				}
			}
			if st != run {
				flush(c)
				run, from = st, c
			}
		}
	}
}

// busyShare is the share of slot time spent running trials, each slot
// counted from its first trial to the end of the last one (span).
func busyShare(bars []timelineBar, lanes int, span float64) float64 {
	first := make([]float64, lanes)
	for i := range first {
		first[i] = math.Inf(1)
	}
	busy := 0.0
	for _, b := range bars {
		first[b.lane] = math.Min(first[b.lane], b.start)
		busy += b.end - b.start
	}
	total := 0.0
	for _, f := range first {
		total += span - f
	}
	if total <= 0 {
		return 1
	}
	return math.Min(1, busy/total)
}

// timeUnit picks the timeline's unit for a span in seconds.
func timeUnit(span float64) (float64, string) {
	switch {
	case span < 180:
		return 1, "s"
	case span < 3*3600:
		return 60, "min"
	default:
		return 3600, "h"
	}
}

// stateColor is a trial state's colour, as in the other figures.
func stateColor(state string) string {
	switch state {
	case "COMPLETE":
		return colBlue
	case "PRUNED":
		return colRed
	case "FAIL":
		return "#444444"
	case "RUNNING":
		return colGreen
	}
	return colGrey
}

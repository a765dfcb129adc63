package sweep

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/c-bata/goptuna"
)

// studyProgress is what the study line knows: the trials finished, by
// number, from this worker's slots and from the store (other workers, and
// earlier runs), and the trials the store says are running. Counting by
// number makes the two sources merge without counting a trial twice.
type studyProgress struct {
	DisplayStudy
	known    bool // SetStudy was called
	finished map[int]finishedTrial
	running  map[int]bool // RUNNING in the store at the last observe
}

// finishedTrial is how a trial ended.
type finishedTrial struct {
	state goptuna.TrialState
	value float64
	took  time.Duration // wall time from start to finish; 0 when unknown
}

// add records a trial this worker finished.
func (p *studyProgress) add(number int, t finishedTrial) {
	p.finished[number] = t
}

// observe merges the stored trials. A trial stored as RUNNING that this
// worker saw finish stays finished (its result may wait in the journal).
func (p *studyProgress) observe(trials []goptuna.FrozenTrial) {
	p.running = map[int]bool{}
	for _, t := range trials {
		switch {
		case t.State.IsFinished():
			f := finishedTrial{state: t.State, value: t.Value}
			if !t.DatetimeStart.IsZero() && t.DatetimeComplete.After(t.DatetimeStart) {
				f.took = t.DatetimeComplete.Sub(t.DatetimeStart)
			} else if old, ok := p.finished[t.Number]; ok {
				f.took = old.took
			}
			p.finished[t.Number] = f
		case t.State == goptuna.TrialStateRunning:
			p.running[t.Number] = true
		}
	}
}

// line is the study line: "12/30 done · 3 running · best 0.858 (#19) ·
// ETA 4m". busy are the trials this worker's slots run; slots is how many
// it has. Best and ETA appear once known.
func (p *studyProgress) line(busy []int, slots int) string {
	running := p.runningCount(busy)
	parts := []string{fmt.Sprintf("%d/%d done", len(p.finished), p.Trials), fmt.Sprintf("%d running", running)}
	if n, v, ok := p.best(); ok {
		parts = append(parts, fmt.Sprintf("best %.4g (#%d)", v, n))
	}
	if eta, ok := p.eta(max(slots, running)); ok {
		parts = append(parts, "ETA "+roughDuration(eta))
	}
	return strings.Join(parts, " · ")
}

// runningCount is the number of unfinished trials running here or, as
// the store said last, elsewhere.
func (p *studyProgress) runningCount(busy []int) int {
	n := 0
	for num := range p.running {
		if _, done := p.finished[num]; !done {
			n++
		}
	}
	for _, num := range busy {
		if _, done := p.finished[num]; !done && !p.running[num] {
			n++
		}
	}
	return n
}

// best returns the number and value of the best COMPLETE trial.
func (p *studyProgress) best() (number int, value float64, ok bool) {
	for n, t := range p.finished {
		if t.state != goptuna.TrialStateComplete || math.IsNaN(t.value) || math.IsInf(t.value, 0) {
			continue
		}
		better := !ok || (p.Maximize && t.value > value) || (!p.Maximize && t.value < value) ||
			t.value == value && n < number
		if better {
			number, value, ok = n, t.value, true
		}
	}
	return number, value, ok
}

// eta estimates the time until the budget is spent: the mean duration of
// the finished trials × the trials remaining ÷ the trials that can run at
// once (workers, but no more than remain). The mean, not the median: the
// remaining time is a sum of durations, whose expectation is count × mean,
// and the durations are a mixture (pruned trials stop early, complete ones
// run the full length) whose median sits in one mode and would be off by
// the other's share. Running trials count as remaining from scratch, so
// the estimate errs long by at most one trial's duration. ok is false
// until a finished trial has a known duration, and when nothing remains.
func (p *studyProgress) eta(workers int) (time.Duration, bool) {
	remaining := p.Trials - len(p.finished)
	var sum time.Duration
	n := 0
	for _, t := range p.finished {
		if t.took > 0 {
			sum += t.took
			n++
		}
	}
	if remaining <= 0 || n == 0 {
		return 0, false
	}
	mean := float64(sum) / float64(n)
	parallel := max(1, min(workers, remaining))
	return time.Duration(mean * float64(remaining) / float64(parallel)), true
}

// Package prune holds the early-stopping rules sweep offers behind
// goptuna.Pruner: Median, Percentile, ASHA and Hyperband.
//
// Every decision is a pure function of what goptuna's Storage holds (the
// trial's intermediate values, other trials' values and system attrs), so any
// worker in any process reaches the same decision for the same trial. The
// package does not report values or stop objectives: package sweep does.
package prune

import (
	"fmt"
	"math"
	"sort"

	"github.com/c-bata/goptuna"
)

var _ goptuna.Pruner = (*Percentile)(nil)

// Percentile prunes a trial whose best intermediate value so far is worse
// than the given percentile of the values other completed trials reported at
// the same step. Steps are the objective's report steps (epochs for the
// built-in objectives).
//
// It follows Optuna's PercentilePruner: no pruning while fewer than
// StartupTrials trials are complete, at steps up to WarmupSteps, or at steps
// other than the first report in each Interval window after the warm-up; a
// trial whose intermediate values are all NaN is pruned.
type Percentile struct {
	Percentile    float64 // in [0, 100]; 50 is the median rule
	StartupTrials int     // completed trials needed before pruning starts
	WarmupSteps   int     // steps (inclusive) during which a trial is never pruned
	Interval      int     // prune only once per Interval steps after the warm-up; ≥ 1
	MinTrials     int     // completed trials that must have reported the step; ≥ 1
}

// NewPercentile returns a percentile pruner, checking its settings.
func NewPercentile(percentile float64, startup, warmup, interval int) (*Percentile, error) {
	p := &Percentile{Percentile: percentile, StartupTrials: startup, WarmupSteps: warmup, Interval: interval, MinTrials: 1}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Percentile) validate() error {
	switch {
	case math.IsNaN(p.Percentile) || p.Percentile < 0 || p.Percentile > 100:
		return fmt.Errorf("prune: percentile %g outside [0, 100]", p.Percentile)
	case p.StartupTrials < 0:
		return fmt.Errorf("prune: startup_trials %d is negative", p.StartupTrials)
	case p.WarmupSteps < 0:
		return fmt.Errorf("prune: warmup_steps %d is negative", p.WarmupSteps)
	case p.Interval < 1:
		return fmt.Errorf("prune: interval %d must be at least 1", p.Interval)
	case p.MinTrials < 1:
		return fmt.Errorf("prune: min trials %d must be at least 1", p.MinTrials)
	}
	return nil
}

// Prune implements goptuna.Pruner.
func (p *Percentile) Prune(study *goptuna.Study, trial goptuna.FrozenTrial) (bool, error) {
	step, ok := trial.GetLatestStep()
	if !ok || step <= p.WarmupSteps {
		return false, nil
	}
	if !firstInInterval(trial, step, p.WarmupSteps, p.Interval) {
		return false, nil
	}
	trials, err := study.GetTrials()
	if err != nil {
		return false, fmt.Errorf("get trials: %w", err)
	}
	var atStep []float64
	completed := 0
	for _, t := range trials {
		if t.State != goptuna.TrialStateComplete {
			continue
		}
		completed++
		if v, ok := t.IntermediateValues[step]; ok && !math.IsNaN(v) {
			atStep = append(atStep, v)
		}
	}
	if completed < p.StartupTrials || len(atStep) < p.MinTrials {
		return false, nil
	}
	maximize := study.Direction() == goptuna.StudyDirectionMaximize
	best, ok := bestValue(trial.IntermediateValues, maximize)
	if !ok {
		return true, nil // only NaN reports: the trial has diverged
	}
	if maximize {
		return best < percentileOf(atStep, 100-p.Percentile), nil
	}
	return best > percentileOf(atStep, p.Percentile), nil
}

// firstInInterval reports whether step is the first reported step inside its
// pruning window (Optuna's _is_first_in_interval_step), so a trial reporting
// every step is judged once per interval.
func firstInInterval(trial goptuna.FrozenTrial, step, warmup, interval int) bool {
	lower := (step-warmup-1)/interval*interval + warmup + 1
	prev := -1
	for s := range trial.IntermediateValues {
		if s < step && s > prev {
			prev = s
		}
	}
	return prev < lower
}

// bestValue returns the best non-NaN value in vals.
func bestValue(vals map[int]float64, maximize bool) (float64, bool) {
	best, found := 0.0, false
	for _, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		if !found || (maximize && v > best) || (!maximize && v < best) {
			best, found = v, true
		}
	}
	return best, found
}

// percentileOf returns the q-th percentile of xs with linear interpolation
// between order statistics (numpy's default). xs must be non-empty; it is
// sorted in place.
func percentileOf(xs []float64, q float64) float64 {
	sort.Float64s(xs)
	pos := q / 100 * float64(len(xs)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return xs[lo] + (xs[hi]-xs[lo])*frac
}

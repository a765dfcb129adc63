package prune

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/c-bata/goptuna"
)

var _ goptuna.Pruner = (*ASHA)(nil)

// RungKeyPrefix prefixes the trial system attr that records a trial's value
// at an ASHA rung: "asha:rung_0", "asha:rung_1"...
const RungKeyPrefix = "asha:rung_"

// ASHA is asynchronous successive halving (Li et al. 2020, as Optuna's
// SuccessiveHalvingPruner). Rung k is reached at step
// MinResource · ReductionFactor^(MinEarlyStoppingRate + k). When a trial
// reaches a rung its value there is written once, as a trial system attr,
// and it continues only if that value is in the top 1/ReductionFactor of all
// values recorded at the rung so far (or the best, while fewer than
// ReductionFactor trials have one). Because the rung values live in storage
// and are never rewritten, every worker sees the same competitors.
type ASHA struct {
	MinResource          int // steps before the first rung; 0 = auto (1% of the first completed trial's steps)
	ReductionFactor      int // ≥ 2
	MinEarlyStoppingRate int // ≥ 0; shifts all rungs up by that many powers
	BootstrapCount       int // prune while a rung has at most this many values
	// MaxResource is the step count of a full trial (0 = unknown). A trial
	// at or past it is never pruned: its work is done, and stopping it would
	// only throw its final value away (Optuna's pruner would).
	MaxResource int

	// trials lists the trials competing with a given trial; nil means all
	// trials of the study (Hyperband restricts it to one bracket).
	trials func(study *goptuna.Study, trial goptuna.FrozenTrial) ([]goptuna.FrozenTrial, error)
}

// NewASHA returns an ASHA pruner, checking its settings.
func NewASHA(minResource, reductionFactor, minEarlyStoppingRate int) (*ASHA, error) {
	a := &ASHA{MinResource: minResource, ReductionFactor: reductionFactor, MinEarlyStoppingRate: minEarlyStoppingRate}
	switch {
	case minResource < 0:
		return nil, fmt.Errorf("prune: min_resource %d is negative", minResource)
	case reductionFactor < 2:
		return nil, fmt.Errorf("prune: reduction_factor %d must be at least 2", reductionFactor)
	case minEarlyStoppingRate < 0:
		return nil, fmt.Errorf("prune: min_early_stopping_rate %d is negative", minEarlyStoppingRate)
	}
	return a, nil
}

// RungStep returns the step at which rung k is reached.
func (a *ASHA) RungStep(minResource, k int) int {
	return minResource * intPow(a.ReductionFactor, a.MinEarlyStoppingRate+k)
}

// Prune implements goptuna.Pruner.
func (a *ASHA) Prune(study *goptuna.Study, trial goptuna.FrozenTrial) (bool, error) {
	step, ok := trial.GetLatestStep()
	if !ok {
		return false, nil
	}
	if a.MaxResource > 0 && step >= a.MaxResource {
		return false, nil
	}
	value := trial.IntermediateValues[step]
	var trials []goptuna.FrozenTrial
	minRes := a.MinResource
	if minRes == 0 {
		var err error
		if minRes, err = autoMinResource(study); err != nil || minRes == 0 {
			return false, err // minRes 0: no completed trial to size the rungs from yet
		}
	}
	// The rung count comes from storage, not from the caller's copy of the
	// trial, so a stale copy can never cause a recorded rung to be rewritten.
	attrs, err := study.Storage.GetTrialSystemAttrs(trial.ID)
	if err != nil {
		return false, fmt.Errorf("get trial %d attrs: %w", trial.Number, err)
	}
	rung := completedRungs(attrs)
	for {
		if step < a.RungStep(minRes, rung) {
			return false, nil
		}
		if math.IsNaN(value) {
			return true, nil
		}
		if trials == nil {
			var err error
			if trials, err = a.competitors(study, trial); err != nil {
				return false, err
			}
		}
		key := RungKeyPrefix + strconv.Itoa(rung)
		if err := study.Storage.SetTrialSystemAttr(trial.ID, key, strconv.FormatFloat(value, 'g', -1, 64)); err != nil {
			return false, fmt.Errorf("record rung %d of trial %d: %w", rung, trial.Number, err)
		}
		competing := rungValues(trials, key, trial.ID)
		competing = append(competing, value)
		if len(competing) <= a.BootstrapCount {
			return true, nil
		}
		if !promotable(value, competing, a.ReductionFactor, study.Direction() == goptuna.StudyDirectionMaximize) {
			return true, nil
		}
		rung++
	}
}

func (a *ASHA) competitors(study *goptuna.Study, trial goptuna.FrozenTrial) ([]goptuna.FrozenTrial, error) {
	if a.trials != nil {
		return a.trials(study, trial)
	}
	trials, err := study.GetTrials()
	if err != nil {
		return nil, fmt.Errorf("get trials: %w", err)
	}
	return trials, nil
}

// completedRungs counts the rungs a trial has already recorded; rungs are
// recorded in order, so this is also the next rung's index.
func completedRungs(attrs map[string]string) int {
	k := 0
	for {
		if _, ok := attrs[RungKeyPrefix+strconv.Itoa(k)]; !ok {
			return k
		}
		k++
	}
}

// rungValues returns the values other trials recorded under key.
func rungValues(trials []goptuna.FrozenTrial, key string, self int) []float64 {
	var out []float64
	for _, t := range trials {
		if t.ID == self {
			continue
		}
		if s, ok := t.SystemAttrs[key]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// promotable reports whether value is within the top ⌊n/rf⌋ of competing
// (which includes it), or is the best while n < rf.
func promotable(value float64, competing []float64, rf int, maximize bool) bool {
	idx := len(competing)/rf - 1
	if idx < 0 {
		idx = 0
	}
	slices.Sort(competing)
	if maximize {
		return value >= competing[len(competing)-1-idx]
	}
	return value <= competing[idx]
}

// MinResourceAttr is the study system attr holding an automatically derived
// min_resource, so every worker (and every later call) uses the same rungs.
const MinResourceAttr = "asha:min_resource"

// autoMinResource sizes rungs as Optuna's "auto": max(last step / 100, 1)
// over the completed trials, fixed in the study at first use. It returns 0
// while no trial has completed.
func autoMinResource(study *goptuna.Study) (int, error) {
	attrs, err := study.Storage.GetStudySystemAttrs(study.ID)
	if err != nil {
		return 0, fmt.Errorf("get study attrs: %w", err)
	}
	if v, err := strconv.Atoi(attrs[MinResourceAttr]); err == nil && v > 0 {
		return v, nil
	}
	trials, err := study.GetTrials()
	if err != nil {
		return 0, fmt.Errorf("get trials: %w", err)
	}
	last := -1
	for _, t := range trials {
		if s, ok := t.GetLatestStep(); ok && t.State == goptuna.TrialStateComplete && s > last {
			last = s
		}
	}
	if last < 0 {
		return 0, nil
	}
	v := max(last/100, 1)
	if err := study.Storage.SetStudySystemAttr(study.ID, MinResourceAttr, strconv.Itoa(v)); err != nil {
		return 0, fmt.Errorf("store min_resource: %w", err)
	}
	return v, nil
}

func intPow(b, e int) int {
	r := 1
	for range e {
		r *= b
	}
	return r
}

package prune

import (
	"fmt"
	"hash/crc32"
	"math"
	"strconv"

	"github.com/c-bata/goptuna"
)

var _ goptuna.Pruner = (*Hyperband)(nil)

// MaxResourceAttr is the study system attr where an automatically derived
// max_resource is stored, so every worker sizes the brackets alike.
const MaxResourceAttr = "hyperband:max_resource"

// Hyperband runs several ASHA brackets side by side (Li et al. 2018, as
// Optuna's HyperbandPruner): bracket b uses min_early_stopping_rate b, so
// bracket 0 prunes most aggressively and the last bracket lets trials run
// longest before the first cut. A trial's bracket is a pure function of the
// study name and the trial number (CRC-32, as Optuna), with brackets
// weighted by their trial budgets, and a trial competes only with trials of
// its own bracket.
type Hyperband struct {
	MinResource     int // ≥ 1
	MaxResource     int // steps of a full trial; 0 = auto (largest last step of completed trials, stored in the study)
	ReductionFactor int // ≥ 2
	BootstrapCount  int
}

// NewHyperband returns a Hyperband pruner, checking its settings.
func NewHyperband(minResource, maxResource, reductionFactor int) (*Hyperband, error) {
	switch {
	case minResource < 1:
		return nil, fmt.Errorf("prune: min_resource %d must be at least 1", minResource)
	case maxResource < 0 || (maxResource > 0 && maxResource < minResource):
		return nil, fmt.Errorf("prune: max_resource %d must be 0 (auto) or at least min_resource %d", maxResource, minResource)
	case reductionFactor < 2:
		return nil, fmt.Errorf("prune: reduction_factor %d must be at least 2", reductionFactor)
	}
	return &Hyperband{MinResource: minResource, MaxResource: maxResource, ReductionFactor: reductionFactor}, nil
}

// Brackets returns the number of brackets and each bracket's trial budget
// for a given max_resource.
func (h *Hyperband) Brackets(maxResource int) (budgets []int) {
	n := int(math.Floor(math.Log(float64(maxResource)/float64(h.MinResource))/math.Log(float64(h.ReductionFactor))+1e-9)) + 1
	for b := range n {
		s := n - 1 - b
		budgets = append(budgets, int(math.Ceil(float64(n)*math.Pow(float64(h.ReductionFactor), float64(s))/float64(s+1))))
	}
	return budgets
}

// Bracket returns the bracket of trial number for a study name.
func Bracket(budgets []int, studyName string, number int) int {
	total := 0
	for _, b := range budgets {
		total += b
	}
	n := int(crc32.ChecksumIEEE([]byte(studyName+"_"+strconv.Itoa(number))) % uint32(total))
	for b, budget := range budgets {
		n -= budget
		if n < 0 {
			return b
		}
	}
	return len(budgets) - 1
}

// Prune implements goptuna.Pruner.
func (h *Hyperband) Prune(study *goptuna.Study, trial goptuna.FrozenTrial) (bool, error) {
	maxRes, err := h.maxResource(study)
	if err != nil || maxRes == 0 {
		return false, err
	}
	name, err := study.Storage.GetStudyNameFromID(study.ID)
	if err != nil {
		return false, fmt.Errorf("get study name: %w", err)
	}
	budgets := h.Brackets(maxRes)
	bracket := Bracket(budgets, name, trial.Number)
	a := &ASHA{MinResource: h.MinResource, ReductionFactor: h.ReductionFactor, MinEarlyStoppingRate: bracket,
		BootstrapCount: h.BootstrapCount, MaxResource: maxRes}
	a.trials = func(study *goptuna.Study, _ goptuna.FrozenTrial) ([]goptuna.FrozenTrial, error) {
		all, err := study.GetTrials()
		if err != nil {
			return nil, fmt.Errorf("get trials: %w", err)
		}
		var same []goptuna.FrozenTrial
		for _, t := range all {
			if Bracket(budgets, name, t.Number) == bracket {
				same = append(same, t)
			}
		}
		return same, nil
	}
	return a.Prune(study, trial)
}

// maxResource returns the configured max_resource, or the automatic one
// stored in the study, deriving and storing it from completed trials on
// first use: their largest last step. Our steps start at 1, so that is
// the resource a full trial used (Optuna, counting from step 0, adds 1;
// copying that made a trial at its final step prunable and could add a
// bracket). It returns 0 while no trial has completed.
func (h *Hyperband) maxResource(study *goptuna.Study) (int, error) {
	if h.MaxResource > 0 {
		return h.MaxResource, nil
	}
	attrs, err := study.Storage.GetStudySystemAttrs(study.ID)
	if err != nil {
		return 0, fmt.Errorf("get study attrs: %w", err)
	}
	if s, ok := attrs[MaxResourceAttr]; ok {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			return v, nil
		}
	}
	trials, err := study.GetTrials()
	if err != nil {
		return 0, fmt.Errorf("get trials: %w", err)
	}
	best := 0
	for _, t := range trials {
		if s, ok := t.GetLatestStep(); ok && t.State == goptuna.TrialStateComplete && s > best {
			best = s
		}
	}
	if best == 0 {
		return 0, nil
	}
	best = max(best, h.MinResource)
	if err := study.Storage.SetStudySystemAttr(study.ID, MaxResourceAttr, strconv.Itoa(best)); err != nil {
		return 0, fmt.Errorf("store max_resource: %w", err)
	}
	return best, nil
}

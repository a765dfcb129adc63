package optim

// Group tags carried by the engine's parameter registry. A parameter belongs
// to exactly one group; the layer-wise recipe scales each group's learning
// rate by its own multiplier.
const (
	GroupStem   = "stem"
	GroupStage1 = "stage1"
	GroupStage2 = "stage2"
	GroupStage3 = "stage3"
	GroupStage4 = "stage4"
	GroupHead   = "head"
)

// Multipliers maps a parameter group tag to its learning-rate multiplier. A
// group that is absent (or a nil map) trains at the schedule's rate (×1), so
// the zero value is plain, uniform training.
type Multipliers map[string]float64

// Of returns the multiplier for group, 1 when none is set.
func (m Multipliers) Of(group string) float64 {
	if v, ok := m[group]; ok {
		return v
	}
	return 1
}

// ClassicLayerwise returns the layer-wise multipliers of the classic CIFAR
// recipe: the stem learns slowest and the last stage fastest, on the theory
// that early, generic features need less movement than late, task-specific
// ones. Head stays at 1.
func ClassicLayerwise() Multipliers {
	return Multipliers{
		GroupStem:   0.1,
		GroupStage1: 0.5,
		GroupStage2: 1,
		GroupStage3: 1,
		GroupStage4: 2,
		GroupHead:   1,
	}
}

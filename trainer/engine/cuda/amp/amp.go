// Package amp holds the host side of mixed-precision training: dynamic loss
// scaling (the PyTorch GradScaler policy) and float32 ↔ bfloat16/float16
// conversions that round to nearest even, bit-identical to the device cast
// kernels.
//
// The scaler only decides; the trainer multiplies the loss gradient by
// Scale, checks gradients for overflow (Backend.SumSquares is NaN or +Inf
// then), unscales and steps the optimizer when Update says so.
package amp

import (
	"fmt"
	"math"
)

// Scaler is a dynamic loss scaler: it multiplies the loss by a large factor
// so small 16-bit gradients do not flush to zero, halves the factor on
// overflow (skipping that step) and doubles it after GrowthInterval
// consecutive clean steps. Not safe for concurrent use.
type Scaler struct {
	scale          float64
	GrowthFactor   float64 // default 2
	BackoffFactor  float64 // default 0.5
	GrowthInterval int     // clean steps before growing; default 2000
	MinScale       float64 // floor for the scale; default 2^-24
	MaxScale       float64 // ceiling; default 2^24
	clean          int
	skipped        int
}

// NewScaler returns a scaler with PyTorch's defaults: initial scale 2^16,
// growth ×2 every 2000 clean steps, backoff ×0.5.
func NewScaler() *Scaler {
	return &Scaler{scale: 65536, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 2000,
		MinScale: 1.0 / (1 << 24), MaxScale: 1 << 24}
}

// Scale is the factor to multiply the loss (or its gradient) by this step.
func (s *Scaler) Scale() float32 { return float32(s.scale) }

// InvScale is 1/Scale, to unscale gradients before the optimizer step.
func (s *Scaler) InvScale() float32 { return float32(1 / s.scale) }

// Skipped counts the steps skipped for overflow so far.
func (s *Scaler) Skipped() int { return s.skipped }

// Update records one step's gradient check. gradSumSquares is the sum of
// squares of all scaled gradients (NaN or ±Inf on overflow). It returns
// whether the optimizer should step; on overflow it backs off and the step
// must be skipped.
func (s *Scaler) Update(gradSumSquares float64) (step bool) {
	if math.IsNaN(gradSumSquares) || math.IsInf(gradSumSquares, 0) {
		s.scale = math.Max(s.scale*s.BackoffFactor, s.MinScale)
		s.clean = 0
		s.skipped++
		return false
	}
	s.clean++
	if s.clean >= s.GrowthInterval {
		s.scale = math.Min(s.scale*s.GrowthFactor, s.MaxScale)
		s.clean = 0
	}
	return true
}

// String describes the scaler state for logs.
func (s *Scaler) String() string {
	return fmt.Sprintf("loss scale %g (%d clean steps, %d skipped)", s.scale, s.clean, s.skipped)
}

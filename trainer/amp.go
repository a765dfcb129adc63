package trainer

import (
	"fmt"
	"math"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cuda"
	"sweep/trainer/engine/cuda/amp"
)

// The CUDA backend is the one that trains in 16 bits.
var (
	_ unscaleChecker  = (*cuda.Backend)(nil)
	_ precisionSetter = (*cuda.Backend)(nil)
)

// unscaleChecker is implemented by backends that unscale a gradient in
// place and detect overflow on the device (cuda.Backend.UnscaleCheck):
// g *= invScale, reporting whether every element is finite.
type unscaleChecker interface {
	UnscaleCheck(g engine.Tensor, invScale float32) (finite bool)
}

// lossScale is fp16 training's dynamic loss scaling: the loss gradient is
// multiplied by a large factor so small float16 gradients do not flush to
// zero; after backward every gradient is divided by it again and checked;
// a step with an Inf or NaN gradient is skipped and the factor halved, and
// the factor doubles after a run of clean steps (amp.Scaler's policy).
// bf16 has float32's range and needs none of this. A nil *lossScale is
// fp32/bf16 training: scale 1, every step taken.
type lossScale struct {
	s     *amp.Scaler
	check func(g engine.Tensor, invScale float32) bool
}

// newLossScale returns the loss scaling of c on b: nil unless c trains in
// fp16, an error when b cannot unscale gradients.
func newLossScale(c *Config, b engine.Backend) (*lossScale, error) {
	if c.Precision != "fp16" {
		return nil, nil
	}
	uc, ok := b.(unscaleChecker)
	if !ok {
		return nil, &FieldError{Field: "precision", Msg: fmt.Sprintf("fp16 needs dynamic loss scaling, which backend %s cannot do; use bf16 or fp32", b.Name())}
	}
	return &lossScale{s: amp.NewScaler(), check: uc.UnscaleCheck}, nil
}

// gradScale is the factor SoftmaxCrossEntropy multiplies the loss gradient
// by for a batch of n: 1/n (the mean) times the loss scale.
func (l *lossScale) gradScale(n int) float32 {
	if l == nil {
		return 1 / float32(n)
	}
	return l.s.Scale() / float32(n)
}

// unscale divides every gradient by the loss scale and reports whether the
// optimizer may step. On overflow the remaining gradients are left as they
// are (the step is skipped and the next step zeroes them) and the scale
// backs off.
func (l *lossScale) unscale(params []*engine.Param) bool {
	if l == nil {
		return true
	}
	inv := l.s.InvScale()
	sumSquares := 0.0
	for _, p := range params {
		if !l.check(p.Grad, inv) {
			sumSquares = math.Inf(1)
			break
		}
	}
	return l.s.Update(sumSquares)
}

// addMetrics adds the scaler's state to an epoch's metrics.
func (l *lossScale) addMetrics(m map[string]float64) {
	if l == nil {
		return
	}
	m["loss_scale"] = float64(l.s.Scale())
	m["amp_skipped_steps"] = float64(l.s.Skipped())
}

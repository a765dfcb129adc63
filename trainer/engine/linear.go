package engine

import (
	"math"
	"math/rand/v2"
)

// Linear is a fully connected layer, y = x·Wᵀ + b.
type Linear struct {
	b    Backend
	W    *Param // (out, in)
	B    *Param // (out), or nil
	x    Tensor
	y    Tensor
	dx   Tensor
	mode Mode
}

// NewLinear returns an in→out layer initialised like PyTorch's
// (U(±1/sqrt(in)) for weights and bias).
func NewLinear(b Backend, r *rand.Rand, in, out int, bias bool) *Linear {
	bound := 1 / math.Sqrt(float64(in))
	l := &Linear{b: b}
	l.W = newParam(b, "weight", Shape{out, in}, false, false, uniform(r, bound))
	if bias {
		l.B = newParam(b, "bias", Shape{out}, true, false, uniform(r, bound))
	}
	return l
}

// Forward: x (N,in) → y (N,out).
func (l *Linear) Forward(x Tensor, mode Mode) Tensor {
	y := ensure(l.b, &l.y, Float32, Shape{x.Dim(0), l.W.Value.Dim(0)})
	l.b.Gemm(false, true, 1, x, l.W.Value, 0, y)
	if l.B != nil {
		l.b.AddChannelBias(y, l.B.Value)
	}
	l.x, l.mode = x, mode
	return y
}

// Backward: dy (N,out) → dx (N,in); dW += dyᵀ·x, dB += Σ dy.
func (l *Linear) Backward(dy Tensor) Tensor {
	needForward("Linear", l.x, l.mode)
	l.b.Gemm(true, false, 1, dy, l.x, 1, l.W.Grad)
	if l.B != nil {
		l.b.SumChannels(dy, l.B.Grad)
	}
	dx := ensure(l.b, &l.dx, Float32, l.x.Shape)
	l.b.Gemm(false, false, 1, dy, l.W.Value, 0, dx)
	return dx
}

// Params returns the weight and, if present, the bias.
func (l *Linear) Params() []*Param {
	if l.B != nil {
		return []*Param{l.W, l.B}
	}
	return []*Param{l.W}
}

// FLOPs returns 2·in·out, the cost of one forward pass for one sample.
func (l *Linear) FLOPs() int { return 2 * l.W.Value.Numel() }

// Output returns the last Forward's output.
func (l *Linear) Output() Tensor { return l.y }

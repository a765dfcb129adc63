package engine

import "fmt"

// Activation applies ReLU, SiLU or Sigmoid elementwise.
type Activation struct {
	b        Backend
	Act      Act
	x, y, dx Tensor
	mode     Mode
}

// NewActivation returns an activation layer.
func NewActivation(b Backend, a Act) *Activation { return &Activation{b: b, Act: a} }

// Forward: x (any shape) → y (same shape).
func (a *Activation) Forward(x Tensor, mode Mode) Tensor {
	y := ensure(a.b, &a.y, Float32, x.Shape)
	a.b.ActForward(a.Act, x, y)
	a.x, a.mode = x, mode
	return y
}

// Backward: dy → dx = f'(x)·dy.
func (a *Activation) Backward(dy Tensor) Tensor {
	needForward("Activation", a.x, a.mode)
	dx := ensure(a.b, &a.dx, Float32, a.x.Shape)
	a.b.ActBackward(a.Act, a.x, a.y, dy, dx)
	return dx
}

// Params returns nil.
func (a *Activation) Params() []*Param { return nil }

// Output returns the last Forward's output.
func (a *Activation) Output() Tensor { return a.y }

// Dropout zeroes each element with probability P in training and scales
// the rest by 1/(1−P); in evaluation it is the identity. Masks come from
// the counter-based Uniform with a seed derived from Seed and the number of
// training forwards so far: a run is reproducible, and no two steps share a
// mask.
type Dropout struct {
	b           Backend
	P           float32
	Seed        uint64
	calls       uint64
	mask, y, dx Tensor
	mode        Mode
	ran         bool
}

// NewDropout returns a dropout layer; p must lie in [0, 1).
func NewDropout(b Backend, p float32, seed uint64) *Dropout {
	if p < 0 || p >= 1 {
		panic(fmt.Sprintf("engine: dropout probability %v outside [0,1)", p))
	}
	return &Dropout{b: b, P: p, Seed: seed}
}

// Forward: x → y (same shape).
func (d *Dropout) Forward(x Tensor, mode Mode) Tensor {
	d.mode, d.ran = mode, true
	if mode == Eval || d.P == 0 {
		return x
	}
	mask := ensure(d.b, &d.mask, Float32, x.Shape)
	y := ensure(d.b, &d.y, Float32, x.Shape)
	d.b.DropoutForward(d.P, d.Seed+d.calls*0x9E3779B97F4A7C15, x, mask, y)
	d.calls++
	return y
}

// Backward: dy → dx = dy·mask.
func (d *Dropout) Backward(dy Tensor) Tensor {
	if !d.ran {
		panic("engine: Dropout: Backward before Forward")
	}
	needForward("Dropout", dy, d.mode)
	if d.P == 0 {
		return dy
	}
	dx := ensure(d.b, &d.dx, Float32, dy.Shape)
	d.b.Mul(dy, d.mask, dx)
	return dx
}

// Params returns nil.
func (d *Dropout) Params() []*Param { return nil }

package engine

import (
	"fmt"
	"math/rand/v2"
)

// SE is a squeeze-excitation block (Hu et al., 2018): each channel of x is
// scaled by s = sigmoid(W2·relu(W1·avgpool(x))), W1 reducing C channels to
// C/r and W2 restoring them.
type SE struct {
	b               Backend
	pool            *GlobalAvgPool
	fc1, fc2        *Linear
	act1, act2      *Activation
	x, s, y, dx, ds Tensor
	mode            Mode
}

// NewSE returns a squeeze-excitation block over c channels with reduction
// r (16 in the paper); the hidden width is at least 1.
func NewSE(b Backend, rng *rand.Rand, c, r int) *SE {
	if r < 1 {
		panic(fmt.Sprintf("engine: SE reduction %d, want ≥ 1", r))
	}
	h := max(1, c/r)
	e := &SE{b: b, pool: NewGlobalAvgPool(b), fc1: NewLinear(b, rng, c, h, true), fc2: NewLinear(b, rng, h, c, true),
		act1: NewActivation(b, ReLU), act2: NewActivation(b, Sigmoid)}
	Tag(e.fc1, "fc1", "")
	Tag(e.fc2, "fc2", "")
	return e
}

// Forward: x (N,C,H,W) → y (N,C,H,W) = x · s (N,C).
func (e *SE) Forward(x Tensor, mode Mode) Tensor {
	v := e.pool.Forward(x, mode)
	v = e.act1.Forward(e.fc1.Forward(v, mode), mode)
	e.s = e.act2.Forward(e.fc2.Forward(v, mode), mode)
	y := ensure(e.b, &e.y, Float32, x.Shape)
	e.b.ScaleChannels(x, e.s, y)
	e.x, e.mode = x, mode
	return y
}

// Backward: dy (N,C,H,W) → dx = dy·s + the path through s.
func (e *SE) Backward(dy Tensor) Tensor {
	needForward("SE", e.x, e.mode)
	dx := ensure(e.b, &e.dx, Float32, e.x.Shape)
	ds := ensure(e.b, &e.ds, Float32, e.s.Shape)
	e.b.ScaleChannelsBackward(e.x, e.s, dy, dx, ds)
	d := e.fc2.Backward(e.act2.Backward(ds))
	d = e.pool.Backward(e.fc1.Backward(e.act1.Backward(d)))
	e.b.Add(dx, d, dx)
	return dx
}

// Params returns fc1's and fc2's weights and biases.
func (e *SE) Params() []*Param { return append(e.fc1.Params(), e.fc2.Params()...) }

// Output returns the last Forward's output.
func (e *SE) Output() Tensor { return e.y }

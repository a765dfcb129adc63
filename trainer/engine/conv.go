package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Conv2d is a 2-D convolution with optional bias.
type Conv2d struct {
	b    Backend
	desc ConvDesc
	W    *Param // (K, C/G, R, S)
	B    *Param // (K), or nil
	// SkipInputGrad makes Backward skip dx and return the zero Tensor: set
	// it on a network's first layer, whose input is the data, or on the
	// first layer that still trains once everything before it is frozen
	// (Sequential.Backward stops at the zero Tensor).
	SkipInputGrad bool
	// FrozenWeight makes Backward leave W.Grad alone: set it when the
	// weight is never trained (fastnet's whitening stem), whose gradient
	// would cost a full pass over the layer's input for nothing.
	FrozenWeight bool

	x, y, dx Tensor
	mode     Mode
	recycle  bool // see recycler
}

// NewConv2d returns a cin→cout convolution with a k×k kernel, Kaiming
// normal weights (fan-out mode) and, when bias is true, a bias initialised
// like PyTorch's (U(±1/sqrt(fan_in))).
func NewConv2d(b Backend, r *rand.Rand, cin, cout, k int, d ConvDesc, bias bool) *Conv2d {
	d = d.Norm()
	if cin%d.Groups != 0 || cout%d.Groups != 0 {
		panic(fmt.Sprintf("engine: Conv2d %d→%d with %d groups", cin, cout, d.Groups))
	}
	c := &Conv2d{b: b, desc: d}
	c.W = newParam(b, "weight", Shape{cout, cin / d.Groups, k, k}, false, false, kaimingNormal(r, cout*k*k/d.Groups))
	if bias {
		fanIn := cin / d.Groups * k * k
		c.B = newParam(b, "bias", Shape{cout}, true, false, uniform(r, 1/math.Sqrt(float64(fanIn))))
	}
	return c
}

// Forward: x (N,C,H,W) → y (N,K,P,Q).
func (c *Conv2d) Forward(x Tensor, mode Mode) Tensor {
	k, _, r, s := c.W.Value.Shape.NCHW()
	p, q := c.desc.OutSize(x.Dim(2), x.Dim(3), r, s)
	y := ensure(c.b, &c.y, Float32, Shape{x.Dim(0), k, p, q})
	c.b.ConvForward(c.desc, x, c.W.Value, y)
	if c.B != nil {
		c.b.AddChannelBias(y, c.B.Value)
	}
	c.x, c.mode = x, mode
	return y
}

// Backward: dy (N,K,P,Q) → dx (N,C,H,W); dW and dB accumulate.
func (c *Conv2d) Backward(dy Tensor) Tensor {
	needForward("Conv2d", c.x, c.mode)
	if c.B != nil {
		c.b.SumChannels(dy, c.B.Grad)
	}
	if cb, ok := c.b.(convBackwarder); ok && !c.FrozenWeight && !c.SkipInputGrad {
		dx := inputGrad(c.b, c.recycle, c.y, &c.dx, c.x.Shape)
		cb.ConvBackward(c.desc, c.x, dy, c.W.Value, c.W.Grad, dx)
		return dx
	}
	if !c.FrozenWeight {
		c.b.ConvBackwardFilter(c.desc, c.x, dy, c.W.Grad)
	}
	if c.SkipInputGrad {
		return Tensor{}
	}
	dx := inputGrad(c.b, c.recycle, c.y, &c.dx, c.x.Shape)
	c.b.ConvBackwardData(c.desc, dy, c.W.Value, dx)
	return dx
}

// convBackwarder is a backend that computes both gradients of a
// convolution in one pass, as ConvBackwardFilter then ConvBackwardData
// would (the CPU backend, which then transposes dy once instead of twice).
type convBackwarder interface {
	ConvBackward(d ConvDesc, x, dy, w, dw, dx Tensor)
}

// Params returns the weight and, if present, the bias.
func (c *Conv2d) Params() []*Param {
	if c.B != nil {
		return []*Param{c.W, c.B}
	}
	return []*Param{c.W}
}

// FLOPs returns the multiply-adds ×2 of one forward pass for one image of
// size h×w.
func (c *Conv2d) FLOPs(h, w int) int {
	k, cg, r, s := c.W.Value.Shape.NCHW()
	p, q := c.desc.OutSize(h, w, r, s)
	return 2 * k * cg * r * s * p * q
}

// Output returns the last Forward's output. Inside a residual block it is
// valid only until Backward, which may reuse its memory.
func (c *Conv2d) Output() Tensor { return c.y }

func (c *Conv2d) recycleOutput() { c.recycle = true }

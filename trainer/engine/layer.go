package engine

import (
	"fmt"
	"math/rand/v2"
)

// Mode selects training or inference behaviour for one Forward call: batch
// statistics versus running statistics in batch norm, dropout on or off.
// It is always an argument, never layer state.
type Mode uint8

// Modes.
const (
	Train Mode = iota
	Eval
)

func (m Mode) String() string {
	if m == Train {
		return "train"
	}
	return "eval"
}

// Layer is one differentiable step of a network.
//
// Forward returns the layer's output for x. The output tensor belongs to the
// layer and stays valid until its next Forward (inside a Residual block:
// until its Backward, see recycler); the layer keeps references
// to what its Backward needs (usually x itself, so the caller must not
// overwrite x before Backward). Backward takes the gradient of the loss with
// respect to the last Forward's output, accumulates parameter gradients into
// Param.Grad and returns the gradient with respect to x (valid until the next
// Backward). Backward after an Eval forward is a programmer error.
// Params lists the trainable parameters in a fixed order.
//
// Layers are not safe for concurrent use.
type Layer interface {
	Forward(x Tensor, mode Mode) Tensor
	Backward(dy Tensor) Tensor
	Params() []*Param
}

// Bufferer is implemented by layers with state that is saved in checkpoints
// but not trained: batch norm's running statistics.
type Bufferer interface {
	Buffers() []*Param
}

// Buffers returns l's non-trainable state, or nil.
func Buffers(l Layer) []*Param {
	if b, ok := l.(Bufferer); ok {
		return b.Buffers()
	}
	return nil
}

// ensure returns a tensor of shape s in *t's buffer, allocating a new one
// when the buffer is missing or too small. A smaller batch reuses the
// buffer of a larger one.
func ensure(b Backend, t *Tensor, dt DType, s Shape) Tensor {
	if t.Buf == nil || t.Buf.Len() < s.Numel() || t.DType != dt {
		if t.Buf != nil {
			b.Free(t.Buf)
		}
		*t = New(b, dt, s)
		return *t
	}
	t.Shape, t.Off = s, 0
	return *t
}

// needForward panics when Backward runs without a training Forward.
func needForward(layer string, x Tensor, mode Mode) {
	if x.IsZero() {
		panic(fmt.Sprintf("engine: %s: Backward before Forward", layer))
	}
	if mode != Train {
		panic(fmt.Sprintf("engine: %s: Backward after an %v Forward; call Forward with engine.Train", layer, mode))
	}
}

// ───────────────────────────── Sequential ─────────────────────────────────

// Sequential chains layers: Forward runs them in order and Backward in
// exact reverse order.
type Sequential struct {
	Layers []Layer
}

// NewSequential returns the chain of ls.
func NewSequential(ls ...Layer) *Sequential { return &Sequential{Layers: ls} }

// Forward: x → Layers[0] → … → Layers[n-1].
func (s *Sequential) Forward(x Tensor, mode Mode) Tensor {
	for _, l := range s.Layers {
		x = l.Forward(x, mode)
	}
	return x
}

// Backward runs the layers' Backward in reverse. A layer that returns the
// zero Tensor (a convolution with SkipInputGrad) ends the pass: the layers
// before it get no gradient, which is right only when none of them trains.
func (s *Sequential) Backward(dy Tensor) Tensor {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		dy = s.Layers[i].Backward(dy)
		if dy.IsZero() {
			return Tensor{}
		}
	}
	return dy
}

// Params concatenates the layers' parameters in order.
func (s *Sequential) Params() []*Param {
	var ps []*Param
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// Buffers concatenates the layers' buffers in order.
func (s *Sequential) Buffers() []*Param {
	var ps []*Param
	for _, l := range s.Layers {
		ps = append(ps, Buffers(l)...)
	}
	return ps
}

// ───────────────────────────── Flatten ────────────────────────────────────

// Flatten reshapes (N,C,H,W) to (N,C·H·W) without copying.
type Flatten struct{ in Shape }

// NewFlatten returns a Flatten layer.
func NewFlatten() *Flatten { return &Flatten{} }

// Forward: x (N,C,H,W) → y (N,C·H·W), a view of x.
func (f *Flatten) Forward(x Tensor, mode Mode) Tensor {
	f.in = x.Shape
	return x.Reshape(Shape{x.Shape[0], x.Numel() / x.Shape[0]})
}

// Backward reshapes dy back to the input's shape.
func (f *Flatten) Backward(dy Tensor) Tensor { return dy.Reshape(f.in) }

// Params returns nil.
func (f *Flatten) Params() []*Param { return nil }

// NewRand returns the seeded generator that layer constructors draw their
// initial weights from; one generator per model, so a seed fixes the model.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// Outputter is implemented by layers that keep their last output; the
// trainer's monitor reads activation statistics from it.
type Outputter interface {
	Output() Tensor
}

// Output returns l's last Forward output, or the zero Tensor when l does not
// keep one (Flatten, Dropout in eval mode) or has not run.
func Output(l Layer) Tensor {
	if o, ok := l.(Outputter); ok {
		return o.Output()
	}
	return Tensor{}
}

// Output returns the last layer's output.
func (s *Sequential) Output() Tensor {
	if len(s.Layers) == 0 {
		return Tensor{}
	}
	return Output(s.Layers[len(s.Layers)-1])
}

// recycler is implemented by layers that can write their input gradient
// into their own output buffer, which is dead by the time their Backward
// runs (every reader of it has run its own Backward first) — unless someone
// outside the chain reads it after Backward. Containers whose inner outputs
// nobody else sees (the residual block's body and shortcut) tell their
// layers so with markInternal, which cuts a block's backward memory by
// about half. Top-level outputs, read by monitors after Backward, are never
// recycled.
type recycler interface {
	recycleOutput()
}

// markInternal lets the layers of l (recursively through Sequential) reuse
// their outputs for their input gradients.
func markInternal(l Layer) {
	switch v := l.(type) {
	case *Sequential:
		for _, c := range v.Layers {
			markInternal(c)
		}
	case recycler:
		v.recycleOutput()
	}
}

// inputGrad returns the tensor for a layer's input gradient of shape s: a
// view of its own output buffer out when recycling is on and it is large
// enough, else its own gradient buffer.
func inputGrad(b Backend, recycle bool, out Tensor, dx *Tensor, s Shape) Tensor {
	if recycle && out.Buf != nil && out.DType == Float32 && out.Buf.Len() >= s.Numel() {
		return Tensor{Buf: out.Buf, Shape: s, DType: Float32}
	}
	return ensure(b, dx, Float32, s)
}

package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"sweep/trainer/engine"
)

// FastNet is an airbench-style network for time-to-accuracy work, after
// Keller Jordan's airbench94 (github.com/KellerJordan/cifar10-airbench,
// airbench94.py, 2024), itself descended from David Page's DAWNBench ResNet-9
// and tysam-code's hlb-CIFAR10:
//
//	whiten   2×2 conv 3→24, no padding (32→31), frozen at the whitening
//	         filters of the training patches (±12 PCA directions), + bias, ReLU
//	stage1   conv3×3 24→64,  maxpool 2, BN+ReLU, conv3×3 64→64,   BN+ReLU  (31→15)
//	stage2   conv3×3 64→256, maxpool 2, BN+ReLU, conv3×3 256→256, BN+ReLU  (15→7)
//	stage3   conv3×3 256→256, maxpool 2, BN+ReLU, conv3×3 256→256, BN+ReLU (7→3)
//	head     maxpool 3 (3→1), linear 256→10 without bias, logits × 1/9
//
// Differences from airbench94, kept deliberately small: ReLU instead of GELU
// (the engine has no GELU), batch norm with a trainable scale and PyTorch's
// momentum 0.1 instead of a frozen scale and momentum 0.6, and the whitening
// bias trained for the whole run. Without whitening data the stem is a
// trainable 3×3 conv 3→24 with BN+ReLU (32→32, then 16, 8, 4 and a 4×4
// final pool). airbench's own training tricks (lookahead, its LR and
// batch-size schedule, 94% in ~10 epochs on an A100) are not part of the
// model: the trainer's optimizer, schedule, EMA and TTA play those roles.
type FastNet struct {
	seq    *engine.Sequential
	frozen []*engine.Param // whitening weight: saved, never trained
	blocks []*tap          // outputs exposed for monitoring
	names  []string
}

// FastNetOptions configures [NewFastNet].
type FastNetOptions struct {
	Seed  uint64
	Width float64 // multiplies the widths 64/256/256; 0 means 1
	// Whiten holds normalised training images (N,3,32,32), N = WhitenN, to
	// fit the frozen whitening stem to; nil selects the trainable stem.
	Whiten  []float32
	WhitenN int
}

// NewFastNet builds FastNet on b with seeded initialisation.
func NewFastNet(b engine.Backend, o FastNetOptions) *FastNet {
	w := o.Width
	if w == 0 {
		w = 1
	}
	width := func(c int) int { return max(8, int(math.Round(float64(c)*w))) }
	c1, c2, c3 := width(64), width(256), width(256)
	r := engine.NewRand(o.Seed)
	f := &FastNet{}

	var stem engine.Layer
	size := 32
	if o.Whiten != nil {
		conv := engine.NewConv2d(b, r, 3, 24, 2, engine.ConvDesc{}, true)
		b.CopyIn(conv.W.Value, WhiteningFilters(o.Whiten, o.WhitenN, 3, 32, 32, 2, 5e-4))
		conv.SkipInputGrad = true
		engine.Tag(conv, "stem.whiten", "stem")
		stem = engine.NewSequential(&frozenConv{Conv2d: conv}, engine.NewActivation(b, engine.ReLU))
		f.frozen = []*engine.Param{conv.W}
		size = 31
	} else {
		conv := engine.NewConv2d(b, r, 3, 24, 3, engine.ConvDesc{PadH: 1, PadW: 1}, false)
		conv.SkipInputGrad = true
		bn := engine.NewBatchNorm2d(b, 24, true)
		engine.Tag(conv, "stem.conv", "stem")
		engine.Tag(bn, "stem.bn", "stem")
		stem = engine.NewSequential(conv, bn)
	}
	layers := []engine.Layer{stem}
	in := 24
	for i, out := range []int{c1, c2, c3} {
		name := fmt.Sprintf("stage%d", i+1)
		g := convGroup(b, r, in, out, name)
		layers = append(layers, g)
		f.blocks, f.names = append(f.blocks, g), append(f.names, name)
		in, size = out, size/2
	}
	lin := engine.NewLinear(b, r, c3, 10, false)
	engine.Tag(lin, "head.linear", "head")
	head := engine.NewSequential(
		engine.NewMaxPool2d(b, size, size, 0),
		engine.NewFlatten(),
		lin,
		&scale{b: b, alpha: 1.0 / 9},
	)
	f.seq = engine.NewSequential(append(layers, head)...)
	return f
}

// convGroup is airbench's ConvGroup: conv, pool, BN+ReLU, conv, BN+ReLU.
// Its parameters are named <name>.conv1.weight, <name>.bn1.weight... in
// group name.
func convGroup(b engine.Backend, r *rand.Rand, cin, cout int, name string) *tap {
	same := engine.ConvDesc{PadH: 1, PadW: 1}
	conv1 := engine.NewConv2d(b, r, cin, cout, 3, same, false)
	bn1 := engine.NewBatchNorm2d(b, cout, true)
	conv2 := engine.NewConv2d(b, r, cout, cout, 3, same, false)
	bn2 := engine.NewBatchNorm2d(b, cout, true)
	for part, l := range map[string]engine.Layer{"conv1": conv1, "bn1": bn1, "conv2": conv2, "bn2": bn2} {
		engine.Tag(l, name+"."+part, name)
	}
	return &tap{Layer: engine.NewSequential(conv1, engine.NewMaxPool2d(b, 2, 2, 0), bn1, conv2, bn2)}
}

// tap remembers the output of the layer it wraps, for monitoring.
type tap struct {
	engine.Layer
	y engine.Tensor
}

func (t *tap) Forward(x engine.Tensor, mode engine.Mode) engine.Tensor {
	t.y = t.Layer.Forward(x, mode)
	return t.y
}

func (t *tap) Buffers() []*engine.Param { return engine.Buffers(t.Layer) }

// Unwrap lets engine.ForwardFLOPs see the wrapped layers.
func (t *tap) Unwrap() engine.Layer { return t.Layer }

// Forward: x (N,3,32,32) → logits (N,10).
func (f *FastNet) Forward(x engine.Tensor, mode engine.Mode) engine.Tensor {
	return f.seq.Forward(x, mode)
}

// Backward: dlogits (N,10) → the zero Tensor (the stem skips the input
// gradient); parameter gradients accumulate.
func (f *FastNet) Backward(dy engine.Tensor) engine.Tensor { return f.seq.Backward(dy) }

// Unwrap exposes the layer chain, for FLOP counting (engine.ForwardFLOPs)
// and per-block benchmarks.
func (f *FastNet) Unwrap() engine.Layer { return f.seq }

// Params lists the trainable parameters; the frozen whitening weight is
// not one of them.
func (f *FastNet) Params() []*engine.Param { return f.seq.Params() }

// Buffers lists batch-norm statistics and the frozen whitening weight, so
// checkpoints hold the whole model.
func (f *FastNet) Buffers() []*engine.Param { return append(f.seq.Buffers(), f.frozen...) }

// BlockOutputs returns each stage's last output (after its ReLU), valid
// after a Forward.
func (f *FastNet) BlockOutputs() ([]string, []engine.Tensor) {
	outs := make([]engine.Tensor, len(f.blocks))
	for i, blk := range f.blocks {
		outs[i] = blk.y
	}
	return f.names, outs
}

// frozenConv is a convolution whose weight is fixed: Params offers only the
// bias, so no optimizer moves the weight (its gradient is still computed
// by Conv2d.Backward and ignored).
type frozenConv struct{ *engine.Conv2d }

func (c *frozenConv) Params() []*engine.Param { return []*engine.Param{c.B} }

// Unwrap lets engine.ForwardFLOPs count the convolution.
func (c *frozenConv) Unwrap() engine.Layer { return c.Conv2d }

// scale multiplies by a constant: airbench's final Mul(1/9), which keeps
// the initial logits small without touching the linear layer's init.
type scale struct {
	b     engine.Backend
	alpha float32
	y, dx engine.Tensor
	ran   bool
}

// Forward: x (N,K) → y = alpha·x (N,K).
func (s *scale) Forward(x engine.Tensor, mode engine.Mode) engine.Tensor {
	s.y = resize(s.b, s.y, x.Shape)
	s.b.Scale(s.alpha, x, s.y)
	s.ran = true
	return s.y
}

// Backward: dy → dx = alpha·dy.
func (s *scale) Backward(dy engine.Tensor) engine.Tensor {
	if !s.ran {
		panic("models: scale: Backward before Forward")
	}
	s.dx = resize(s.b, s.dx, dy.Shape)
	s.b.Scale(s.alpha, dy, s.dx)
	return s.dx
}

func (s *scale) Params() []*engine.Param { return nil }

// resize returns t with shape sh, reallocating only when t is too small.
func resize(b engine.Backend, t engine.Tensor, sh engine.Shape) engine.Tensor {
	if t.Buf == nil || t.Buf.Len() < sh.Numel() {
		if t.Buf != nil {
			b.Free(t.Buf)
		}
		return engine.New(b, engine.Float32, sh)
	}
	t.Shape, t.Off = sh, 0
	return t
}

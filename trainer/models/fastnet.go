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
//	         filters of the training patches (±12 PCA directions), + bias, act
//	stage1   conv3×3 24→64,  maxpool 2, BN+act, conv3×3 64→64,   BN+act  (31→15)
//	stage2   conv3×3 64→256, maxpool 2, BN+act, conv3×3 256→256, BN+act  (15→7)
//	stage3   conv3×3 256→256, maxpool 2, BN+act, conv3×3 256→256, BN+act (7→3)
//	head     maxpool 3 (3→1), linear 256→10 without bias, logits × 1/9
//
// The activation, batch norm and initialisation are options. With
// FastNetOptions{Act: GELU, BN: {Eps: 1e-12, Momentum: 0.4, FrozenScale:
// true}, Init: "airbench"} the network is airbench94's, layer for layer:
// GELU after the stem and every batch norm, batch norm with a frozen unit
// scale and momentum 0.6 (PyTorch's 0.4), PyTorch's default conv init with
// an identity (dirac) slice, zero-initialised whitening bias. The zero
// options keep the older variant: ReLU (fused into batch norm), PyTorch's
// batch-norm defaults with a trainable scale, Kaiming-normal convs. Without
// whitening data the stem is a trainable 3×3 conv 3→24 with BN and the
// activation (32→32, then 16, 8, 4 and a 4×4 final pool). airbench's
// training tricks (training the whitening bias for the first epochs only,
// lookahead, its decoupled LR and weight-decay schedule, the BN-bias LR
// scaler, alternating flips, flip+translate TTA) are not part of the model:
// they are options of package trainer ([trainer.Config]).
type FastNet struct {
	seq        *engine.Sequential
	frozen     []*engine.Param // whitening weight: saved, never trained
	whitenBias *engine.Param   // the whitening conv's bias; nil without whitening
	firstConv  *engine.Conv2d  // stage1's first convolution, where backward stops once the stem is frozen
	blocks     []*tap          // outputs exposed for monitoring
	names      []string
}

// FastNetOptions configures [NewFastNet].
type FastNetOptions struct {
	Seed  uint64
	Width float64 // multiplies the widths 64/256/256; 0 means 1
	// Widths, when set, are the three stages' channel counts and override
	// Width: airbench95 widens airbench94's 64/256/256 to 128/384/384.
	Widths [3]int
	// Whiten holds normalised training images (N,3,32,32), N = WhitenN, to
	// fit the frozen whitening stem to; nil selects the trainable stem.
	Whiten  []float32
	WhitenN int
	// Act follows the stem and every batch norm: ReLU (the zero value,
	// fused into batch norm) or GELU, airbench94's.
	Act engine.Act
	// BN configures every batch norm; the zero value is PyTorch's
	// defaults. airbench94: eps 1e-12, momentum 0.4, frozen scale.
	BN engine.BatchNormOptions
	// Init is "" (Kaiming-normal convs, fan-out) or "airbench": PyTorch's
	// default conv init, U(±1/sqrt(fan_in)), with each 3×3 conv's first
	// min(in, out) filters set to the identity (an implicit residual at
	// the start of training) and a zero whitening bias, as airbench94's
	// Conv.reset_parameters does.
	Init string
}

// Airbench94 sets o's network options to airbench94's: GELU, batch norm
// with eps 1e-12, momentum 0.4 (airbench's "0.6") and a frozen unit
// scale, and airbench's init, the network of examples/airbench94.yaml.
// Seed, width and whitening data are left as they are.
func (o FastNetOptions) Airbench94() FastNetOptions {
	o.Act, o.Init = engine.GELU, "airbench"
	o.BN = engine.BatchNormOptions{Eps: 1e-12, Momentum: 0.4, FrozenScale: true}
	return o
}

// NewFastNet builds FastNet on b with seeded initialisation.
func NewFastNet(b engine.Backend, o FastNetOptions) *FastNet {
	w := o.Width
	if w == 0 {
		w = 1
	}
	width := func(c int) int { return max(8, int(math.Round(float64(c)*w))) }
	c1, c2, c3 := width(64), width(256), width(256)
	if o.Widths != [3]int{} {
		c1, c2, c3 = o.Widths[0], o.Widths[1], o.Widths[2]
	}
	r := engine.NewRand(o.Seed)
	f := &FastNet{}

	var stem engine.Layer
	size := 32
	if o.Whiten != nil {
		conv := engine.NewConv2d(b, r, 3, 24, 2, engine.ConvDesc{}, true)
		b.CopyIn(conv.W.Value, WhiteningFilters(o.Whiten, o.WhitenN, 3, 32, 32, 2, 5e-4))
		if o.Init == "airbench" {
			b.Fill(conv.B.Value, 0)
		}
		conv.SkipInputGrad, conv.FrozenWeight = true, true
		engine.Tag(conv, "stem.whiten", "stem")
		stem = engine.NewSequential(&frozenConv{Conv2d: conv}, engine.NewActivation(b, o.Act))
		f.frozen = []*engine.Param{conv.W}
		f.whitenBias = conv.B
		size = 31
	} else {
		conv := engine.NewConv2d(b, r, 3, 24, 3, engine.ConvDesc{PadH: 1, PadW: 1}, false)
		conv.SkipInputGrad = true
		bn := engine.NewBatchNorm2dWith(b, 24, o.Act == engine.ReLU, o.BN)
		engine.Tag(conv, "stem.conv", "stem")
		engine.Tag(bn, "stem.bn", "stem")
		stem = engine.NewSequential(withAct(b, o.Act, conv, bn)...)
	}
	layers := []engine.Layer{stem}
	in := 24
	for i, out := range []int{c1, c2, c3} {
		name := fmt.Sprintf("stage%d", i+1)
		g, conv1 := convGroup(b, r, in, out, name, o)
		if i == 0 {
			f.firstConv = conv1
		}
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

// convGroup is airbench's ConvGroup: conv, pool, BN+act, conv, BN+act.
// Its parameters are named <name>.conv1.weight, <name>.bn1.bias... in
// group name.
// It also returns its first convolution.
func convGroup(b engine.Backend, r *rand.Rand, cin, cout int, name string, o FastNetOptions) (*tap, *engine.Conv2d) {
	same := engine.ConvDesc{PadH: 1, PadW: 1}
	relu := o.Act == engine.ReLU // fused into batch norm
	conv1 := engine.NewConv2d(b, r, cin, cout, 3, same, false)
	bn1 := engine.NewBatchNorm2dWith(b, cout, relu, o.BN)
	conv2 := engine.NewConv2d(b, r, cout, cout, 3, same, false)
	bn2 := engine.NewBatchNorm2dWith(b, cout, relu, o.BN)
	if o.Init == "airbench" {
		airbenchInit(b, r, conv1)
		airbenchInit(b, r, conv2)
	}
	for part, l := range map[string]engine.Layer{"conv1": conv1, "bn1": bn1, "conv2": conv2, "bn2": bn2} {
		engine.Tag(l, name+"."+part, name)
	}
	ls := []engine.Layer{conv1, engine.NewMaxPool2d(b, 2, 2, 0)}
	ls = append(ls, withAct(b, o.Act, bn1)...)
	ls = append(ls, withAct(b, o.Act, conv2, bn2)...)
	return &tap{Layer: engine.NewSequential(ls...)}, conv1
}

// withAct appends activation a to ls, unless a is ReLU, which the batch
// norm at the end of ls applies fused.
func withAct(b engine.Backend, a engine.Act, ls ...engine.Layer) []engine.Layer {
	if a == engine.ReLU {
		return ls
	}
	return append(ls, engine.NewActivation(b, a))
}

// airbenchInit re-initialises conv (K,C,R,S) as airbench94's Conv does:
// PyTorch's default U(±1/sqrt(C·R·S)), then filters k < min(K, C) set to
// the identity on input channel k (dirac), so that at initialisation the
// block passes its input through, an implicit residual.
func airbenchInit(b engine.Backend, r *rand.Rand, conv *engine.Conv2d) {
	k, c, kh, kw := conv.W.Value.Shape.NCHW()
	bound := 1 / math.Sqrt(float64(c*kh*kw))
	w := make([]float32, k*c*kh*kw)
	for i := range w {
		w[i] = float32((2*r.Float64() - 1) * bound)
	}
	for f := range min(k, c) {
		filter := w[f*c*kh*kw : (f+1)*c*kh*kw]
		clear(filter)
		filter[(f*kh+kh/2)*kw+kw/2] = 1
	}
	b.CopyIn(conv.W.Value, w)
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

// WhitenBias returns the whitening stem's bias, which airbench94 trains for
// its first epochs only (see trainer.Config.WhitenBiasEpochs); nil when the
// stem is the trainable conv.
func (f *FastNet) WhitenBias() *engine.Param { return f.whitenBias }

// BlockOutputs returns each stage's last output (after its activation), valid
// after a Forward.
func (f *FastNet) BlockOutputs() ([]string, []engine.Tensor) {
	outs := make([]engine.Tensor, len(f.blocks))
	for i, blk := range f.blocks {
		outs[i] = blk.y
	}
	return f.names, outs
}

// FreezeStem ends every later backward pass at stage1's first convolution:
// once the whitening bias is frozen (trainer.Config.WhitenBiasEpochs) the
// stem has nothing left to train, and neither its backward nor stage1's
// input gradient is needed. It changes no trained value. Models without
// the whitening stem, whose stem trains throughout, ignore it.
func (f *FastNet) FreezeStem() {
	if f.whitenBias != nil {
		f.firstConv.SkipInputGrad = true
	}
}

// frozenConv is a convolution whose weight is fixed: Params offers only the
// bias, so no optimizer moves the weight, and Conv2d.FrozenWeight skips
// its gradient.
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

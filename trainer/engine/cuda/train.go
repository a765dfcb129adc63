package cuda

import (
	"fmt"
	"math"

	"sweep/trainer/engine"
)

// ───────────────────────────── loss ─────────────────────────────────────

// SoftmaxCrossEntropy writes per-sample losses and, when dlogits is not
// the zero Tensor, (softmax − q)·gradScale.
func (b *Backend) SoftmaxCrossEntropy(logits, labels engine.Tensor, smoothing, gradScale float32, losses, dlogits engine.Tensor) {
	f32("SoftmaxCrossEntropy", logits, losses, dlogits)
	n, k := logits.Dim(0), logits.Dim(1)
	if labels.DType != engine.Int32 || labels.Numel() != n || losses.Numel() != n || (!dlogits.IsZero() && dlogits.Shape != logits.Shape) {
		panic(fmt.Sprintf("cuda: SoftmaxCrossEntropy: logits %v, labels %v %v, losses %v, dlogits %v",
			logits.Shape, labels.Shape, labels.DType, losses.Shape, dlogits.Shape))
	}
	defer b.ctx.Enter()()
	b.launch("softmax_xent_f32", n, b.a().Ptr(ptr(logits)).Ptr(ptr(labels)).Int(n).Int(k).Float(smoothing).
		Float(gradScale).Ptr(ptr(losses)).Ptr(ptr(dlogits)))
}

// Argmax writes the index of each row's largest value (first on ties).
func (b *Backend) Argmax(x, idx engine.Tensor) {
	f32("Argmax", x)
	n, k := x.Dim(0), x.Dim(1)
	if idx.DType != engine.Int32 || idx.Numel() != n {
		panic(fmt.Sprintf("cuda: Argmax: x %v, idx %v %v", x.Shape, idx.Shape, idx.DType))
	}
	defer b.ctx.Enter()()
	b.launch("argmax_f32", n, b.a().Ptr(ptr(x)).Ptr(ptr(idx)).Int(n).Int(k))
}

// ───────────────────────────── reductions ───────────────────────────────

// reduce runs reduce_f32 (op 0 Σx, 1 Σx², 2 zeros) and waits for it.
func (b *Backend) reduce(op int, x engine.Tensor) float64 {
	f32("reduce", x)
	defer b.ctx.Enter()()
	out, err := b.scalar.get(8)
	if err != nil {
		panic(fmt.Errorf("cuda: reduction scratch: %w", err))
	}
	b.record(b.ctx.Memset32(out, 0, 2, b.stream))
	n := x.Numel()
	b.launchRows("reduce_f32", min(b.grid(n), 1024), b.a().Int(op).Ptr(ptr(x)).Ptr(out).Int(n))
	res := make([]float64, 1)
	if err := download(b, res, engine.Tensor{Buf: &buffer{ptr: out, n: 2, dt: engine.Float32}, Shape: engine.Shape{2}}); err != nil {
		b.record(err)
		return math.NaN()
	}
	return res[0]
}

// Sum returns Σx in float64.
func (b *Backend) Sum(x engine.Tensor) float64 { return b.reduce(0, x) }

// SumSquares returns Σx²; NaN or +Inf when x holds a non-finite value.
func (b *Backend) SumSquares(x engine.Tensor) float64 { return b.reduce(1, x) }

// CountZeros returns how many elements equal 0.
func (b *Backend) CountZeros(x engine.Tensor) int { return int(b.reduce(2, x)) }

// ───────────────────────────── optimizer updates ────────────────────────

// SGDStep updates p with PyTorch's SGD (see engine.Backend).
func (b *Backend) SGDStep(h engine.SGD, p, g, v engine.Tensor) {
	f32("SGDStep", p, g, v)
	engine.SameShape("SGDStep", p, g)
	if h.Momentum != 0 {
		engine.SameShape("SGDStep", p, v)
	}
	nesterov := 0
	if h.Nesterov {
		nesterov = 1
	}
	defer b.ctx.Enter()()
	n := p.Numel()
	b.launch("sgd_step_f32", n, b.a().Ptr(ptr(p)).Ptr(ptr(g)).Ptr(ptr(v)).Int(n).Float(h.LR).Float(h.Momentum).
		Float(h.Dampening).Float(h.WeightDecay).Int(nesterov))
}

// AdamWStep updates p with AdamW (decoupled weight decay).
func (b *Backend) AdamWStep(h engine.AdamW, p, g, m, v engine.Tensor) {
	f32("AdamWStep", p, g, m, v)
	engine.SameShape("AdamWStep", p, g)
	engine.SameShape("AdamWStep", p, m)
	engine.SameShape("AdamWStep", p, v)
	if h.Step < 1 {
		panic(fmt.Sprintf("cuda: AdamWStep: step %d, want ≥ 1", h.Step))
	}
	bc1 := float32(1 - math.Pow(float64(h.Beta1), float64(h.Step)))
	bc2 := float32(1 - math.Pow(float64(h.Beta2), float64(h.Step)))
	defer b.ctx.Enter()()
	n := p.Numel()
	b.launch("adamw_step_f32", n, b.a().Ptr(ptr(p)).Ptr(ptr(g)).Ptr(ptr(m)).Ptr(ptr(v)).Int(n).Float(h.LR).
		Float(h.Beta1).Float(h.Beta2).Float(h.Eps).Float(h.WeightDecay).Float(bc1).Float(bc2))
}

// UnscaleCheck multiplies g by invScale in place and reports whether any
// element is NaN or ±Inf: the device half of dynamic loss scaling (see
// package amp). It waits for the result.
func (b *Backend) UnscaleCheck(g engine.Tensor, invScale float32) (finite bool) {
	f32("UnscaleCheck", g)
	defer b.ctx.Enter()()
	flag, err := b.scalar.get(4)
	if err != nil {
		panic(fmt.Errorf("cuda: unscale scratch: %w", err))
	}
	b.record(b.ctx.Memset32(flag, 0, 1, b.stream))
	n := g.Numel()
	b.launch("unscale_check_f32", n, b.a().Ptr(ptr(g)).Float(invScale).Int(n).Ptr(flag))
	found := make([]int32, 1)
	if err := download(b, found, engine.Tensor{Buf: &buffer{ptr: flag, n: 1, dt: engine.Int32}, Shape: engine.Shape{1}}); err != nil {
		b.record(err)
		return false
	}
	return found[0] == 0
}

// ───────────────────────────── random ───────────────────────────────────

// DropoutForward draws the mask from engine.Uniform(seed, i), the same
// numbers the CPU backend draws.
func (b *Backend) DropoutForward(p float32, seed uint64, x, mask, y engine.Tensor) {
	f32("DropoutForward", x, mask, y)
	engine.SameShape("DropoutForward", x, mask)
	engine.SameShape("DropoutForward", x, y)
	defer b.ctx.Enter()()
	n := x.Numel()
	b.launch("dropout_f32", n, b.a().Float(p).Uint64(seed).Ptr(ptr(x)).Ptr(ptr(mask)).Ptr(ptr(y)).Int(n))
}

// CropFlip writes y = x randomly shifted by up to pad pixels (zero fill)
// and mirrored with probability ½, per image, on the device: the random
// crop + flip augmentation without a round trip through the host. Image
// n's shifts and flip are Uniform(seed, 3n), (3n+1) and (3n+2).
func (b *Backend) CropFlip(x, y engine.Tensor, pad int, seed uint64) {
	f32("CropFlip", x, y)
	engine.SameShape("CropFlip", x, y)
	n, c, h, w := x.Shape.NCHW()
	defer b.ctx.Enter()()
	b.launch("crop_flip_f32", x.Numel(), b.a().Ptr(ptr(x)).Ptr(ptr(y)).Int(n).Int(c).Int(h).Int(w).Int(pad).Uint64(seed))
}

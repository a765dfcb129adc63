package cuda

import (
	"fmt"

	"sweep/trainer/engine"
)

// ───────────────────────────── channels and bias ────────────────────────

// AddChannelBias adds bias (C) to channel c of x (N,C,H,W) or (N,C).
func (b *Backend) AddChannelBias(x, bias engine.Tensor) {
	f32("AddChannelBias", x, bias)
	_, c, h, w := x.Shape.NCHW()
	if bias.Numel() != c {
		panic(fmt.Sprintf("cuda: AddChannelBias: x %v, bias %v", x.Shape, bias.Shape))
	}
	defer b.ctx.Enter()()
	n := x.Numel()
	b.launch("add_channel_bias_f32", n, b.a().Ptr(ptr(x)).Ptr(ptr(bias)).Int(c).Int(h*w).Int(n))
}

// SumChannels accumulates into db (C) the sums of dy over all axes but C.
func (b *Backend) SumChannels(dy, db engine.Tensor) {
	f32("SumChannels", dy, db)
	n, c, h, w := dy.Shape.NCHW()
	if db.Numel() != c {
		panic(fmt.Sprintf("cuda: SumChannels: dy %v, db %v", dy.Shape, db.Shape))
	}
	defer b.ctx.Enter()()
	b.launchRows("sum_channels_f32", c, b.a().Ptr(ptr(dy)).Ptr(ptr(db)).Int(n).Int(c).Int(h*w))
}

// ScaleChannels writes y = x · s, one scale per (n, c).
func (b *Backend) ScaleChannels(x, s, y engine.Tensor) {
	f32("ScaleChannels", x, s, y)
	engine.SameShape("ScaleChannels", x, y)
	n, c, h, w := x.Shape.NCHW()
	if s.Numel() != n*c {
		panic(fmt.Sprintf("cuda: ScaleChannels: x %v, s %v", x.Shape, s.Shape))
	}
	defer b.ctx.Enter()()
	total := x.Numel()
	b.launch("scale_channels_f32", total, b.a().Ptr(ptr(x)).Ptr(ptr(s)).Ptr(ptr(y)).Int(h*w).Int(total))
}

// ScaleChannelsBackward writes dx = dy · s and ds = Σ_hw dy · x.
func (b *Backend) ScaleChannelsBackward(x, s, dy, dx, ds engine.Tensor) {
	f32("ScaleChannelsBackward", x, s, dy, dx, ds)
	engine.SameShape("ScaleChannelsBackward", x, dy)
	engine.SameShape("ScaleChannelsBackward", x, dx)
	n, c, h, w := x.Shape.NCHW()
	if s.Numel() != n*c || ds.Numel() != n*c {
		panic(fmt.Sprintf("cuda: ScaleChannelsBackward: x %v, s %v, ds %v", x.Shape, s.Shape, ds.Shape))
	}
	defer b.ctx.Enter()()
	b.launchRows("scale_channels_bwd_f32", n*c, b.a().Ptr(ptr(x)).Ptr(ptr(s)).Ptr(ptr(dy)).Ptr(ptr(dx)).Ptr(ptr(ds)).Int(h*w))
}

// ───────────────────────────── batch normalisation ──────────────────────

func bnCheck(op string, x engine.Tensor, cs ...engine.Tensor) (n, c, hw int) {
	n, c, h, w := x.Shape.NCHW()
	for _, t := range cs {
		if !t.IsZero() && t.Numel() != c {
			panic(fmt.Sprintf("cuda: %s: x %v, per-channel tensor %v", op, x.Shape, t.Shape))
		}
	}
	return n, c, h * w
}

// BatchNormTrain normalises with batch statistics and updates the running
// ones (see engine.Backend).
func (b *Backend) BatchNormTrain(x, gamma, beta engine.Tensor, bn engine.BatchNormDesc, runMean, runVar, mean, invStd, y engine.Tensor) {
	b.bnTrain("BatchNormTrain", x, gamma, beta, bn, runMean, runVar, mean, invStd, y, 0)
}

// BatchNormReLUTrain is BatchNormTrain followed by ReLU, in one pass.
func (b *Backend) BatchNormReLUTrain(x, gamma, beta engine.Tensor, bn engine.BatchNormDesc, runMean, runVar, mean, invStd, y engine.Tensor) {
	b.bnTrain("BatchNormReLUTrain", x, gamma, beta, bn, runMean, runVar, mean, invStd, y, 1)
}

func (b *Backend) bnTrain(op string, x, gamma, beta engine.Tensor, bn engine.BatchNormDesc, runMean, runVar, mean, invStd, y engine.Tensor, relu int) {
	f32(op, x, gamma, beta, runMean, runVar, mean, invStd, y)
	engine.SameShape(op, x, y)
	n, c, hw := bnCheck(op, x, gamma, beta, runMean, runVar, mean, invStd)
	defer b.ctx.Enter()()
	b.launchRows("bn_stats_f32", c, b.a().Ptr(ptr(x)).Ptr(ptr(mean)).Ptr(ptr(invStd)).Ptr(ptr(runMean)).Ptr(ptr(runVar)).
		Int(n).Int(c).Int(hw).Float(bn.Eps).Float(bn.Momentum))
	total := x.Numel()
	b.launch("bn_apply_f32", total, b.a().Ptr(ptr(x)).Ptr(ptr(gamma)).Ptr(ptr(beta)).Ptr(ptr(mean)).Ptr(ptr(invStd)).
		Ptr(ptr(y)).Int(c).Int(hw).Int(total).Int(relu))
}

// BatchNormInfer normalises with the running statistics.
func (b *Backend) BatchNormInfer(x, gamma, beta engine.Tensor, bn engine.BatchNormDesc, runMean, runVar, y engine.Tensor) {
	f32("BatchNormInfer", x, gamma, beta, runMean, runVar, y)
	engine.SameShape("BatchNormInfer", x, y)
	_, c, hw := bnCheck("BatchNormInfer", x, gamma, beta, runMean, runVar)
	defer b.ctx.Enter()()
	total := x.Numel()
	b.launch("bn_infer_f32", total, b.a().Ptr(ptr(x)).Ptr(ptr(gamma)).Ptr(ptr(beta)).Ptr(ptr(runMean)).Ptr(ptr(runVar)).
		Float(bn.Eps).Ptr(ptr(y)).Int(c).Int(hw).Int(total))
}

// BatchNormBackward writes dx and accumulates dgamma and dbeta.
func (b *Backend) BatchNormBackward(x, dy, gamma, mean, invStd, dx, dgamma, dbeta engine.Tensor) {
	b.bnBackward("BatchNormBackward", x, engine.Tensor{}, dy, gamma, mean, invStd, dx, dgamma, dbeta)
}

// BatchNormReLUBackward is BatchNormBackward with dy masked by y > 0.
func (b *Backend) BatchNormReLUBackward(x, y, dy, gamma, mean, invStd, dx, dgamma, dbeta engine.Tensor) {
	b.bnBackward("BatchNormReLUBackward", x, y, dy, gamma, mean, invStd, dx, dgamma, dbeta)
}

func (b *Backend) bnBackward(op string, x, y, dy, gamma, mean, invStd, dx, dgamma, dbeta engine.Tensor) {
	f32(op, x, y, dy, gamma, mean, invStd, dx, dgamma, dbeta)
	engine.SameShape(op, x, dy)
	engine.SameShape(op, x, dx)
	n, c, hw := bnCheck(op, x, gamma, mean, invStd, dgamma, dbeta)
	defer b.ctx.Enter()()
	sums, err := b.scalar.get(int64(8 * c))
	if err != nil {
		panic(fmt.Errorf("cuda: %s scratch: %w", op, err))
	}
	b.launchRows("bn_bwd_reduce_f32", c, b.a().Ptr(ptr(x)).Ptr(ptr(dy)).Ptr(ptr(y)).Ptr(ptr(mean)).Ptr(ptr(invStd)).
		Ptr(ptr(dgamma)).Ptr(ptr(dbeta)).Ptr(sums).Int(n).Int(c).Int(hw))
	total := x.Numel()
	b.launch("bn_bwd_dx_f32", total, b.a().Ptr(ptr(x)).Ptr(ptr(dy)).Ptr(ptr(y)).Ptr(ptr(gamma)).Ptr(ptr(mean)).
		Ptr(ptr(invStd)).Ptr(sums).Ptr(ptr(dx)).Int(c).Int(hw).Int(total).Float(float32(n*hw)))
}

// ───────────────────────────── pooling ──────────────────────────────────

// pool queues a pooling kernel; y is the (N,C,P,Q) side.
func (b *Backend) pool(op, kernel string, d engine.PoolDesc, x, y engine.Tensor, extra ...engine.Tensor) {
	d = d.Norm()
	n, c, h, w := x.Shape.NCHW()
	p, q := d.OutSize(h, w)
	if y.Shape != (engine.Shape{n, c, p, q}) {
		panic(fmt.Sprintf("cuda: %s: x %v, y %v, window %+v", op, x.Shape, y.Shape, d))
	}
	args := b.a()
	for _, t := range extra {
		args.Ptr(ptr(t))
	}
	args.Int(n * c).Int(h).Int(w).Int(p).Int(q).Int(d.KH).Int(d.KW).Int(d.StrideH).Int(d.StrideW).Int(d.PadH).Int(d.PadW)
	b.launch(kernel, n*c*p*q, args)
}

// MaxPoolForward writes the window maxima.
func (b *Backend) MaxPoolForward(d engine.PoolDesc, x, y engine.Tensor) {
	f32("MaxPoolForward", x, y)
	defer b.ctx.Enter()()
	b.pool("MaxPoolForward", "maxpool_fwd_f32", d, x, y, x, y)
}

// MaxPoolBackward routes each dy to the first maximal position.
func (b *Backend) MaxPoolBackward(d engine.PoolDesc, x, y, dy, dx engine.Tensor) {
	f32("MaxPoolBackward", x, y, dy, dx)
	engine.SameShape("MaxPoolBackward", x, dx)
	defer b.ctx.Enter()()
	b.record(b.ctx.Memset32(ptr(dx), 0, int64(dx.Numel()), b.stream))
	b.pool("MaxPoolBackward", "maxpool_bwd_f32", d, x, y, x, y, dy, dx)
}

// AvgPoolForward writes the window means (padding in the divisor).
func (b *Backend) AvgPoolForward(d engine.PoolDesc, x, y engine.Tensor) {
	f32("AvgPoolForward", x, y)
	defer b.ctx.Enter()()
	b.pool("AvgPoolForward", "avgpool_fwd_f32", d, x, y, x, y)
}

// AvgPoolBackward spreads dy evenly over each window.
func (b *Backend) AvgPoolBackward(d engine.PoolDesc, dy, dx engine.Tensor) {
	f32("AvgPoolBackward", dy, dx)
	defer b.ctx.Enter()()
	b.record(b.ctx.Memset32(ptr(dx), 0, int64(dx.Numel()), b.stream))
	b.pool("AvgPoolBackward", "avgpool_bwd_f32", d, dx, dy, dy, dx)
}

// GlobalAvgPoolForward writes y (N,C), the mean over H and W.
func (b *Backend) GlobalAvgPoolForward(x, y engine.Tensor) {
	f32("GlobalAvgPoolForward", x, y)
	n, c, h, w := x.Shape.NCHW()
	if y.Numel() != n*c {
		panic(fmt.Sprintf("cuda: GlobalAvgPoolForward: x %v, y %v", x.Shape, y.Shape))
	}
	defer b.ctx.Enter()()
	b.launchRows("global_avg_fwd_f32", n*c, b.a().Ptr(ptr(x)).Ptr(ptr(y)).Int(h*w))
}

// GlobalAvgPoolBackward writes dx = dy/(H·W).
func (b *Backend) GlobalAvgPoolBackward(dy, dx engine.Tensor) {
	f32("GlobalAvgPoolBackward", dy, dx)
	n, c, h, w := dx.Shape.NCHW()
	if dy.Numel() != n*c {
		panic(fmt.Sprintf("cuda: GlobalAvgPoolBackward: dy %v, dx %v", dy.Shape, dx.Shape))
	}
	defer b.ctx.Enter()()
	total := dx.Numel()
	b.launch("global_avg_bwd_f32", total, b.a().Ptr(ptr(dy)).Ptr(ptr(dx)).Int(h*w).Int(total))
}

// ───────────────────────────── activations and elementwise ──────────────

// ActForward writes y = f(x).
func (b *Backend) ActForward(act engine.Act, x, y engine.Tensor) {
	f32("ActForward", x, y)
	engine.SameShape("ActForward", x, y)
	defer b.ctx.Enter()()
	n := x.Numel()
	b.launch("act_fwd_f32", n, b.a().Int(int(act)).Ptr(ptr(x)).Ptr(ptr(y)).Int(n))
}

// ActBackward writes dx = f'(x)·dy.
func (b *Backend) ActBackward(act engine.Act, x, y, dy, dx engine.Tensor) {
	f32("ActBackward", x, y, dy, dx)
	engine.SameShape("ActBackward", dy, dx)
	defer b.ctx.Enter()()
	n := dy.Numel()
	b.launch("act_bwd_f32", n, b.a().Int(int(act)).Ptr(ptr(x)).Ptr(ptr(y)).Ptr(ptr(dy)).Ptr(ptr(dx)).Int(n))
}

func (b *Backend) binary(op, kernel string, a, c, y engine.Tensor) {
	f32(op, a, c, y)
	engine.SameShape(op, a, c)
	engine.SameShape(op, a, y)
	defer b.ctx.Enter()()
	n := a.Numel()
	b.launch(kernel, n, b.a().Ptr(ptr(a)).Ptr(ptr(c)).Ptr(ptr(y)).Int(n))
}

// Add writes y = a + c.
func (b *Backend) Add(a, c, y engine.Tensor) { b.binary("Add", "add_f32", a, c, y) }

// AddReLU writes y = max(a + c, 0).
func (b *Backend) AddReLU(a, c, y engine.Tensor) { b.binary("AddReLU", "add_relu_f32", a, c, y) }

// Mul writes y = a · c.
func (b *Backend) Mul(a, c, y engine.Tensor) { b.binary("Mul", "mul_f32", a, c, y) }

func (b *Backend) scalarOp(op, kernel string, alpha float32, x, y engine.Tensor) {
	f32(op, x, y)
	engine.SameShape(op, x, y)
	defer b.ctx.Enter()()
	n := x.Numel()
	b.launch(kernel, n, b.a().Float(alpha).Ptr(ptr(x)).Ptr(ptr(y)).Int(n))
}

// Scale writes y = alpha · x.
func (b *Backend) Scale(alpha float32, x, y engine.Tensor) {
	b.scalarOp("Scale", "scale_f32", alpha, x, y)
}

// Axpy accumulates y += alpha · x.
func (b *Backend) Axpy(alpha float32, x, y engine.Tensor) {
	b.scalarOp("Axpy", "axpy_f32", alpha, x, y)
}

// Lerp writes dst += t·(src − dst).
func (b *Backend) Lerp(t float32, src, dst engine.Tensor) {
	b.scalarOp("Lerp", "lerp_f32", t, src, dst)
}

package engine

// BatchNorm2d normalises each channel with batch statistics in training
// and running statistics in evaluation, optionally followed by a ReLU. The
// ReLU is fused into one kernel when the backend implements
// BatchNormReLUTrainer and BatchNormReLUBackwarder.
type BatchNorm2d struct {
	b             Backend
	desc          BatchNormDesc
	ReLU          bool
	frozenScale   bool   // Gamma is a buffer fixed at 1 (see BatchNormOptions)
	Gamma, Beta   *Param // (C)
	RunMean, RunV *Param // (C) buffers
	mean, invStd  Tensor // (C) saved batch statistics

	x, z, y, dz, dx Tensor // z: BN output before an unfused ReLU
	mode            Mode
	recycle         bool // see recycler; only without ReLU, whose backward reads y
}

// BatchNormOptions overrides batch norm's PyTorch defaults; the zero value
// keeps them all.
type BatchNormOptions struct {
	// Eps is added to the variance; 0 means 1e-5. airbench94 uses 1e-12.
	Eps float32
	// Momentum is the weight of a batch's statistics in the running ones,
	// in PyTorch's convention (running = (1−m)·running + m·batch); 0 means
	// 0.1. airbench94's "momentum 0.6" is PyTorch's 1 − 0.6 = 0.4.
	Momentum float32
	// FrozenScale fixes gamma at 1, as airbench94 does: gamma is then a
	// buffer (saved in checkpoints, never trained or weight-decayed) and
	// the layer trains its shift alone.
	FrozenScale bool
}

// NewBatchNorm2d returns batch norm over c channels with PyTorch's defaults
// (eps 1e-5, momentum 0.1, gamma 1, beta 0, running mean 0, variance 1).
func NewBatchNorm2d(b Backend, c int, relu bool) *BatchNorm2d {
	return NewBatchNorm2dWith(b, c, relu, BatchNormOptions{})
}

// NewBatchNorm2dWith returns batch norm over c channels with the options o
// in place of PyTorch's defaults.
func NewBatchNorm2dWith(b Backend, c int, relu bool, o BatchNormOptions) *BatchNorm2d {
	if o.Eps == 0 {
		o.Eps = 1e-5
	}
	if o.Momentum == 0 {
		o.Momentum = 0.1
	}
	s := Shape{c}
	return &BatchNorm2d{
		b: b, desc: BatchNormDesc{Eps: o.Eps, Momentum: o.Momentum}, ReLU: relu, frozenScale: o.FrozenScale,
		Gamma:   newParam(b, "weight", s, true, false, constant(1)),
		Beta:    newParam(b, "bias", s, true, false, constant(0)),
		RunMean: newParam(b, "running_mean", s, true, true, constant(0)),
		RunV:    newParam(b, "running_var", s, true, true, constant(1)),
		mean:    New(b, Float32, s),
		invStd:  New(b, Float32, s),
	}
}

func (n *BatchNorm2d) fused() (BatchNormReLUTrainer, BatchNormReLUBackwarder, bool) {
	f, ok1 := n.b.(BatchNormReLUTrainer)
	g, ok2 := n.b.(BatchNormReLUBackwarder)
	return f, g, n.ReLU && ok1 && ok2
}

// Forward: x (N,C,H,W) → y (N,C,H,W).
func (n *BatchNorm2d) Forward(x Tensor, mode Mode) Tensor {
	n.x, n.mode = x, mode
	y := ensure(n.b, &n.y, Float32, x.Shape)
	g, bt, rm, rv := n.Gamma.Value, n.Beta.Value, n.RunMean.Value, n.RunV.Value
	if mode == Eval {
		n.b.BatchNormInfer(x, g, bt, n.desc, rm, rv, y)
		if n.ReLU {
			n.b.ActForward(ReLU, y, y)
		}
		return y
	}
	if f, _, ok := n.fused(); ok {
		f.BatchNormReLUTrain(x, g, bt, n.desc, rm, rv, n.mean, n.invStd, y)
		return y
	}
	if !n.ReLU {
		n.b.BatchNormTrain(x, g, bt, n.desc, rm, rv, n.mean, n.invStd, y)
		return y
	}
	z := ensure(n.b, &n.z, Float32, x.Shape)
	n.b.BatchNormTrain(x, g, bt, n.desc, rm, rv, n.mean, n.invStd, z)
	n.b.ActForward(ReLU, z, y)
	return y
}

// Backward: dy (N,C,H,W) → dx (N,C,H,W); dGamma and dBeta accumulate.
func (n *BatchNorm2d) Backward(dy Tensor) Tensor {
	needForward("BatchNorm2d", n.x, n.mode)
	if n.frozenScale {
		// The kernels accumulate dgamma; a frozen gamma is no Param, so
		// nobody else zeroes it. It then holds this step's gradient.
		n.b.Fill(n.Gamma.Grad, 0)
	}
	dx := inputGrad(n.b, n.recycle && !n.ReLU, n.y, &n.dx, n.x.Shape)
	if _, f, ok := n.fused(); ok {
		f.BatchNormReLUBackward(n.x, n.y, dy, n.Gamma.Value, n.mean, n.invStd, dx, n.Gamma.Grad, n.Beta.Grad)
		return dx
	}
	if n.ReLU {
		dz := ensure(n.b, &n.dz, Float32, n.x.Shape)
		n.b.ActBackward(ReLU, n.z, n.y, dy, dz)
		dy = dz
	}
	n.b.BatchNormBackward(n.x, dy, n.Gamma.Value, n.mean, n.invStd, dx, n.Gamma.Grad, n.Beta.Grad)
	return dx
}

// Params returns gamma and beta, or beta alone when the scale is frozen.
func (n *BatchNorm2d) Params() []*Param {
	if n.frozenScale {
		return []*Param{n.Beta}
	}
	return []*Param{n.Gamma, n.Beta}
}

// Buffers returns the running mean and variance, and gamma when it is
// frozen (so that checkpoints hold the same tensors either way).
func (n *BatchNorm2d) Buffers() []*Param {
	if n.frozenScale {
		return []*Param{n.RunMean, n.RunV, n.Gamma}
	}
	return []*Param{n.RunMean, n.RunV}
}

// Momentum returns the running-statistics momentum (PyTorch convention).
func (n *BatchNorm2d) Momentum() float32 { return n.desc.Momentum }

// Output returns the last Forward's output (after the ReLU, if any).
// Inside a residual block it is valid only until Backward, which may reuse
// its memory.
func (n *BatchNorm2d) Output() Tensor { return n.y }

func (n *BatchNorm2d) recycleOutput() { n.recycle = true }

// BatchNormPool is batch norm, ReLU and a max pool as one layer, the tail
// of a conv-bn-relu-pool stage. With a backend implementing
// BatchNormReLUMaxPoolTrainer and BatchNormReLUMaxPoolBackwarder it runs
// fused: one pass over the full-size activation instead of three, and only
// the pooled output and the argmax indices are stored. Otherwise it is
// exactly BatchNorm2d followed by MaxPool2d. Its tensors are named like
// BatchNorm2d's, so checkpoints do not depend on the fusion.
type BatchNormPool struct {
	*BatchNorm2d
	Pool        *MaxPool2d
	py, idx, dx Tensor
	mode        Mode
	ran         bool
}

// NewBatchNormReLUMaxPool returns batch norm over c channels, ReLU, and a
// k×k max pool with stride k.
func NewBatchNormReLUMaxPool(b Backend, c, k int) *BatchNormPool {
	return &BatchNormPool{BatchNorm2d: NewBatchNorm2d(b, c, true), Pool: NewMaxPool2d(b, k, k, 0)}
}

func (l *BatchNormPool) fusedPool() (BatchNormReLUMaxPoolTrainer, BatchNormReLUMaxPoolBackwarder, bool) {
	f, ok1 := l.b.(BatchNormReLUMaxPoolTrainer)
	g, ok2 := l.b.(BatchNormReLUMaxPoolBackwarder)
	return f, g, ok1 && ok2
}

// Forward: x (N,C,H,W) → y (N,C,H/k,W/k).
func (l *BatchNormPool) Forward(x Tensor, mode Mode) Tensor {
	l.mode, l.ran = mode, true
	f, _, ok := l.fusedPool()
	if !ok || mode == Eval {
		return l.Pool.Forward(l.BatchNorm2d.Forward(x, mode), mode)
	}
	n := l.BatchNorm2d
	n.x, n.mode = x, mode
	p, q := l.Pool.desc.OutSize(x.Dim(2), x.Dim(3))
	s := Shape{x.Dim(0), x.Dim(1), p, q}
	py, idx := ensure(n.b, &l.py, Float32, s), ensure(n.b, &l.idx, Int32, s)
	f.BatchNormReLUMaxPoolTrain(l.Pool.desc, x, n.Gamma.Value, n.Beta.Value, n.desc, n.RunMean.Value, n.RunV.Value, n.mean, n.invStd, py, idx)
	return py
}

// Backward: dy (N,C,H/k,W/k) → dx (N,C,H,W); dGamma and dBeta accumulate.
func (l *BatchNormPool) Backward(dy Tensor) Tensor {
	if !l.ran {
		panic("engine: BatchNormPool: Backward before Forward")
	}
	_, g, ok := l.fusedPool()
	if !ok {
		return l.BatchNorm2d.Backward(l.Pool.Backward(dy))
	}
	n := l.BatchNorm2d
	needForward("BatchNormPool", n.x, l.mode)
	dx := ensure(n.b, &l.dx, Float32, n.x.Shape)
	g.BatchNormReLUMaxPoolBackward(l.Pool.desc, n.x, l.py, l.idx, dy, n.Gamma.Value, n.mean, n.invStd, dx, n.Gamma.Grad, n.Beta.Grad)
	return dx
}

// Output returns the last Forward's pooled output.
func (l *BatchNormPool) Output() Tensor {
	if _, _, ok := l.fusedPool(); ok && l.mode == Train {
		return l.py
	}
	return l.Pool.Output()
}

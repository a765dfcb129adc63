package engine

// This file is the CUDA seam. Backend is the one deliberately wide
// interface of the engine: everything a layer, a loss or an optimizer does to
// tensor data goes through it, so the model code is written once and runs on
// engine/cpu (OpenBLAS via purego, or pure Go) and on engine/cuda unchanged.
// engine/enginetest checks every method of every backend against a float64
// reference; a new backend passes that suite before anything else uses it.
//
// Conventions for every method below:
//   - Layout is row-major and contiguous; image tensors are NCHW, weights of
//     a convolution are (K, C/groups, R, S), matrices are (rows, cols).
//   - Shapes come from the Tensor arguments. A mismatch is a programmer error
//     and panics with a message naming the method and the shapes.
//   - "writes y" means y is overwritten; "accumulates into g" means g += ...
//     Parameter gradients (dw, db, dgamma, dbeta) always accumulate, so the
//     trainer zeroes them explicitly once per step. Input gradients (dx) are
//     overwritten.
//   - Outputs never alias inputs unless the method says "may alias".
//   - Methods may run asynchronously on a device; CopyOut, the reductions
//     that return host values, and Sync wait for queued work.
//   - A Backend value is used by one goroutine at a time (one per training
//     run); it may use many threads inside a call. Different Backend values
//     are independent.
//   - float32 arithmetic is the contract. A backend may compute 16-bit
//     tensors (BFloat16, Float16) with float32 accumulation; the CPU backend
//     supports Float32 and Int32 only and panics on other dtypes.

import "errors"

// Errors of the engine: backends return (or wrap in panics, see New) the
// first two; Load wraps ErrCheckpoint.
var (
	// ErrOutOfMemory means an allocation did not fit on the device.
	ErrOutOfMemory = errors.New("engine: out of memory")
	// ErrUnsupported means the backend lacks a dtype or option, for
	// example BFloat16 on the CPU backend.
	ErrUnsupported = errors.New("engine: unsupported by backend")
	// ErrCheckpoint marks a checkpoint that does not fit the model.
	ErrCheckpoint = errors.New("engine: checkpoint does not match model")
)

// Backend executes tensor operations on one device.
type Backend interface {
	// ───────────────────────────── identity ─────────────────────────────

	// Name identifies the backend and its math library for logs and
	// benchmark output, e.g. "cpu/openblas-pthread" or "cuda/H100".
	Name() string

	// ───────────────────────────── memory ───────────────────────────────

	// Alloc returns a zeroed buffer of n elements of dt. It returns an
	// error wrapping ErrOutOfMemory when the device is full and
	// ErrUnsupported for a dtype the backend lacks.
	Alloc(dt DType, n int) (Buffer, error)
	// Free releases a buffer. Tensors viewing it must not be used after.
	// Freeing nil is a no-op.
	Free(buf Buffer)
	// CopyIn copies len(src) == dst.Numel() host values into dst,
	// converting to dst.DType (rounding to nearest even for 16-bit floats).
	CopyIn(dst Tensor, src []float32)
	// CopyInInt32 copies host int32 values (labels) into an Int32 tensor.
	CopyInInt32(dst Tensor, src []int32)
	// CopyOut waits for queued work and copies src, converted to float32,
	// into dst (len(dst) == src.Numel()). Int32 tensors convert exactly
	// for |v| < 2^24.
	CopyOut(dst []float32, src Tensor)
	// Copy writes dst = src on the device, converting between float dtypes
	// (this is the cast used for mixed precision). Shapes must match.
	Copy(dst, src Tensor)
	// Fill writes v into every element of t.
	Fill(t Tensor, v float32)
	// Sync waits for all queued work and returns the first asynchronous
	// error (a failed kernel launch, a device fault), if any.
	Sync() error

	// ───────────────────────────── GEMM ─────────────────────────────────

	// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major
	// matrices, where op(X) is X or its transpose. op(A) is (m,k), op(B)
	// is (k,n) and C is (m,n); m, n and k come from the shapes (A is (m,k),
	// or (k,m) when transA). beta = 0 overwrites C (even if C holds NaN);
	// beta = 1 accumulates into C.
	Gemm(transA, transB bool, alpha float32, a, b Tensor, beta float32, c Tensor)

	// ───────────────────────────── convolution ──────────────────────────

	// ConvForward writes y (N,K,P,Q) = x (N,C,H,W) ⋆ w (K,C/G,R,S), with
	// P = (H + 2·PadH − R)/StrideH + 1 (Q likewise), groups G =
	// d.Groups (depthwise when G = C = K), dilation 1, no bias (see
	// AddChannelBias).
	ConvForward(d ConvDesc, x, w, y Tensor)
	// ConvBackwardData writes dx (N,C,H,W), the gradient with respect to
	// the input, from dy (N,K,P,Q) and w (K,C/G,R,S).
	ConvBackwardData(d ConvDesc, dy, w, dx Tensor)
	// ConvBackwardFilter accumulates into dw (K,C/G,R,S) the gradient
	// with respect to the weights, from x (N,C,H,W) and dy (N,K,P,Q).
	ConvBackwardFilter(d ConvDesc, x, dy, dw Tensor)

	// ───────────────────────────── channels and bias ────────────────────

	// AddChannelBias adds bias (C) to every element of channel c of x,
	// in place. x is (N,C,H,W), or (N,C) for a linear layer's output.
	AddChannelBias(x, bias Tensor)
	// SumChannels accumulates into db (C) the sum of dy (N,C,H,W) or
	// (N,C) over all axes but C: the bias gradient.
	SumChannels(dy, db Tensor)
	// ScaleChannels writes y (N,C,H,W) = x (N,C,H,W) · s (N,C), one scale
	// per sample and channel (squeeze-excitation). y may alias x.
	ScaleChannels(x, s, y Tensor)
	// ScaleChannelsBackward writes dx = dy · s and ds (N,C) =
	// Σ_hw dy·x (ds is overwritten: it is an activation gradient).
	ScaleChannelsBackward(x, s, dy, dx, ds Tensor)

	// ───────────────────────────── batch normalisation ──────────────────

	// BatchNormTrain normalises x (N,C,H,W) with the batch's per-channel
	// mean and biased variance, writes y = gamma·x̂ + beta, writes mean
	// (C) and invStd (C) = 1/sqrt(var + eps) for the backward pass, and
	// updates the running statistics in place the way PyTorch does:
	// run = (1 − momentum)·run + momentum·batch, with the unbiased
	// variance (·m/(m−1), m = N·H·W) going into runVar.
	BatchNormTrain(x, gamma, beta Tensor, bn BatchNormDesc, runMean, runVar, mean, invStd, y Tensor)
	// BatchNormInfer writes y = gamma·(x − runMean)/sqrt(runVar + eps) +
	// beta, using only the running statistics. y may alias x.
	BatchNormInfer(x, gamma, beta Tensor, bn BatchNormDesc, runMean, runVar, y Tensor)
	// BatchNormBackward writes dx (N,C,H,W) and accumulates dgamma (C)
	// and dbeta (C), given the x, mean and invStd of the matching
	// BatchNormTrain call.
	BatchNormBackward(x, dy, gamma, mean, invStd, dx, dgamma, dbeta Tensor)

	// ───────────────────────────── pooling ──────────────────────────────

	// MaxPoolForward writes y (N,C,P,Q), the maximum of each window of x
	// (N,C,H,W). Padding counts as −∞.
	MaxPoolForward(d PoolDesc, x, y Tensor)
	// MaxPoolBackward writes dx (N,C,H,W): each dy goes to the first
	// position (row-major within the window) whose x equals y.
	MaxPoolBackward(d PoolDesc, x, y, dy, dx Tensor)
	// AvgPoolForward writes y (N,C,P,Q), the mean of each window, with
	// padding counted in the divisor (PyTorch count_include_pad=True).
	AvgPoolForward(d PoolDesc, x, y Tensor)
	// AvgPoolBackward writes dx (N,C,H,W) from dy (N,C,P,Q).
	AvgPoolBackward(d PoolDesc, dy, dx Tensor)
	// GlobalAvgPoolForward writes y (N,C), the mean of x (N,C,H,W) over H
	// and W.
	GlobalAvgPoolForward(x, y Tensor)
	// GlobalAvgPoolBackward writes dx (N,C,H,W) = dy (N,C)/(H·W).
	GlobalAvgPoolBackward(dy, dx Tensor)

	// ───────────────────────────── activations ──────────────────────────

	// ActForward writes y = f(x) elementwise for f = act. y may alias x.
	ActForward(act Act, x, y Tensor)
	// ActBackward writes dx = f'(x)·dy given the x and y of the forward
	// call (ReLU and Sigmoid read y, SiLU and GELU read x). dx may alias
	// dy.
	ActBackward(act Act, x, y, dy, dx Tensor)

	// ───────────────────────────── elementwise ──────────────────────────

	// Add writes y = a + b. y may alias a or b.
	Add(a, b, y Tensor)
	// Mul writes y = a · b elementwise. y may alias a or b.
	Mul(a, b, y Tensor)
	// Scale writes y = alpha · x. y may alias x.
	Scale(alpha float32, x, y Tensor)
	// Axpy accumulates y += alpha · x.
	Axpy(alpha float32, x, y Tensor)
	// Lerp writes dst += t·(src − dst): exponential moving averages of
	// weights (EMA) and stochastic weight averaging.
	Lerp(t float32, src, dst Tensor)

	// ───────────────────────────── loss ─────────────────────────────────

	// SoftmaxCrossEntropy is the fused loss. For logits (N,K) and Int32
	// labels (N) it writes each sample's loss into losses (N): the cross
	// entropy of softmax(logits) against the smoothed target
	// q = (1 − smoothing)·onehot + smoothing/K. If dlogits is not the zero
	// Tensor it also writes dlogits (N,K) = (softmax − q)·gradScale;
	// gradScale = 1/N gives the gradient of the mean loss (a mixed
	// precision trainer multiplies in its loss scale). Computed stably
	// (max-subtracted) in float32.
	SoftmaxCrossEntropy(logits, labels Tensor, smoothing, gradScale float32, losses, dlogits Tensor)
	// Argmax writes into Int32 idx (N) the index of the largest of each
	// row of x (N,K), the first on ties.
	Argmax(x, idx Tensor)

	// ───────────────────────────── reductions (synchronising) ───────────

	// Sum returns Σx, accumulated in float64. Reductions wait for queued
	// work; the trainer calls them for monitoring, not in every kernel.
	Sum(x Tensor) float64
	// SumSquares returns Σx², accumulated in float64: gradient norms.
	// It is NaN or +Inf when x holds a non-finite value, which is how
	// dynamic loss scaling detects overflow.
	SumSquares(x Tensor) float64
	// CountZeros returns how many elements equal 0 (dead ReLU outputs).
	CountZeros(x Tensor) int

	// ───────────────────────────── optimizer updates ────────────────────

	// SGDStep updates a parameter p in place from its gradient g and
	// momentum buffer v (same shape), with PyTorch's semantics:
	// g' = g + wd·p; v = μ·v + (1 − dampening)·g'; step = g' + μ·v
	// (Nesterov) or v; p −= lr·step. With μ = 0, v is not touched and may
	// be the zero Tensor. g is not modified.
	SGDStep(h SGD, p, g, v Tensor)
	// AdamWStep updates p in place with decoupled weight decay:
	// p −= lr·wd·p; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
	// p −= lr·(m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + eps), t = h.Step ≥ 1.
	AdamWStep(h AdamW, p, g, m, v Tensor)

	// ───────────────────────────── random ───────────────────────────────

	// DropoutForward writes mask = 1/(1−p) where Uniform(seed, i) ≥ p and
	// 0 elsewhere (i = element index within mask), and y = x·mask. The
	// same seed gives the same mask on every backend. The backward pass is
	// Mul(dy, mask, dx).
	DropoutForward(p float32, seed uint64, x, mask, y Tensor)
}

// ConvDesc holds a convolution's hyper-parameters; the sizes come from the
// tensors. Zero strides mean 1 and zero Groups means 1, so ConvDesc{PadH: 1,
// PadW: 1} is a "same" 3x3 convolution.
type ConvDesc struct {
	StrideH, StrideW int
	PadH, PadW       int
	Groups           int
}

// Norm returns d with zero fields replaced by their defaults.
func (d ConvDesc) Norm() ConvDesc {
	if d.StrideH == 0 {
		d.StrideH = 1
	}
	if d.StrideW == 0 {
		d.StrideW = 1
	}
	if d.Groups == 0 {
		d.Groups = 1
	}
	return d
}

// OutSize returns the output height and width for an h×w input and an
// r×s filter.
func (d ConvDesc) OutSize(h, w, r, s int) (p, q int) {
	d = d.Norm()
	return (h+2*d.PadH-r)/d.StrideH + 1, (w+2*d.PadW-s)/d.StrideW + 1
}

// PoolDesc holds a pooling window. Zero strides mean "equal to the window"
// (non-overlapping), as in PyTorch.
type PoolDesc struct {
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
}

// Norm returns d with zero strides replaced by the window size.
func (d PoolDesc) Norm() PoolDesc {
	if d.StrideH == 0 {
		d.StrideH = d.KH
	}
	if d.StrideW == 0 {
		d.StrideW = d.KW
	}
	return d
}

// OutSize returns the output height and width for an h×w input.
func (d PoolDesc) OutSize(h, w int) (p, q int) {
	d = d.Norm()
	return (h+2*d.PadH-d.KH)/d.StrideH + 1, (w+2*d.PadW-d.KW)/d.StrideW + 1
}

// BatchNormDesc holds batch normalisation's scalars.
type BatchNormDesc struct {
	Eps      float32 // added to the variance; PyTorch's default is 1e-5
	Momentum float32 // weight of the batch statistics in the running ones; default 0.1
}

// Act names an elementwise activation function.
type Act uint8

// Activations.
const (
	ReLU    Act = iota // max(x, 0)
	SiLU               // x·sigmoid(x), also called swish
	Sigmoid            // 1/(1+e^−x)
	// GELU is x·Φ(x) with Φ the standard normal CDF, the exact (erf) form
	// of Hendrycks & Gimpel that PyTorch's nn.GELU computes by default,
	// not the tanh approximation. airbench94 uses it after every batch
	// norm.
	GELU
)

func (a Act) String() string {
	switch a {
	case ReLU:
		return "relu"
	case SiLU:
		return "silu"
	case Sigmoid:
		return "sigmoid"
	case GELU:
		return "gelu"
	}
	return "act?"
}

// SGD holds the scalars of one SGD update; the optimizer fills it per
// parameter group (learning-rate multipliers, weight decay exemptions).
type SGD struct {
	LR, Momentum, Dampening, WeightDecay float32
	Nesterov                             bool
}

// AdamW holds the scalars of one AdamW update. Step counts updates from 1
// and drives the bias correction.
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	Step                               int
}

// ───────────────────────────── optional fast paths ──────────────────────
//
// A backend may implement these one-method interfaces for fused kernels.
// Layers find them by type assertion and fall back to the unfused methods
// of Backend, so implementing none of them is always correct.

// BatchNormReLUTrainer fuses BatchNormTrain with a following ReLU: y =
// max(BN(x), 0), same arguments as BatchNormTrain.
type BatchNormReLUTrainer interface {
	BatchNormReLUTrain(x, gamma, beta Tensor, bn BatchNormDesc, runMean, runVar, mean, invStd, y Tensor)
}

// BatchNormReLUBackwarder is the backward pass of BatchNormReLUTrain: it
// reads y (the fused output) to mask dy, then acts as BatchNormBackward.
// dy is not modified.
type BatchNormReLUBackwarder interface {
	BatchNormReLUBackward(x, y, dy, gamma, mean, invStd, dx, dgamma, dbeta Tensor)
}

// BatchNormReLUMaxPoolTrainer fuses BatchNormTrain, ReLU and a max pool:
// py (N,C,P,Q) = MaxPool(pool, max(BN(x), 0)) in one pass over memory, with
// the same statistics outputs as BatchNormTrain. The full-size normalised
// activation is never stored: Int32 idx (N,C,P,Q) records, for each window,
// the row-major offset within its H×W plane of the window's first maximum
// (padding never wins), which is all the backward pass needs.
type BatchNormReLUMaxPoolTrainer interface {
	BatchNormReLUMaxPoolTrain(pool PoolDesc, x, gamma, beta Tensor, bn BatchNormDesc, runMean, runVar, mean, invStd, py, idx Tensor)
}

// BatchNormReLUMaxPoolBackwarder is the backward pass of
// BatchNormReLUMaxPoolTrain: from the pooled gradient pdy (N,C,P,Q) it writes
// dx (N,C,H,W) and accumulates dgamma and dbeta, as MaxPoolBackward,
// ReLU's and BatchNormBackward would. A window's gradient reaches x at idx
// when py > 0 (the ReLU was open there).
type BatchNormReLUMaxPoolBackwarder interface {
	BatchNormReLUMaxPoolBackward(pool PoolDesc, x, py, idx, pdy, gamma, mean, invStd, dx, dgamma, dbeta Tensor)
}

// AddReLUForwarder fuses a residual sum with ReLU: y = max(a + b, 0).
// y may alias a or b.
type AddReLUForwarder interface {
	AddReLU(a, b, y Tensor)
}

// ───────────────────────────── random numbers ───────────────────────────

// Uniform returns a float32 in [0, 1) that depends only on seed and i. It is
// the counter-based generator every backend uses for random ops, so a GPU
// kernel can compute element i's draw without sequential state and get the
// bits the CPU gets: SplitMix64 of seed + (i+1)·0x9E3779B97F4A7C15, top 24
// bits scaled by 2^−24.
func Uniform(seed, i uint64) float32 {
	z := seed + (i+1)*0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	z ^= z >> 31
	return float32(z>>40) * (1.0 / (1 << 24))
}

// ParseAct returns the activation named s (as Act.String spells it).
func ParseAct(s string) (Act, bool) {
	for _, a := range []Act{ReLU, SiLU, Sigmoid, GELU} {
		if a.String() == s {
			return a, true
		}
	}
	return 0, false
}

package cuda

import (
	"fmt"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cuda/cublas"
	"sweep/trainer/engine/cuda/cudnn"
	"sweep/trainer/engine/cuda/driver"
)

// SetPrecision selects the arithmetic of GEMM and convolution on float32
// tensors: Float32 (the default; TF32 if Options.TF32), or BFloat16 /
// Float16, where both inputs are cast to 16 bits on the device and the
// tensor cores multiply them with float32 accumulation. Outputs stay
// float32 tensors, so layers, weights and optimizer state are unchanged:
// this is autocast for the two ops that dominate training time. A
// convolution or GEMM shape that cuDNN or cuBLAS cannot plan or run in 16
// bits (each 16-bit plan's first execution is checked synchronously) runs
// in float32, with a notice. The im2col fallback (no cuDNN) always
// computes in float32.
func (b *Backend) SetPrecision(dt engine.DType) error {
	switch dt {
	case engine.Float32, engine.BFloat16, engine.Float16:
		b.prec = dt
		return nil
	}
	return fmt.Errorf("cuda: precision %v: %w", dt, engine.ErrUnsupported)
}

// Precision returns the GEMM and convolution precision (see SetPrecision).
func (b *Backend) Precision() engine.DType { return b.prec }

// halves are the 16-bit scratch copies of a convolution's or GEMM's
// operands; each grows to the largest tensor it has held.
type halves struct{ a, b, out scratch }

// half casts the float32 tensor t to b.prec in s and returns the copy.
func (b *Backend) half(s *scratch, t engine.Tensor) engine.Tensor {
	h := b.halfBuf(s, t.Shape)
	kernel := castKernel(engine.Float32, b.prec)
	n := t.Numel()
	b.launch(kernel, n, b.a().Ptr(ptr(t)).Ptr(ptr(h)).Int(n))
	return h
}

// halfBuf returns an uninitialised b.prec tensor of shape sh in s.
func (b *Backend) halfBuf(s *scratch, sh engine.Shape) engine.Tensor {
	if s.b == nil {
		s.b = b
	}
	n := sh.Numel()
	p, err := s.get(int64(2 * n))
	if err != nil {
		panic(fmt.Errorf("cuda: 16-bit scratch for %v: %w", sh, err))
	}
	return engine.Tensor{Buf: &buffer{ptr: p, n: n, dt: b.prec}, Shape: sh, DType: b.prec}
}

// widen writes the float32 y from the 16-bit h; with acc it adds instead.
func (b *Backend) widen(h, y engine.Tensor, acc bool) {
	kernel := castKernel(b.prec, engine.Float32)
	if acc {
		kernel = "bf16_acc_f32"
		if b.prec == engine.Float16 {
			kernel = "f16_acc_f32"
		}
	}
	n := y.Numel()
	b.launch(kernel, n, b.a().Ptr(ptr(h)).Ptr(ptr(y)).Int(n))
}

// autocast reports whether a convolution of these float32 tensors should
// try 16 bits: a 16-bit precision is set and cuDNN has not refused the
// shape before.
func (b *Backend) autocast(g convGeom, ts ...engine.Tensor) bool {
	if b.prec == engine.Float32 {
		return false
	}
	for _, t := range ts {
		if t.DType != engine.Float32 {
			return false
		}
	}
	return !b.halfRefused[b.key(g, b.prec)]
}

// refuse remembers that cuDNN cannot plan or run g in 16 bits, so every
// later pass of g runs in float32, and says so once.
func (b *Backend) refuse(g convGeom, pass string, err error) {
	b.halfRefused[b.key(g, b.prec)] = true
	b.notice("cuda: %v convolution x (%d,%d,%d,%d) w (%d,%d,%d,%d) %+v refused (%s: %s); this shape runs in fp32",
		b.prec, g.n, g.c, g.h, g.w, g.k, g.cg, g.r, g.s, g.d, pass, firstLine(err))
}

// checked runs exec, the execution of a 16-bit cuDNN or cuBLAS plan named
// key. The first execution of each plan runs synchronously: queued work is
// settled first (its errors recorded as usual), then exec and a stream
// synchronisation, whose error is returned instead of recorded. An
// execution error of a plan cuDNN or cuBLAS accepted at planning would
// otherwise poison every later Sync; this way the caller refuses the shape
// and redoes it in float32. Later executions are recorded as usual.
func (b *Backend) checked(key any, exec func() error) error {
	if b.halfChecked[key] {
		b.record(exec())
		return nil
	}
	b.record(b.ctx.SyncStream(b.stream))
	err := exec()
	if err == nil {
		err = b.ctx.SyncStream(b.stream)
	}
	if err != nil {
		return err
	}
	b.halfChecked[key] = true
	return nil
}

func (b *Backend) halfConvForward(g convGeom, x, w, y engine.Tensor) bool {
	xh, wh := b.half(&b.halves.a, x), b.half(&b.halves.b, w)
	yh := b.halfBuf(&b.halves.out, y.Shape)
	if err := b.convPass(g, b.prec, passForward, func(p *cudnn.ConvPlan, ws uintptr, size int) error {
		return p.Forward(uintptr(ptr(xh)), uintptr(ptr(wh)), uintptr(ptr(yh)), ws, size)
	}); err != nil {
		b.refuse(g, passForward, err)
		return false
	}
	b.widen(yh, y, false)
	return true
}

func (b *Backend) halfConvBackwardData(g convGeom, dy, w, dx engine.Tensor) bool {
	dyh, wh := b.half(&b.halves.a, dy), b.half(&b.halves.b, w)
	dxh := b.halfBuf(&b.halves.out, dx.Shape)
	if err := b.convPass(g, b.prec, passBackwardData, func(p *cudnn.ConvPlan, ws uintptr, size int) error {
		return p.BackwardData(uintptr(ptr(wh)), uintptr(ptr(dyh)), uintptr(ptr(dxh)), ws, size)
	}); err != nil {
		b.refuse(g, passBackwardData, err)
		return false
	}
	b.widen(dxh, dx, false)
	return true
}

func (b *Backend) halfConvBackwardFilter(g convGeom, x, dy, dw engine.Tensor) bool {
	xh, dyh := b.half(&b.halves.a, x), b.half(&b.halves.b, dy)
	dwh := b.halfBuf(&b.halves.out, dw.Shape)
	if err := b.convPass(g, b.prec, passBackwardFilter, func(p *cudnn.ConvPlan, ws uintptr, size int) error {
		return p.BackwardFilter(uintptr(ptr(xh)), uintptr(ptr(dyh)), uintptr(ptr(dwh)), ws, size, 0)
	}); err != nil {
		b.refuse(g, passBackwardFilter, err)
		return false
	}
	b.widen(dwh, dw, true) // dw accumulates in float32
	return true
}

// gemmKey names a 16-bit GEMM plan: its shape and precision.
type gemmKey struct {
	m, n, k        int
	transA, transB bool
	prec           engine.DType
}

// halfGemm runs a float32 GEMM with 16-bit copies of A and B (GemmEx,
// float32 accumulation and C) and reports whether it did: a shape whose
// first 16-bit execution fails is refused (with a notice) and runs in
// float32 from then on, this call included.
func (b *Backend) halfGemm(g cublas.Gemm) bool {
	key := gemmKey{g.M, g.N, g.K, g.TransA, g.TransB, b.prec}
	if b.gemmRefused[key] {
		return false
	}
	m, n, k := g.M, g.N, g.K
	a := engine.Tensor{Buf: &buffer{ptr: driver.Ptr(g.A), n: m * k, dt: engine.Float32}, Shape: engine.Shape{m * k}}
	bm := engine.Tensor{Buf: &buffer{ptr: driver.Ptr(g.B), n: k * n, dt: engine.Float32}, Shape: engine.Shape{k * n}}
	ah, bh := b.half(&b.halves.a, a), b.half(&b.halves.b, bm)
	h := g
	h.A, h.B = uintptr(ptr(ah)), uintptr(ptr(bh))
	err := b.checked(key, func() error { return b.blas.GemmEx(h, cublasType[b.prec], cublas.R32F, cublas.Compute32F) })
	if err != nil {
		b.gemmRefused[key] = true
		b.notice("cuda: %v GEMM %dx%dx%d (transA %v, transB %v) refused (%s); this shape runs in fp32",
			b.prec, m, n, k, g.TransA, g.TransB, firstLine(err))
		return false
	}
	return true
}

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
// convolution cuDNN cannot plan in 16 bits runs in float32. The im2col
// fallback (no cuDNN) always computes in float32.
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
	return !b.halfRefused[convKey{g.n, g.c, g.h, g.w, g.k, g.r, g.s, g.d, b.prec}]
}

// refuse remembers that cuDNN cannot plan g in 16 bits.
func (b *Backend) refuse(g convGeom) {
	b.halfRefused[convKey{g.n, g.c, g.h, g.w, g.k, g.r, g.s, g.d, b.prec}] = true
}

func (b *Backend) halfConvForward(g convGeom, x, w, y engine.Tensor) bool {
	xh, wh := b.half(&b.halves.a, x), b.half(&b.halves.b, w)
	yh := b.halfBuf(&b.halves.out, y.Shape)
	if err := b.convPass(g, b.prec, func(p *cudnn.ConvPlan, ws uintptr, size int) error {
		return p.Forward(uintptr(ptr(xh)), uintptr(ptr(wh)), uintptr(ptr(yh)), ws, size)
	}); err != nil {
		b.refuse(g)
		return false
	}
	b.widen(yh, y, false)
	return true
}

func (b *Backend) halfConvBackwardData(g convGeom, dy, w, dx engine.Tensor) bool {
	dyh, wh := b.half(&b.halves.a, dy), b.half(&b.halves.b, w)
	dxh := b.halfBuf(&b.halves.out, dx.Shape)
	if err := b.convPass(g, b.prec, func(p *cudnn.ConvPlan, ws uintptr, size int) error {
		return p.BackwardData(uintptr(ptr(wh)), uintptr(ptr(dyh)), uintptr(ptr(dxh)), ws, size)
	}); err != nil {
		b.refuse(g)
		return false
	}
	b.widen(dxh, dx, false)
	return true
}

func (b *Backend) halfConvBackwardFilter(g convGeom, x, dy, dw engine.Tensor) bool {
	xh, dyh := b.half(&b.halves.a, x), b.half(&b.halves.b, dy)
	dwh := b.halfBuf(&b.halves.out, dw.Shape)
	if err := b.convPass(g, b.prec, func(p *cudnn.ConvPlan, ws uintptr, size int) error {
		return p.BackwardFilter(uintptr(ptr(xh)), uintptr(ptr(dyh)), uintptr(ptr(dwh)), ws, size, 0)
	}); err != nil {
		b.refuse(g)
		return false
	}
	b.widen(dwh, dw, true) // dw accumulates in float32
	return true
}

// halfGemm runs a float32 GEMM with 16-bit copies of A and B (GemmEx,
// float32 accumulation and C).
func (b *Backend) halfGemm(g cublas.Gemm) error {
	m, n, k := g.M, g.N, g.K
	a := engine.Tensor{Buf: &buffer{ptr: driver.Ptr(g.A), n: m * k, dt: engine.Float32}, Shape: engine.Shape{m * k}}
	bm := engine.Tensor{Buf: &buffer{ptr: driver.Ptr(g.B), n: k * n, dt: engine.Float32}, Shape: engine.Shape{k * n}}
	ah, bh := b.half(&b.halves.a, a), b.half(&b.halves.b, bm)
	g.A, g.B = uintptr(ptr(ah)), uintptr(ptr(bh))
	return b.blas.GemmEx(g, cublasType[b.prec], cublas.R32F, cublas.Compute32F)
}

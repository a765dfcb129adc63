// Package cpu is the engine's CPU backend: convolutions as im2col plus
// SGEMM, SGEMM from OpenBLAS loaded at run time through purego (no cgo), a
// pure-Go SGEMM when OpenBLAS is absent, and every other kernel in plain Go
// split across cores, with AVX2 assembly for the inner loops of batch norm
// and col2im on amd64 (simd.go). Tensors are float32 (and int32) only;
// with Options.GEMM = BF16 (or SetPrecision(engine.BFloat16)) every GEMM,
// convolutions' included, rounds its operands to bfloat16 and accumulates in
// float32 (gemm_bf16.go), the CPU counterpart of the CUDA backend's mixed
// precision: weights, activations and everything else stay float32.
//
// Layout is NCHW, as the engine.Backend contract says. NHWC would save the
// transposes around each convolution's GEMM, but batch norm, pooling and
// squeeze-excitation then walk channels with a stride, and the transposes
// move contiguous H·W runs (≥ 64 floats here), costing a few percent of a
// step; NCHW keeps the CPU and CUDA backends on one layout.
//
// Threads: OpenBLAS runs single-threaded and the backend splits work over
// its own worker goroutines (convolutions by parts of the batch, large
// GEMMs by blocks of C, other kernels by channels or planes). OpenBLAS's
// own threads spin between calls and, on two cores, take the core the next
// Go kernel needs; splitting in Go keeps one scheduler in charge.
//
// Determinism: every kernel splits work into ranges fixed by the tensor
// sizes and reduces within a range in a fixed order; each element of a
// GEMM's output is computed by one call; the partial weight gradients of a
// convolution's batch parts (at most convParts, a number fixed by sizes,
// not threads) are added in part order. Results are therefore bit-identical
// run to run and across thread counts, on one machine with one OpenBLAS
// build (TestTiny_Deterministic checks 1 vs 2 threads). A different CPU or
// OpenBLAS version selects different SGEMM kernels and rounds differently;
// the pure-Go SGEMM differs from OpenBLAS by float32 rounding only.
package cpu

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"sweep/trainer/engine"
)

var (
	_ engine.Backend                 = (*Backend)(nil)
	_ engine.BatchNormReLUTrainer    = (*Backend)(nil)
	_ engine.BatchNormReLUBackwarder = (*Backend)(nil)
	_ engine.AddReLUForwarder        = (*Backend)(nil)
)

// Options configure New.
type Options struct {
	// BLAS selects the SGEMM: "" or "auto" tries OpenBLAS and falls back to
	// pure Go; "go" forces pure Go; anything else is a path to an OpenBLAS
	// shared library, and failing to load it is an error.
	BLAS string
	// Threads is the number of threads for OpenBLAS and for the Go
	// kernels; 0 means GOMAXPROCS.
	Threads int
	// Log receives the one-line notice when OpenBLAS is not found; nil
	// means os.Stderr.
	Log io.Writer
	// GEMM selects the arithmetic of Gemm and the convolutions; the zero
	// value is FP32.
	GEMM GEMM
}

// GEMM is the arithmetic of the backend's matrix products.
type GEMM int

const (
	// FP32 runs SGEMM: OpenBLAS, or pure Go (Options.BLAS).
	FP32 GEMM = iota
	// BF16 rounds both operands to bfloat16 (nearest even) and sums the
	// exact products in float32: AVX512-BF16 assembly where the CPU has it
	// (Zen 4+, Sapphire Rapids+) and Options.BLAS is not "go", else the
	// same arithmetic in Go, several times slower than SGEMM.
	BF16
)

func (g GEMM) String() string {
	if g == BF16 {
		return "bf16"
	}
	return "fp32"
}

// OptionsFromEnv reads SWEEP_BLAS (see Options.BLAS) and SWEEP_THREADS.
func OptionsFromEnv(getenv func(string) string) Options {
	var o Options
	o.BLAS = getenv("SWEEP_BLAS")
	fmt.Sscan(getenv("SWEEP_THREADS"), &o.Threads)
	return o
}

// Backend is the CPU implementation of engine.Backend. Like every backend it
// is used by one goroutine at a time; it runs its own worker goroutines.
type Backend struct {
	blas    *openblas // nil: pure-Go SGEMM
	mode    GEMM
	bf16Asm bool // the bf16 GEMM runs the AVX512-BF16 kernels
	// noStream makes bf16 convolutions build col as SGEMM's do, for the
	// test that streaming im2col and col2im changes no bit.
	noStream bool
	threads  int
	pool     *pool
	k        kernels // preallocated parallel tasks, one per kind

	// Reused scratch memory, grown on demand and never shrunk.
	parts []*part
	sums  []float64
}

// New returns a CPU backend. The error is non-nil only when Options.BLAS
// names a library that does not load.
func New(o Options) (*Backend, error) {
	th := o.Threads
	if th <= 0 {
		th = runtime.GOMAXPROCS(0)
	}
	b := &Backend{threads: th, pool: newPool(th), mode: o.GEMM, bf16Asm: hasBF16 && o.BLAS != "go"}
	if o.GEMM != FP32 && o.GEMM != BF16 {
		return nil, fmt.Errorf("cpu: gemm %d: %w", o.GEMM, engine.ErrUnsupported)
	}
	switch o.BLAS {
	case "go":
	case "", "auto":
		lib, err := loadOpenBLAS("")
		if err != nil {
			w := o.Log
			if w == nil {
				w = os.Stderr
			}
			fmt.Fprintf(w, "sweep: OpenBLAS not found (install libopenblas0-pthread); using the slower pure-Go SGEMM\n")
		}
		b.blas = lib
	default:
		lib, err := loadOpenBLAS(o.BLAS)
		if err != nil {
			return nil, fmt.Errorf("cpu: %w", err)
		}
		b.blas = lib
	}
	return b, nil
}

// Close stops the worker goroutines. The backend must not be used after.
func (b *Backend) Close() { b.pool.close() }

// Name says which GEMM runs: "cpu/openblas (path)" or "cpu/go" for
// SGEMM, "cpu/bf16 (avx512_bf16)" or "cpu/bf16 (go)" for the bf16 GEMM.
func (b *Backend) Name() string {
	switch {
	case b.mode == BF16 && b.bf16Asm:
		return "cpu/bf16 (avx512_bf16)"
	case b.mode == BF16:
		return "cpu/bf16 (go)"
	case b.blas != nil:
		return "cpu/openblas (" + b.blas.path + ")"
	}
	return "cpu/go"
}

// SetPrecision selects the GEMM arithmetic by the dtype its operands are
// rounded to: Float32 (FP32) or BFloat16 (BF16); tensors stay Float32.
// Float16 is unsupported: without loss scaling its range loses gradients.
func (b *Backend) SetPrecision(dt engine.DType) error {
	switch dt {
	case engine.Float32:
		b.mode = FP32
	case engine.BFloat16:
		b.mode = BF16
	default:
		return fmt.Errorf("cpu: precision %v: %w", dt, engine.ErrUnsupported)
	}
	return nil
}

// Precision is the dtype GEMM operands are rounded to (SetPrecision).
func (b *Backend) Precision() engine.DType {
	if b.mode == BF16 {
		return engine.BFloat16
	}
	return engine.Float32
}

// HasOpenBLAS reports whether SGEMM runs in OpenBLAS.
func (b *Backend) HasOpenBLAS() bool { return b.blas != nil }

// Threads is the number of threads the backend uses.
func (b *Backend) Threads() int { return b.threads }

// ───────────────────────────── memory ─────────────────────────────────────

// buffer is host memory: f for float32 tensors, i for int32 ones.
type buffer struct {
	f  []float32
	i  []int32
	dt engine.DType
}

func (u *buffer) Len() int {
	if u.dt == engine.Int32 {
		return len(u.i)
	}
	return len(u.f)
}

func (u *buffer) DType() engine.DType { return u.dt }

// Alloc returns zeroed host memory.
func (b *Backend) Alloc(dt engine.DType, n int) (engine.Buffer, error) {
	switch dt {
	case engine.Float32:
		return &buffer{f: make([]float32, n), dt: dt}, nil
	case engine.Int32:
		return &buffer{i: make([]int32, n), dt: dt}, nil
	}
	return nil, fmt.Errorf("cpu: alloc %v: %w", dt, engine.ErrUnsupported)
}

// Free drops the buffer's memory; the garbage collector reclaims it.
func (b *Backend) Free(buf engine.Buffer) {
	if u, ok := buf.(*buffer); ok {
		u.f, u.i = nil, nil
	}
}

// f32 returns t's elements. It panics for a tensor of another backend or
// dtype, which is a programmer error.
func f32(t engine.Tensor) []float32 {
	u := t.Buf.(*buffer)
	if u.dt != engine.Float32 {
		panic(fmt.Sprintf("cpu: %v is not float32", t))
	}
	return u.f[t.Off : t.Off+t.Numel() : t.Off+t.Numel()]
}

func i32(t engine.Tensor) []int32 {
	u := t.Buf.(*buffer)
	if u.dt != engine.Int32 {
		panic(fmt.Sprintf("cpu: %v is not int32", t))
	}
	return u.i[t.Off : t.Off+t.Numel() : t.Off+t.Numel()]
}

// Data returns the host slice behind a float32 tensor of this backend, for
// tests and for code that knows it runs on the CPU (the data loader). It
// shares memory with t.
func Data(t engine.Tensor) []float32 { return f32(t) }

func (b *Backend) CopyIn(dst engine.Tensor, src []float32) {
	checkLen("CopyIn", dst, len(src))
	copy(f32(dst), src)
}

func (b *Backend) CopyInInt32(dst engine.Tensor, src []int32) {
	checkLen("CopyInInt32", dst, len(src))
	copy(i32(dst), src)
}

func (b *Backend) CopyOut(dst []float32, src engine.Tensor) {
	checkLen("CopyOut", src, len(dst))
	if src.DType == engine.Int32 {
		for i, v := range i32(src) {
			dst[i] = float32(v)
		}
		return
	}
	copy(dst, f32(src))
}

func (b *Backend) Copy(dst, src engine.Tensor) {
	engine.SameShape("Copy", dst, src)
	if src.DType == engine.Int32 {
		copy(i32(dst), i32(src))
		return
	}
	copy(f32(dst), f32(src))
}

func (b *Backend) Fill(t engine.Tensor, v float32) {
	if t.DType == engine.Int32 {
		s := i32(t)
		for i := range s {
			s[i] = int32(v)
		}
		return
	}
	s := f32(t)
	if v == 0 {
		clear(s)
		return
	}
	for i := range s {
		s[i] = v
	}
}

// Sync returns nil: CPU kernels finish before they return.
func (b *Backend) Sync() error { return nil }

func checkLen(op string, t engine.Tensor, n int) {
	if t.Numel() != n {
		panic(fmt.Sprintf("cpu: %s: tensor %v holds %d elements, slice %d", op, t.Shape, t.Numel(), n))
	}
}

// ───────────────────────────── GEMM ───────────────────────────────────────

func (b *Backend) Gemm(transA, transB bool, alpha float32, a, bm engine.Tensor, beta float32, c engine.Tensor) {
	m, k := a.Dim(0), a.Dim(1)
	if transA {
		m, k = k, m
	}
	kb, n := bm.Dim(0), bm.Dim(1)
	if transB {
		kb, n = n, kb
	}
	if a.Shape.Rank() != 2 || bm.Shape.Rank() != 2 || kb != k || c.Dim(0) != m || c.Dim(1) != n {
		panic(fmt.Sprintf("cpu: Gemm: A %v (T=%v) B %v (T=%v) C %v", a.Shape, transA, bm.Shape, transB, c.Shape))
	}
	b.gemm(transA, transB, m, n, k, alpha, f32(a), a.Dim(1), f32(bm), bm.Dim(1), beta, f32(c), n)
}

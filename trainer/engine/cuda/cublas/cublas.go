// Package cublas binds the parts of cuBLAS (libcublas) sweep uses through
// purego: handle lifetime, streams, math modes and GEMM (float32, and
// GemmEx with TF32 or 16-bit inputs and float32 accumulation). It offers
// row-major helpers, because sweep's tensors are row-major and cuBLAS is
// column-major.
//
// It does not allocate memory or choose precision policy (the cuda backend
// does).
package cublas

import (
	"fmt"
	"unsafe"

	"sweep/trainer/engine/cuda/dynlib"
)

// Status is a cublasStatus_t.
type Status int32

var statusNames = map[Status]string{
	0: "CUBLAS_STATUS_SUCCESS", 1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED",
	7: "CUBLAS_STATUS_INVALID_VALUE", 8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR",
	13: "CUBLAS_STATUS_EXECUTION_FAILED", 14: "CUBLAS_STATUS_INTERNAL_ERROR", 15: "CUBLAS_STATUS_NOT_SUPPORTED",
	16: "CUBLAS_STATUS_LICENSE_ERROR",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("cublasStatus(%d)", int32(s))
}

// Error is a failed cuBLAS call.
type Error struct {
	Op     string
	Status Status
}

func (e *Error) Error() string {
	return fmt.Sprintf("cublas: %s: %v (%d)", e.Op, e.Status, int32(e.Status))
}

func check(op string, r uintptr) error {
	if s := Status(int32(r)); s != 0 {
		return &Error{Op: op, Status: s}
	}
	return nil
}

// Data and compute types (cudaDataType, cublasComputeType_t).
const (
	R32F  = 0  // CUDA_R_32F
	R16F  = 2  // CUDA_R_16F
	R16BF = 14 // CUDA_R_16BF

	Compute32F         = 68 // CUBLAS_COMPUTE_32F
	Compute32FPedantic = 69 // CUBLAS_COMPUTE_32F_PEDANTIC
	Compute32FFast16BF = 75 // CUBLAS_COMPUTE_32F_FAST_16BF
	Compute32FFastTF32 = 77 // CUBLAS_COMPUTE_32F_FAST_TF32

	gemmDefault = -1 // CUBLAS_GEMM_DEFAULT

	// Math modes (cublasMath_t).
	DefaultMath    = 0
	PedanticMath   = 2
	TF32TensorMath = 3
)

// Library is the loaded cuBLAS.
type Library struct {
	lib *dynlib.Lib
	fn  functions
}

type functions struct {
	Create      dynlib.Func `sym:"cublasCreate_v2"`
	Destroy     dynlib.Func `sym:"cublasDestroy_v2"`
	SetStream   dynlib.Func `sym:"cublasSetStream_v2"`
	SetMathMode dynlib.Func `sym:"cublasSetMathMode"`
	GetProperty dynlib.Func `sym:"cublasGetProperty"`
	Sgemm       dynlib.Func `sym:"cublasSgemm_v2"`
	GemmEx      dynlib.Func `sym:"cublasGemmEx"`
}

// Load opens libcublas (and libcublasLt before it) with f.
func Load(f *dynlib.Finder) (*Library, error) {
	lib, err := f.Load(dynlib.CUBLAS)
	if err != nil {
		return nil, err
	}
	l := &Library{lib: lib}
	if err := dynlib.Bind(lib, &l.fn); err != nil {
		return nil, err
	}
	return l, nil
}

// Lib returns the opened library.
func (l *Library) Lib() *dynlib.Lib { return l.lib }

// Version returns cuBLAS's version as "major.minor.patch".
func (l *Library) Version() (string, error) {
	var v [3]int32
	for i := range v {
		if err := check("cublasGetProperty", l.fn.GetProperty.Call(uintptr(i), uintptr(unsafe.Pointer(&v[i])))); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]), nil
}

// Handle is a cuBLAS context bound to the device current at creation. It is
// not safe for concurrent use.
type Handle struct {
	l *Library
	h uintptr
}

// NewHandle creates a handle; the device's context must be current.
func (l *Library) NewHandle() (*Handle, error) {
	h := &Handle{l: l}
	if err := check("cublasCreate_v2", l.fn.Create.Call(uintptr(unsafe.Pointer(&h.h)))); err != nil {
		return nil, err
	}
	return h, nil
}

// Close destroys the handle.
func (h *Handle) Close() error { return check("cublasDestroy_v2", h.l.fn.Destroy.Call(h.h)) }

// SetStream makes h queue its work on stream (a CUstream).
func (h *Handle) SetStream(stream uintptr) error {
	return check("cublasSetStream_v2", h.l.fn.SetStream.Call(h.h, stream))
}

// SetMathMode sets DefaultMath, PedanticMath or TF32TensorMath.
func (h *Handle) SetMathMode(mode int) error {
	return check("cublasSetMathMode", h.l.fn.SetMathMode.Call(h.h, uintptr(mode)))
}

// Gemm describes a row-major C (m,n) = alpha·op(A)·op(B) + beta·C, with
// op(A) (m,k) and op(B) (k,n); A is (m,k), or (k,m) when TransA.
type Gemm struct {
	TransA, TransB bool
	M, N, K        int
	Alpha, Beta    float32
	A, B, C        uintptr // device pointers
}

// colMajor maps the row-major product to cuBLAS's column-major one:
// Cᵀ (n,m) = op(B)ᵀ·op(A)ᵀ, so B comes first and the leading dimensions are
// the row-major row lengths.
func (g Gemm) colMajor() (opB, opA uintptr, ldb, lda, ldc int) {
	lda, ldb = g.K, g.N
	if g.TransA {
		opA, lda = 1, g.M
	}
	if g.TransB {
		opB, ldb = 1, g.K
	}
	return opB, opA, ldb, lda, g.N
}

// Sgemm runs g in float32 with the handle's math mode.
func (h *Handle) Sgemm(g Gemm) error {
	opB, opA, ldb, lda, ldc := g.colMajor()
	return check("cublasSgemm_v2", h.l.fn.Sgemm.Call(h.h, opB, opA, uintptr(g.N), uintptr(g.M), uintptr(g.K),
		uintptr(unsafe.Pointer(&g.Alpha)), g.B, uintptr(ldb), g.A, uintptr(lda),
		uintptr(unsafe.Pointer(&g.Beta)), g.C, uintptr(ldc)))
}

// GemmEx runs g with A and B of dtype in (R32F, R16F, R16BF), C of dtype
// out, and the given compute type (alpha and beta stay float32, which all
// the 32F compute types require).
func (h *Handle) GemmEx(g Gemm, in, out, compute int) error {
	opB, opA, ldb, lda, ldc := g.colMajor()
	algo := gemmDefault
	return check("cublasGemmEx", h.l.fn.GemmEx.Call(h.h, opB, opA, uintptr(g.N), uintptr(g.M), uintptr(g.K),
		uintptr(unsafe.Pointer(&g.Alpha)), g.B, uintptr(in), uintptr(ldb), g.A, uintptr(in), uintptr(lda),
		uintptr(unsafe.Pointer(&g.Beta)), g.C, uintptr(out), uintptr(ldc), uintptr(compute), uintptr(algo)))
}

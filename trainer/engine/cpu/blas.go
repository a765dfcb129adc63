package cpu

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"
)

// openblasPaths lists where Debian, Ubuntu and Fedora put OpenBLAS, most
// specific first. The pthread build is preferred: its thread pool
// cooperates with Go's scheduler better than OpenMP's busy-waiting.
var openblasPaths = []string{
	"libopenblas.so.0",
	"/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
	"/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
	"libopenblasp.so.0",
	"/usr/lib64/libopenblasp.so.0",
	"/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
	"/usr/lib/aarch64-linux-gnu/openblas-openmp/libopenblas.so.0",
	"libopenblaso.so.0",
	"/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0",
	"libopenblas.so",
}

// openblas is a loaded OpenBLAS, run single-threaded: the backend splits
// work across its own workers and calls sgemm_ from several of them at once.
// OpenBLAS's own threads spin-wait between calls, which on two cores steals
// the core that the next Go kernel needs (measured: 2.5x the CPU time per
// training step with OpenBLAS threading). sgemm_ (the Fortran symbol) is
// called through purego.SyscallN: every argument is a pointer, so no float
// has to travel in a vector register, and the call allocates nothing.
type openblas struct {
	path  string
	sgemm uintptr
}

// gemmCall holds one caller's sgemm_ arguments on the heap, where their
// addresses stay valid during the foreign call, and SyscallN's argument
// list, so the variadic slice does not escape on every call. Each worker
// part owns one.
type gemmCall struct {
	args gemmArgs
	argv [13]uintptr
}

type gemmArgs struct {
	ta, tb      byte
	m, n, k     int32
	lda, ldb    int32
	ldc         int32
	alpha, beta float32
}

// loadOpenBLAS opens the first library that loads from path (if not
// empty) or openblasPaths, and makes it single-threaded.
func loadOpenBLAS(path string) (*openblas, error) {
	paths := openblasPaths
	if path != "" {
		paths = []string{path}
	}
	var firstErr error
	for _, p := range paths {
		h, err := purego.Dlopen(p, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		sg, err := purego.Dlsym(h, "sgemm_")
		if err != nil {
			return nil, fmt.Errorf("find sgemm_ in %s: %w", p, err)
		}
		if th, err := purego.Dlsym(h, "openblas_set_num_threads"); err == nil {
			purego.SyscallN(th, 1)
		}
		return &openblas{path: p, sgemm: sg}, nil
	}
	return nil, fmt.Errorf("load openblas (tried %d paths): %w", len(paths), firstErr)
}

// gemm computes row-major C = alpha·op(A)·op(B) + beta·C with leading
// dimensions. Row-major C is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, so A and B
// swap places in the Fortran call.
func (o *openblas) gemm(call *gemmCall, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	g := &call.args
	g.ta, g.tb = 'N', 'N'
	if transB {
		g.ta = 'T'
	}
	if transA {
		g.tb = 'T'
	}
	g.m, g.n, g.k = int32(n), int32(m), int32(k)
	g.lda, g.ldb, g.ldc = int32(ldb), int32(lda), int32(ldc)
	g.alpha, g.beta = alpha, beta
	v := &call.argv
	v[0], v[1] = uintptr(unsafe.Pointer(&g.ta)), uintptr(unsafe.Pointer(&g.tb))
	v[2], v[3], v[4] = uintptr(unsafe.Pointer(&g.m)), uintptr(unsafe.Pointer(&g.n)), uintptr(unsafe.Pointer(&g.k))
	v[5] = uintptr(unsafe.Pointer(&g.alpha))
	v[6], v[7] = uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(&g.lda))
	v[8], v[9] = uintptr(unsafe.Pointer(unsafe.SliceData(a))), uintptr(unsafe.Pointer(&g.ldb))
	v[10] = uintptr(unsafe.Pointer(&g.beta))
	v[11], v[12] = uintptr(unsafe.Pointer(unsafe.SliceData(c))), uintptr(unsafe.Pointer(&g.ldc))
	purego.SyscallN(o.sgemm, v[:]...)
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	runtime.KeepAlive(call)
}

// Package cuda is the engine's NVIDIA GPU backend. It loads the CUDA driver,
// cuBLAS, cuDNN and NVRTC at run time through purego (no cgo, no CUDA
// headers at build time), so the one static sweep binary runs everywhere
// and uses a GPU where one exists.
//
// GEMM runs in cuBLAS; convolutions in cuDNN (heuristic algorithm choice,
// one plan per shape), or as im2col + cuBLAS when cuDNN is absent; every
// other op is one of our kernels (package kernels), compiled by NVRTC once
// per machine and cached on disk. Device memory comes from a caching
// allocator (package alloc). All work is queued on one non-blocking stream
// per Backend; host copies synchronise only where the engine contract says.
//
// Precision: float32 tensors compute in float32 unless Options.TF32 allows
// tensor-core TF32 in GEMM and convolution. BFloat16 and Float16 tensors are
// supported by Alloc, CopyIn, CopyOut, Copy (the casts of mixed precision),
// Fill and Gemm (float32 accumulation); other ops panic with
// engine.ErrUnsupported for them. Master weights, optimizer state and loss
// stay float32 (see package amp for the loss scaler).
//
// Requirements: an NVIDIA driver, cuBLAS and NVRTC (CUDA 12 or 13), a GPU
// of compute capability 6.0 or newer (the kernels use double-precision
// atomicAdd); cuDNN 9 is optional. Environment: SWEEP_CUDA_LIB_PATH (where
// to look first), SWEEP_TF32=1, SWEEP_CUDNN=0, SWEEP_CUDNN_SEARCH=1 and
// SWEEP_CUDA_CACHE (see OptionsFromEnv).
//
// This package does not decide which GPU a trial uses (package devsched
// does). Its GPU tests skip with a message when no driver or device is
// found; without a GPU, its tests run the same backend code on a CPU
// emulation of the driver, cuBLAS, cuDNN and NVRTC with the kernels
// compiled for the host (testdata/emu), which checks everything but NVRTC,
// PTX, real cuDNN/cuBLAS and GPU concurrency.
package cuda

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cuda/alloc"
	"sweep/trainer/engine/cuda/cublas"
	"sweep/trainer/engine/cuda/cudnn"
	"sweep/trainer/engine/cuda/driver"
	"sweep/trainer/engine/cuda/dynlib"
	"sweep/trainer/engine/cuda/kernels"
	"sweep/trainer/engine/cuda/nvrtc"
)

var (
	_ engine.Backend                 = (*Backend)(nil)
	_ engine.BatchNormReLUTrainer    = (*Backend)(nil)
	_ engine.BatchNormReLUBackwarder = (*Backend)(nil)
	_ engine.AddReLUForwarder        = (*Backend)(nil)
)

// Options configure New.
type Options struct {
	Device int  // GPU ordinal
	TF32   bool // allow TF32 tensor cores for float32 GEMM and convolution
	// NoCuDNN forces the im2col + cuBLAS convolution even when cuDNN loads.
	NoCuDNN bool
	// CacheDir holds compiled kernels; "" means nvrtc.DefaultCacheDir.
	CacheDir string
	// Getenv reads SWEEP_CUDA_LIB_PATH and friends; nil means os.Getenv.
	Getenv func(string) string
	// WorkspaceLimit caps a convolution's cuDNN workspace in bytes; 0
	// means 256 MiB.
	WorkspaceLimit int
	// Search measures every convolution shape's algorithms once with
	// cudnnFind*AlgorithmEx (slower first step, often faster steps after)
	// instead of trusting cuDNN's heuristics.
	Search bool
	// Finder, when set, is where every library (the driver included) is
	// loaded from, instead of the default search: tests point it at the
	// CPU emulation.
	Finder *dynlib.Finder
	// Log receives one-line notices: cuDNN missing (convolutions fall back
	// to im2col), a 16-bit plan refused. nil means os.Stderr.
	Log io.Writer
}

// Backend is the CUDA implementation of engine.Backend. Like every backend
// it is used by one goroutine at a time.
type Backend struct {
	ctx    *driver.Context
	info   driver.DeviceInfo
	stream driver.Stream
	mem    *alloc.Cache
	blas   *cublas.Handle
	dnn    *cudnn.Handle // nil: im2col fallback
	fns    map[string]*driver.Function
	args   driver.Args
	opts   Options

	plans       map[convKey]*cudnn.ConvPlan
	prec        engine.DType     // GEMM and convolution arithmetic (SetPrecision)
	halves      halves           // 16-bit operand copies
	halfRefused map[convKey]bool // convolutions cuDNN cannot plan or run in 16 bits
	gemmRefused map[gemmKey]bool // GEMMs cuBLAS cannot run in 16 bits
	halfChecked map[any]bool     // 16-bit plans whose first execution succeeded (see checked)
	workspace   scratch          // cuDNN workspace or im2col columns
	scalar      scratch          // reductions' float64 result, BN sums, found-inf flag
	staging     [4]staging       // a ring of pinned host buffers for CopyIn
	nextStage   int
	err         error // first asynchronous error, returned by Sync
	libs        string
	dnnErr      error // why cuDNN did not load; nil when loaded or not wanted
	closed      bool
}

// New opens the GPU at o.Device, loads the libraries and compiles (or
// loads from cache) the kernels. Without a driver or GPU it returns an
// error saying what was searched; callers fall back to the CPU only when
// the user asked for that.
func New(o Options) (*Backend, error) {
	f := o.Finder
	var api *driver.API
	var err error
	if f == nil {
		f = dynlib.NewFinder()
		if o.Getenv != nil {
			f.Getenv = o.Getenv
		}
		api, err = driver.Shared()
	} else {
		fc := *f // New records the driver version in its own copy
		f = &fc
		api, err = driver.SharedFrom(f)
	}
	if err != nil {
		return nil, fmt.Errorf("cuda: load driver: %w", err)
	}
	if v, err := api.Version(); err == nil {
		f.DriverVersion = v
	}
	b := &Backend{opts: o, fns: map[string]*driver.Function{}, plans: map[convKey]*cudnn.ConvPlan{},
		halfRefused: map[convKey]bool{}, gemmRefused: map[gemmKey]bool{}, halfChecked: map[any]bool{}}
	if b.info, err = api.Info(o.Device); err != nil {
		return nil, fmt.Errorf("cuda: open device %d: %w", o.Device, err)
	}
	if b.ctx, err = api.Primary(o.Device); err != nil {
		return nil, fmt.Errorf("cuda: open device %d: %w", o.Device, err)
	}
	defer b.ctx.Enter()()
	if err := b.init(f); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

func (b *Backend) init(f *dynlib.Finder) error {
	var err error
	if b.stream, err = b.ctx.NewStream(); err != nil {
		return fmt.Errorf("cuda: create stream: %w", err)
	}
	b.mem = alloc.New(rawDevice{b.ctx})
	b.workspace.b, b.scalar.b = b, b
	if err := b.compile(f); err != nil {
		return err
	}
	bl, err := cublas.Load(f)
	if err != nil {
		return fmt.Errorf("cuda: load cuBLAS: %w", err)
	}
	if b.blas, err = bl.NewHandle(); err != nil {
		return fmt.Errorf("cuda: create cuBLAS handle: %w", err)
	}
	mode := cublas.PedanticMath
	if b.opts.TF32 {
		mode = cublas.TF32TensorMath
	}
	if err := b.blas.SetStream(uintptr(b.stream)); err != nil {
		return err
	}
	if err := b.blas.SetMathMode(mode); err != nil {
		return err
	}
	v, _ := bl.Version()
	b.libs = "cuBLAS " + v
	if b.opts.NoCuDNN {
		b.libs += ", im2col convolutions"
		return nil
	}
	dl, err := cudnn.Load(f)
	if err != nil {
		// cuDNN is optional, but its absence costs much of the GPU's
		// convolution speed: say so instead of falling back silently.
		b.dnnErr = err
		b.libs += ", im2col convolutions (cuDNN not loaded)"
		b.notice("cuda: cuDNN not loaded, convolutions use the slower im2col path (`sweep doctor -v` says where it looked): %s",
			firstLine(err))
		return nil
	}
	if b.dnn, err = dl.NewHandle(); err != nil {
		return fmt.Errorf("cuda: create cuDNN handle: %w", err)
	}
	if err := b.dnn.SetStream(uintptr(b.stream)); err != nil {
		return err
	}
	v = cudnnVersion(dl.Version())
	b.libs += ", cuDNN " + v
	return nil
}

// compile builds the kernel module for this device and resolves every
// kernel by name.
func (b *Backend) compile(f *dynlib.Finder) error {
	nv, err := nvrtc.Load(f)
	if err != nil {
		return fmt.Errorf("cuda: load NVRTC: %w", err)
	}
	dir := b.opts.CacheDir
	if dir == "" {
		dir = nvrtc.DefaultCacheDir(f.Getenv)
	}
	img, err := nv.Build(nvrtc.Cache{Dir: dir}, "sweep_kernels.cu", kernels.Source(), b.info.Major*10+b.info.Minor)
	if err != nil {
		return fmt.Errorf("cuda: compile kernels: %w", err)
	}
	mod, err := b.ctx.LoadModule(img.Data)
	if err != nil {
		return fmt.Errorf("cuda: load kernels (%s): %w", img.Arch, err)
	}
	for _, name := range kernels.Names() {
		fn, err := mod.Function(name)
		if err != nil {
			return fmt.Errorf("cuda: load kernels: %w", err)
		}
		b.fns[name] = fn
	}
	return nil
}

// cudnnVersion formats CUDNN_VERSION (major·10000 + minor·100 + patch
// since cuDNN 9) as "major.minor.patch".
func cudnnVersion(v int) string { return fmt.Sprintf("%d.%d.%d", v/10000, v%10000/100, v%100) }

// Close frees the backend's device memory, handles and stream. The backend
// must not be used after; closing it again does nothing. The device's
// primary context stays alive for the next backend (see
// driver.API.Primary).
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	defer b.ctx.Enter()()
	return b.close()
}

func (b *Backend) close() error {
	var errs []error
	if b.stream != 0 {
		errs = append(errs, b.ctx.SyncStream(b.stream))
	}
	for _, p := range b.plans {
		p.Close()
	}
	if b.blas != nil {
		errs = append(errs, b.blas.Close())
	}
	if b.dnn != nil {
		errs = append(errs, b.dnn.Close())
	}
	for _, s := range []*scratch{&b.workspace, &b.scalar, &b.halves.a, &b.halves.b, &b.halves.out} {
		s.free()
	}
	for i := range b.staging {
		b.staging[i].free(b.ctx)
	}
	if b.mem != nil {
		errs = append(errs, b.mem.Trim())
	}
	if b.stream != 0 {
		errs = append(errs, b.ctx.DestroyStream(b.stream))
	}
	// The primary context stays retained for the process (driver.Primary).
	return errors.Join(errs...)
}

// CuDNNError says why cuDNN did not load (the convolutions then run as
// im2col + GEMM); nil when it loaded or Options.NoCuDNN declined it.
func (b *Backend) CuDNNError() error { return b.dnnErr }

// notice writes one line to Options.Log.
func (b *Backend) notice(format string, args ...any) {
	w := b.opts.Log
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, format+"\n", args...)
}

// firstLine is err's first line: dynlib's search lists follow it.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return strings.TrimSuffix(s, "; searched:")
}

// Name is "cuda/<GPU> (sm_XY; libraries)".
func (b *Backend) Name() string {
	return fmt.Sprintf("cuda/%s (sm_%d%d; %s)", b.info.Name, b.info.Major, b.info.Minor, b.libs)
}

// Device describes the GPU.
func (b *Backend) Device() driver.DeviceInfo { return b.info }

// MemStats returns the caching allocator's counters.
func (b *Backend) MemStats() alloc.Stats { return b.mem.Stats() }

// Sync waits for all queued work and returns the first asynchronous error.
func (b *Backend) Sync() error {
	defer b.ctx.Enter()()
	b.record(b.ctx.SyncStream(b.stream))
	return b.err
}

// record keeps the first error of a queued operation for Sync.
func (b *Backend) record(err error) {
	if err != nil && b.err == nil {
		b.err = err
	}
}

// ───────────────────────────── kernel launches ──────────────────────────

const blockSize = 256

// grid returns a grid-stride launch size for n elements: enough blocks to
// fill the GPU, no more than needed.
func (b *Backend) grid(n int) int {
	return gridFor(n, b.info.SMs)
}

func gridFor(n, sms int) int {
	blocks := (n + blockSize - 1) / blockSize
	return max(1, min(blocks, max(sms, 1)*16))
}

// launch queues kernel name over n elements (grid-stride) with args.
func (b *Backend) launch(name string, n int, args *driver.Args) {
	if n == 0 {
		return
	}
	b.launchRows(name, b.grid(n), args)
}

// launchRows queues kernel name with one block per row.
func (b *Backend) launchRows(name string, rows int, args *driver.Args) {
	fn, ok := b.fns[name]
	if !ok {
		panic("cuda: unknown kernel " + name)
	}
	b.record(fn.Launch(driver.Dim3{X: rows, Y: 1, Z: 1}, driver.Dim3{X: blockSize, Y: 1, Z: 1}, 0, b.stream, args))
}

// a starts a new argument list (the Backend's one reusable Args).
func (b *Backend) a() *driver.Args { return b.args.Reset() }

// ptr is the device address of t's first element; 0 for the zero Tensor.
func ptr(t engine.Tensor) driver.Ptr {
	if t.IsZero() {
		return 0
	}
	u := t.Buf.(*buffer)
	return u.ptr + driver.Ptr(t.Off*u.dt.Size())
}

// f32 panics unless every tensor is Float32: the kernels' only float type.
func f32(op string, ts ...engine.Tensor) {
	for _, t := range ts {
		if !t.IsZero() && t.DType != engine.Float32 {
			panic(fmt.Errorf("cuda: %s on %v: %w (kernels are float32; cast with Copy)", op, t.DType, engine.ErrUnsupported))
		}
	}
}

func bits(f float32) uint32 { return math.Float32bits(f) }

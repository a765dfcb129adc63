// Package driver binds the CUDA driver API (libcuda.so.1) through purego:
// devices, the primary context, memory, streams, events, modules and kernel
// launches. Every call returns a *Error naming the CUDA result code.
//
// CUDA makes a context current per OS thread, while Go moves goroutines
// between threads. Callers therefore bracket GPU work with [Context.Enter]
// and the func it returns, which locks the goroutine to its thread and makes
// the context current there.
//
// It does not allocate with caching (package alloc does) or compile kernels
// (package nvrtc does).
package driver

import (
	"fmt"
	"sync"
	"unsafe"

	"sweep/trainer/engine/cuda/dynlib"
)

// Result is a CUresult code.
type Result int32

// Error is a failed driver call.
type Error struct {
	Op   string // the driver function, e.g. "cuMemAlloc_v2"
	Code Result
	Name string // e.g. "CUDA_ERROR_OUT_OF_MEMORY"
	Text string // the driver's description
}

func (e *Error) Error() string {
	return fmt.Sprintf("cuda: %s: %s (%d): %s", e.Op, e.Name, e.Code, e.Text)
}

// Result codes callers test for.
const (
	Success         Result = 0
	ErrOutOfMemory  Result = 2
	ErrStubLibrary  Result = 34 // libcuda is the toolkit's stub: no driver installed
	ErrNoDevice     Result = 100
	ErrInvalidPTX   Result = 218
	ErrUnsupportPTX Result = 222
	ErrNotReady     Result = 600
)

// resultNames covers the codes users meet (values from cuda.h); the
// driver's cuGetErrorName supplies the rest when it is loaded. There is no
// CUresult 35: "insufficient driver" is the runtime API's cudaError_t 35.
var resultNames = map[Result]string{
	0: "CUDA_SUCCESS", 1: "CUDA_ERROR_INVALID_VALUE", 2: "CUDA_ERROR_OUT_OF_MEMORY",
	3: "CUDA_ERROR_NOT_INITIALIZED", 4: "CUDA_ERROR_DEINITIALIZED", 34: "CUDA_ERROR_STUB_LIBRARY",
	46: "CUDA_ERROR_DEVICE_UNAVAILABLE", 100: "CUDA_ERROR_NO_DEVICE", 101: "CUDA_ERROR_INVALID_DEVICE",
	200: "CUDA_ERROR_INVALID_IMAGE", 201: "CUDA_ERROR_INVALID_CONTEXT", 209: "CUDA_ERROR_NO_BINARY_FOR_GPU",
	218: "CUDA_ERROR_INVALID_PTX", 221: "CUDA_ERROR_JIT_COMPILER_NOT_FOUND", 222: "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
	223: "CUDA_ERROR_JIT_COMPILATION_DISABLED", 300: "CUDA_ERROR_INVALID_SOURCE", 302: "CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND",
	303: "CUDA_ERROR_SHARED_OBJECT_INIT_FAILED", 400: "CUDA_ERROR_INVALID_HANDLE", 401: "CUDA_ERROR_ILLEGAL_STATE",
	500: "CUDA_ERROR_NOT_FOUND", 600: "CUDA_ERROR_NOT_READY", 700: "CUDA_ERROR_ILLEGAL_ADDRESS",
	701: "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", 702: "CUDA_ERROR_LAUNCH_TIMEOUT", 708: "CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE",
	709: "CUDA_ERROR_CONTEXT_IS_DESTROYED", 710: "CUDA_ERROR_ASSERT", 715: "CUDA_ERROR_ILLEGAL_INSTRUCTION",
	716: "CUDA_ERROR_MISALIGNED_ADDRESS", 719: "CUDA_ERROR_LAUNCH_FAILED", 800: "CUDA_ERROR_NOT_PERMITTED",
	801: "CUDA_ERROR_NOT_SUPPORTED", 802: "CUDA_ERROR_SYSTEM_NOT_READY", 803: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
	804: "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE", 999: "CUDA_ERROR_UNKNOWN",
}

// ResultName returns the CUDA_ERROR_* name of r from the built-in table.
func ResultName(r Result) string {
	if n, ok := resultNames[r]; ok {
		return n
	}
	return fmt.Sprintf("CUresult(%d)", r)
}

// API is the loaded driver library. It is safe for concurrent use.
type API struct {
	lib *dynlib.Lib
	fn  functions

	mu      sync.Mutex
	primary map[int]*Context // by ordinal: retained once, see Primary
}

type functions struct {
	GetErrorName       dynlib.Func `sym:"cuGetErrorName"`
	GetErrorString     dynlib.Func `sym:"cuGetErrorString"`
	Init               dynlib.Func `sym:"cuInit"`
	DriverGetVersion   dynlib.Func `sym:"cuDriverGetVersion"`
	DeviceGetCount     dynlib.Func `sym:"cuDeviceGetCount"`
	DeviceGet          dynlib.Func `sym:"cuDeviceGet"`
	DeviceGetName      dynlib.Func `sym:"cuDeviceGetName"`
	DeviceGetAttribute dynlib.Func `sym:"cuDeviceGetAttribute"`
	DeviceTotalMem     dynlib.Func `sym:"cuDeviceTotalMem_v2"`
	PrimaryCtxRetain   dynlib.Func `sym:"cuDevicePrimaryCtxRetain"`
	PrimaryCtxRelease  dynlib.Func `sym:"cuDevicePrimaryCtxRelease_v2"`
	CtxSetCurrent      dynlib.Func `sym:"cuCtxSetCurrent"`
	CtxSynchronize     dynlib.Func `sym:"cuCtxSynchronize"`
	MemGetInfo         dynlib.Func `sym:"cuMemGetInfo_v2"`
	MemAlloc           dynlib.Func `sym:"cuMemAlloc_v2"`
	MemFree            dynlib.Func `sym:"cuMemFree_v2"`
	MemHostAlloc       dynlib.Func `sym:"cuMemHostAlloc"`
	MemFreeHost        dynlib.Func `sym:"cuMemFreeHost"`
	MemcpyHtoD         dynlib.Func `sym:"cuMemcpyHtoD_v2"`
	MemcpyDtoH         dynlib.Func `sym:"cuMemcpyDtoH_v2"`
	MemcpyHtoDAsync    dynlib.Func `sym:"cuMemcpyHtoDAsync_v2"`
	MemcpyDtoHAsync    dynlib.Func `sym:"cuMemcpyDtoHAsync_v2"`
	MemcpyDtoDAsync    dynlib.Func `sym:"cuMemcpyDtoDAsync_v2"`
	MemsetD32Async     dynlib.Func `sym:"cuMemsetD32Async"`
	MemsetD8Async      dynlib.Func `sym:"cuMemsetD8Async"`
	MemsetD16Async     dynlib.Func `sym:"cuMemsetD16Async"`
	StreamCreate       dynlib.Func `sym:"cuStreamCreate"`
	StreamDestroy      dynlib.Func `sym:"cuStreamDestroy_v2"`
	StreamSynchronize  dynlib.Func `sym:"cuStreamSynchronize"`
	StreamWaitEvent    dynlib.Func `sym:"cuStreamWaitEvent"`
	EventCreate        dynlib.Func `sym:"cuEventCreate"`
	EventDestroy       dynlib.Func `sym:"cuEventDestroy_v2"`
	EventRecord        dynlib.Func `sym:"cuEventRecord"`
	EventSynchronize   dynlib.Func `sym:"cuEventSynchronize"`
	EventElapsedTime   dynlib.Func `sym:"cuEventElapsedTime"`
	ModuleLoadData     dynlib.Func `sym:"cuModuleLoadData"`
	ModuleUnload       dynlib.Func `sym:"cuModuleUnload"`
	ModuleGetFunction  dynlib.Func `sym:"cuModuleGetFunction"`
	LaunchKernel       dynlib.Func `sym:"cuLaunchKernel"`
}

// Load opens libcuda with f and binds its functions, then calls cuInit.
// A machine without an NVIDIA driver gets a *dynlib.NotFoundError; one with
// a driver but no GPU gets an *Error with code ErrNoDevice.
func Load(f *dynlib.Finder) (*API, error) {
	lib, err := f.Load(dynlib.Driver)
	if err != nil {
		return nil, err
	}
	return bind(lib)
}

// bind binds lib's functions and calls cuInit.
func bind(lib *dynlib.Lib) (*API, error) {
	a := &API{lib: lib, primary: map[int]*Context{}}
	if err := dynlib.Bind(lib, &a.fn); err != nil {
		return nil, err
	}
	if err := a.check("cuInit", a.fn.Init.Call(0)); err != nil {
		return nil, err
	}
	return a, nil
}

// Lib returns the opened library (its path, for `sweep doctor`).
func (a *API) Lib() *dynlib.Lib { return a.lib }

// shared holds the process-wide APIs, one per driver library path.
var shared struct {
	sync.Mutex
	byPath map[string]*API
	dflt   *API // Shared's, found with the default search
}

// Shared returns one process-wide API found with the default search,
// loading it on first success; CUDA's own state is process-wide, so
// opening the driver twice gains nothing.
func Shared() (*API, error) {
	shared.Lock()
	a := shared.dflt
	shared.Unlock()
	if a != nil {
		return a, nil
	}
	a, err := SharedFrom(dynlib.NewFinder())
	if err != nil {
		return nil, err
	}
	shared.Lock()
	shared.dflt = a
	shared.Unlock()
	return a, nil
}

// SharedFrom is Shared for the driver that f finds (tests point f at a
// fake driver): one API per library path for the life of the process, so
// its primary contexts (see Primary) are retained once.
func SharedFrom(f *dynlib.Finder) (*API, error) {
	lib, err := f.Load(dynlib.Driver)
	if err != nil {
		return nil, err
	}
	shared.Lock()
	defer shared.Unlock()
	if a, ok := shared.byPath[lib.Path]; ok {
		return a, nil
	}
	a, err := bind(lib)
	if err != nil {
		return nil, err
	}
	if shared.byPath == nil {
		shared.byPath = map[string]*API{}
	}
	shared.byPath[lib.Path] = a
	return a, nil
}

// CloseShared releases the primary contexts of every shared API (see
// API.Close): for a process that wants its retains balanced before it
// exits, such as a test checking that nothing else leaked one. The APIs
// stay loaded; a later Primary retains again.
func CloseShared() error {
	shared.Lock()
	defer shared.Unlock()
	var first error
	for _, a := range shared.byPath {
		if err := a.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// check turns a CUresult into an *Error naming op, or nil.
func (a *API) check(op string, r uintptr) error {
	code := Result(int32(r))
	if code == Success {
		return nil
	}
	e := &Error{Op: op, Code: code, Name: ResultName(code)}
	var p uintptr
	if a.fn.GetErrorName != 0 && a.fn.GetErrorName.Call(uintptr(code), uintptr(unsafe.Pointer(&p))) == 0 {
		e.Name = dynlib.GoString(p)
	}
	if a.fn.GetErrorString != 0 && a.fn.GetErrorString.Call(uintptr(code), uintptr(unsafe.Pointer(&p))) == 0 {
		e.Text = dynlib.GoString(p)
	}
	return e
}

// Version returns the driver's CUDA version as major*1000 + minor*10.
func (a *API) Version() (int, error) {
	var v int32
	err := a.check("cuDriverGetVersion", a.fn.DriverGetVersion.Call(uintptr(unsafe.Pointer(&v))))
	return int(v), err
}

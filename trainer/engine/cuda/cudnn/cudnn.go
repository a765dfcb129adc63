// Package cudnn binds cuDNN v9's legacy API (libcudnn.so.9) through purego:
// tensor, filter and convolution descriptors, convolution algorithm search
// and the three convolution passes, plus batch normalisation, pooling and
// activation descriptors for backends that want cuDNN's versions of those.
//
// It does not own device memory: callers pass device pointers and
// workspaces (package cuda does).
package cudnn

import (
	"bytes"
	"fmt"
	"unsafe"

	"sweep/trainer/engine/cuda/dynlib"
)

// Status is a cudnnStatus_t.
type Status int32

// Error is a failed cuDNN call.
type Error struct {
	Op     string
	Status Status
	Name   string // StatusText(Status)
	Text   string // the library's own message (cudnnGetLastErrorString or cudnnGetErrorString), if it differs
}

func (e *Error) Error() string {
	s := fmt.Sprintf("cudnn: %s: %s (%d)", e.Op, e.Name, int32(e.Status))
	if e.Text != "" && e.Text != e.Name {
		s += ": " + e.Text
	}
	return s
}

// statusNames are cudnnStatus_t's names in cuDNN 9 (cudnn_graph.h), where
// a code is its category (thousands) plus a specific error; the deprecated
// aliases (CUDNN_STATUS_ALLOC_FAILED = 4003 and so on) share values with
// these names.
var statusNames = map[Status]string{
	0:    "CUDNN_STATUS_SUCCESS",
	1001: "CUDNN_STATUS_NOT_INITIALIZED", 1002: "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH",
	1003: "CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH", 1004: "CUDNN_STATUS_DEPRECATED",
	1005: "CUDNN_STATUS_LICENSE_ERROR", 1006: "CUDNN_STATUS_RUNTIME_IN_PROGRESS",
	1007: "CUDNN_STATUS_RUNTIME_FP_OVERFLOW", 1008: "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED",
	2000: "CUDNN_STATUS_BAD_PARAM", 2001: "CUDNN_STATUS_INVALID_VALUE",
	2002: "CUDNN_STATUS_BAD_PARAM_NULL_POINTER", 2003: "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER",
	2004: "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED", 2005: "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND",
	2006: "CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT", 2007: "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH",
	2008: "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH", 2009: "CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES",
	2010: "CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE", 2011: "CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH",
	2012: "CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE",
	3000: "CUDNN_STATUS_NOT_SUPPORTED", 3001: "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN",
	3002: "CUDNN_STATUS_NOT_SUPPORTED_SHAPE", 3003: "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE",
	3004: "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT", 3005: "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER",
	3006: "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART", 3007: "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH",
	3008: "CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING",
	3009: "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE",
	3010: "CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT", 3011: "CUDNN_STATUS_NOT_SUPPORTED_PADDING",
	3012: "CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM", 3013: "CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API",
	4000: "CUDNN_STATUS_INTERNAL_ERROR", 4001: "CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED",
	4002: "CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE", 4003: "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED",
	4004: "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED", 4005: "CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM",
	4006: "CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED",
	5000: "CUDNN_STATUS_EXECUTION_FAILED", 5001: "CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER",
	5002: "CUDNN_STATUS_EXECUTION_FAILED_CUBLAS", 5003: "CUDNN_STATUS_EXECUTION_FAILED_CUDART",
	5004: "CUDNN_STATUS_EXECUTION_FAILED_CURAND",
}

// categories name the classes of codes newer than statusNames (the code
// divided by 1000), so an unknown code still says what kind of error it is.
var categories = map[int32]string{1: "uncategorized", 2: "CUDNN_STATUS_BAD_PARAM", 3: "CUDNN_STATUS_NOT_SUPPORTED",
	4: "CUDNN_STATUS_INTERNAL_ERROR", 5: "CUDNN_STATUS_EXECUTION_FAILED"}

// StatusText names s without the library: its cuDNN 9 name, or for codes
// this table lacks, the number and its category.
func StatusText(s Status) string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	if c, ok := categories[int32(s)/1000]; ok {
		return fmt.Sprintf("cudnnStatus(%d, category %s)", int32(s), c)
	}
	return fmt.Sprintf("cudnnStatus(%d)", int32(s))
}

// Enumerations (values from cudnn_graph.h / cudnn_ops.h / cudnn_cnn.h, v9).
const (
	Float    = 0 // CUDNN_DATA_FLOAT
	Half     = 2 // CUDNN_DATA_HALF
	BFloat16 = 9 // CUDNN_DATA_BFLOAT16

	NCHW = 0 // CUDNN_TENSOR_NCHW
	NHWC = 1 // CUDNN_TENSOR_NHWC

	CrossCorrelation = 1 // CUDNN_CROSS_CORRELATION

	DefaultMath  = 0 // tensor cores allowed (TF32 for float on Ampere and later)
	TensorOpMath = 1
	FMAMath      = 3 // no tensor cores: exact float32

	BatchNormSpatial = 1 // CUDNN_BATCHNORM_SPATIAL

	PoolMax          = 0 // CUDNN_POOLING_MAX
	PoolAvgInclusive = 1 // CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING

	ActSigmoid = 0
	ActReLU    = 1
	ActSwish   = 6
)

// Library is the loaded cuDNN.
type Library struct {
	lib *dynlib.Lib
	fn  functions
}

// Load opens libcudnn.so.9 (its sub-libraries first, when beside it).
func Load(f *dynlib.Finder) (*Library, error) {
	lib, err := f.Load(dynlib.CUDNN)
	if err != nil {
		return nil, err
	}
	l := &Library{lib: lib}
	if err := dynlib.Bind(lib, &l.fn); err != nil {
		return nil, err
	}
	if v := l.Version(); v < 90000 {
		return nil, fmt.Errorf("cudnn: version %d at %s: sweep needs cuDNN 9", v, lib.Path)
	}
	return l, nil
}

// Lib returns the opened library.
func (l *Library) Lib() *dynlib.Lib { return l.lib }

// Version returns CUDNN_VERSION, e.g. 90100 for 9.1.0.
func (l *Library) Version() int { return int(l.fn.GetVersion.Call()) }

func (l *Library) check(op string, r uintptr) error {
	return l.checkStatus(op, int32(r))
}

func (l *Library) checkStatus(op string, r int32) error {
	s := Status(r)
	if s == 0 {
		return nil
	}
	e := &Error{Op: op, Status: s, Name: StatusText(s)}
	if l.fn.GetLastError != 0 {
		buf := make([]byte, 512)
		l.fn.GetLastError.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		if i := bytes.IndexByte(buf, 0); i > 0 {
			e.Text = string(buf[:i])
		}
	}
	if e.Text == "" && l.fn.GetErrorString != 0 {
		if p := l.fn.GetErrorString.Call(uintptr(s)); p != 0 {
			e.Text = dynlib.GoString(p)
		}
	}
	return e
}

// Handle is a cuDNN context for the current device; not safe for
// concurrent use.
type Handle struct {
	l *Library
	h uintptr
}

// NewHandle creates a handle; the device's context must be current.
func (l *Library) NewHandle() (*Handle, error) {
	h := &Handle{l: l}
	if err := l.check("cudnnCreate", l.fn.Create.Call(uintptr(unsafe.Pointer(&h.h)))); err != nil {
		return nil, err
	}
	return h, nil
}

// Close destroys the handle.
func (h *Handle) Close() error { return h.l.check("cudnnDestroy", h.l.fn.Destroy.Call(h.h)) }

// SetStream makes h queue its work on stream (a CUstream).
func (h *Handle) SetStream(stream uintptr) error {
	return h.l.check("cudnnSetStream", h.l.fn.SetStream.Call(h.h, stream))
}

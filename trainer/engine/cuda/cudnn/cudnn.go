// Package cudnn binds cuDNN v9's legacy API (libcudnn.so.9) through purego:
// tensor, filter and convolution descriptors, convolution algorithm search
// and the three convolution passes, plus batch normalisation, pooling and
// activation descriptors for backends that want cuDNN's versions of those.
//
// It does not own device memory: callers pass device pointers and
// workspaces (package cuda does).
package cudnn

import (
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
	Text   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cudnn: %s: %s (%d)", e.Op, e.Text, int32(e.Status))
}

// categories are cuDNN 9's status classes: the code divided by 1000.
var categories = map[int32]string{1: "CUDNN_STATUS_NOT_INITIALIZED (or other library state)",
	2: "CUDNN_STATUS_BAD_PARAM", 3: "CUDNN_STATUS_NOT_SUPPORTED", 4: "CUDNN_STATUS_INTERNAL_ERROR",
	5: "CUDNN_STATUS_EXECUTION_FAILED"}

// StatusText names s without the library: the exact name for common codes,
// else its v9 category.
func StatusText(s Status) string {
	switch s {
	case 0:
		return "CUDNN_STATUS_SUCCESS"
	case 2000:
		return "CUDNN_STATUS_BAD_PARAM"
	case 3000:
		return "CUDNN_STATUS_NOT_SUPPORTED"
	case 4001:
		return "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED"
	case 4002:
		return "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED"
	case 5000:
		return "CUDNN_STATUS_EXECUTION_FAILED"
	}
	if c, ok := categories[int32(s)/1000]; ok {
		return c
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
	text := StatusText(s)
	if l.fn.GetErrorString != 0 {
		if p := l.fn.GetErrorString.Call(uintptr(s)); p != 0 {
			text = dynlib.GoString(p)
		}
	}
	return &Error{Op: op, Status: s, Text: text}
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

// Package nvrtc binds NVIDIA's run-time CUDA compiler (libnvrtc) through
// purego and caches its output on disk, keyed by a hash of the source, the
// options, the target architecture and the compiler version, so a process
// compiles sweep's kernels at most once per machine and version.
//
// It does not load modules into a context (package driver does).
package nvrtc

import (
	"errors"
	"fmt"
	"sort"
	"unsafe"

	"sweep/trainer/engine/cuda/dynlib"
)

// Compiler is a loaded NVRTC. It is safe for concurrent use.
type Compiler struct {
	lib   *dynlib.Lib
	fn    functions
	major int
	minor int
}

type functions struct {
	GetErrorString      dynlib.Func `sym:"nvrtcGetErrorString"`
	Version             dynlib.Func `sym:"nvrtcVersion"`
	GetNumSupportedArch dynlib.Func `sym:"nvrtcGetNumSupportedArchs,optional"`
	GetSupportedArchs   dynlib.Func `sym:"nvrtcGetSupportedArchs,optional"`
	CreateProgram       dynlib.Func `sym:"nvrtcCreateProgram"`
	DestroyProgram      dynlib.Func `sym:"nvrtcDestroyProgram"`
	CompileProgram      dynlib.Func `sym:"nvrtcCompileProgram"`
	GetPTXSize          dynlib.Func `sym:"nvrtcGetPTXSize"`
	GetPTX              dynlib.Func `sym:"nvrtcGetPTX"`
	GetCUBINSize        dynlib.Func `sym:"nvrtcGetCUBINSize,optional"`
	GetCUBIN            dynlib.Func `sym:"nvrtcGetCUBIN,optional"`
	GetProgramLogSize   dynlib.Func `sym:"nvrtcGetProgramLogSize"`
	GetProgramLog       dynlib.Func `sym:"nvrtcGetProgramLog"`
}

// Error is a failed NVRTC call; Log holds the compiler output for
// compilation errors.
type Error struct {
	Op   string
	Code int
	Text string
	Log  string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("nvrtc: %s: %s (%d)", e.Op, e.Text, e.Code)
	if e.Log != "" {
		s += "\n" + e.Log
	}
	return s
}

// resultNames are nvrtcResult's names by value (nvrtc.h, CUDA 13), used
// when the library is absent.
var resultNames = []string{"NVRTC_SUCCESS", "NVRTC_ERROR_OUT_OF_MEMORY", "NVRTC_ERROR_PROGRAM_CREATION_FAILURE",
	"NVRTC_ERROR_INVALID_INPUT", "NVRTC_ERROR_INVALID_PROGRAM", "NVRTC_ERROR_INVALID_OPTION",
	"NVRTC_ERROR_COMPILATION", "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE",
	"NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION", "NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION",
	"NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID", "NVRTC_ERROR_INTERNAL_ERROR", "NVRTC_ERROR_TIME_FILE_WRITE_FAILED",
	"NVRTC_ERROR_NO_PCH_CREATE_ATTEMPTED", "NVRTC_ERROR_PCH_CREATE_HEAP_EXHAUSTED", "NVRTC_ERROR_PCH_CREATE",
	"NVRTC_ERROR_CANCELLED", "NVRTC_ERROR_TIME_TRACE_FILE_WRITE_FAILED"}

// ResultName returns the NVRTC_* name of a result code.
func ResultName(code int) string {
	if code >= 0 && code < len(resultNames) {
		return resultNames[code]
	}
	return fmt.Sprintf("nvrtcResult(%d)", code)
}

// Load opens libnvrtc with f.
func Load(f *dynlib.Finder) (*Compiler, error) {
	lib, err := f.Load(dynlib.NVRTC)
	if err != nil {
		return nil, err
	}
	c := &Compiler{lib: lib}
	if err := dynlib.Bind(lib, &c.fn); err != nil {
		return nil, err
	}
	var ma, mi int32
	if err := c.check("nvrtcVersion", c.fn.Version.Call(uintptr(unsafe.Pointer(&ma)), uintptr(unsafe.Pointer(&mi)))); err != nil {
		return nil, err
	}
	c.major, c.minor = int(ma), int(mi)
	return c, nil
}

// Lib returns the opened library.
func (c *Compiler) Lib() *dynlib.Lib { return c.lib }

// Version returns NVRTC's major and minor version.
func (c *Compiler) Version() (major, minor int) { return c.major, c.minor }

func (c *Compiler) check(op string, r uintptr) error {
	code := int(int32(r))
	if code == 0 {
		return nil
	}
	text := ResultName(code)
	if p := c.fn.GetErrorString.Call(uintptr(code)); p != 0 {
		text = dynlib.GoString(p)
	}
	return &Error{Op: op, Code: code, Text: text}
}

// SupportedArchs returns the SM versions (e.g. 80 for sm_80) NVRTC can
// generate code for, ascending; nil when the library cannot say.
func (c *Compiler) SupportedArchs() []int {
	if c.fn.GetNumSupportedArch == 0 || c.fn.GetSupportedArchs == 0 {
		return nil
	}
	var n int32
	if c.fn.GetNumSupportedArch.Call(uintptr(unsafe.Pointer(&n))) != 0 || n <= 0 {
		return nil
	}
	a := make([]int32, n)
	if c.fn.GetSupportedArchs.Call(uintptr(unsafe.Pointer(&a[0]))) != 0 {
		return nil
	}
	out := make([]int, n)
	for i, v := range a {
		out[i] = int(v)
	}
	sort.Ints(out)
	return out
}

// Target chooses what to compile for a device of compute capability sm
// (e.g. 90): a cubin for sm itself when NVRTC supports it (no driver JIT,
// and it loads on older drivers of the same major), otherwise PTX for the
// newest architecture NVRTC knows below sm, which the driver JIT-compiles.
// supported is SupportedArchs' answer (nil: assume sm is supported).
func Target(sm int, supported []int) (arch string, cubin bool) {
	if len(supported) == 0 {
		return fmt.Sprintf("sm_%d", sm), true
	}
	best := 0
	for _, a := range supported {
		if a == sm {
			return fmt.Sprintf("sm_%d", sm), true
		}
		if a < sm && a > best {
			best = a
		}
	}
	if best == 0 {
		best = supported[0]
	}
	return fmt.Sprintf("compute_%d", best), false
}

// ErrNoCubin means this NVRTC cannot emit cubins (before CUDA 11.1).
var ErrNoCubin = errors.New("nvrtc: library cannot produce cubin")

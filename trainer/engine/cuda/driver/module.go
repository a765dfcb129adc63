package driver

import (
	"unsafe"

	"sweep/trainer/engine/cuda/dynlib"
)

// Module is a loaded CUDA module (PTX or cubin).
type Module struct {
	ctx    *Context
	handle uintptr
}

// Function is a kernel in a Module.
type Function struct {
	ctx    *Context
	handle uintptr
	Name   string
}

func unsafeSizeof[T any](v T) uintptr { return unsafe.Sizeof(v) }

// LoadModule loads a PTX (NUL-terminated) or cubin image.
func (c *Context) LoadModule(image []byte) (*Module, error) {
	if len(image) == 0 || image[len(image)-1] != 0 {
		image = append(append([]byte(nil), image...), 0) // PTX must be NUL-terminated; cubins don't mind
	}
	m := &Module{ctx: c}
	if err := c.api.check("cuModuleLoadData", c.api.fn.ModuleLoadData.Call(uintptr(unsafe.Pointer(&m.handle)), uintptr(unsafe.Pointer(&image[0])))); err != nil {
		return nil, err
	}
	return m, nil
}

// Unload unloads m.
func (m *Module) Unload() error {
	return m.ctx.api.check("cuModuleUnload", m.ctx.api.fn.ModuleUnload.Call(m.handle))
}

// Function looks up an extern "C" kernel.
func (m *Module) Function(name string) (*Function, error) {
	f := &Function{ctx: m.ctx, Name: name}
	cname := dynlib.CString(name)
	if err := m.ctx.api.check("cuModuleGetFunction "+name, m.ctx.api.fn.ModuleGetFunction.Call(uintptr(unsafe.Pointer(&f.handle)), m.handle, uintptr(unsafe.Pointer(&cname[0])))); err != nil {
		return nil, err
	}
	return f, nil
}

// Dim3 is a grid or block size.
type Dim3 struct{ X, Y, Z int }

// Args holds kernel arguments in launch order. Each value occupies one
// 8-byte slot; cuLaunchKernel reads as many bytes as the kernel's parameter
// type needs (4 for int and float, 8 for pointers), which little-endian
// slot storage satisfies. An Args is reused across launches: not safe for
// concurrent use.
type Args struct {
	slots [24]uint64
	ptrs  [24]unsafe.Pointer
	n     int
}

// Reset empties a.
func (a *Args) Reset() *Args { a.n = 0; return a }

// Ptr appends a device pointer.
func (a *Args) Ptr(p Ptr) *Args { return a.put(uint64(p)) }

// Int appends a C int.
func (a *Args) Int(v int) *Args { return a.put(uint64(uint32(int32(v)))) }

// Uint64 appends a C unsigned long long.
func (a *Args) Uint64(v uint64) *Args { return a.put(v) }

// Float appends a C float.
func (a *Args) Float(v float32) *Args {
	return a.put(uint64(*(*uint32)(unsafe.Pointer(&v))))
}

func (a *Args) put(v uint64) *Args {
	if a.n == len(a.slots) {
		panic("driver: more than 24 kernel arguments")
	}
	a.slots[a.n] = v
	a.ptrs[a.n] = unsafe.Pointer(&a.slots[a.n])
	a.n++
	return a
}

// Launch queues f on stream s with the given grid, block, dynamic shared
// memory in bytes, and arguments.
func (f *Function) Launch(grid, block Dim3, shared int, s Stream, args *Args) error {
	// The pointer conversion stays in the argument list so that args is
	// moved to the heap and kept alive for the call (go:uintptrescapes).
	r := f.ctx.api.fn.LaunchKernel.Call(f.handle,
		uintptr(grid.X), uintptr(grid.Y), uintptr(grid.Z),
		uintptr(block.X), uintptr(block.Y), uintptr(block.Z),
		uintptr(shared), uintptr(s), uintptr(unsafe.Pointer(&args.ptrs[0])), 0)
	if r != 0 {
		return f.ctx.api.check("cuLaunchKernel "+f.Name, r)
	}
	return nil
}

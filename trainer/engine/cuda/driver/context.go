package driver

import (
	"runtime"
	"unsafe"
)

// Context is a device's primary context, the one the CUDA runtime (and so
// cuBLAS and cuDNN) also uses. Its methods need the context current on the
// calling thread: call them between Enter and the func Enter returns.
type Context struct {
	api    *API
	dev    Device
	handle uintptr
}

// Ptr is a device address (CUdeviceptr).
type Ptr uintptr

// Stream is a CUstream; 0 is the legacy default stream.
type Stream uintptr

// Primary returns the device's primary context, retained once for the
// life of a (until a.Close) however many callers use it. The primary
// context is destroyed when its last retain is released, and cuBLAS and
// cuDNN keep state tied to the context they first ran in, so a process
// that released it between two backends would hand the second backend's
// libraries a dead context. Callers never release it.
func (a *API) Primary(ordinal int) (*Context, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.primary[ordinal]; ok {
		return c, nil
	}
	c, err := a.Retain(ordinal)
	if err != nil {
		return nil, err
	}
	if a.primary == nil {
		a.primary = map[int]*Context{}
	}
	a.primary[ordinal] = c
	return c, nil
}

// Close releases the primary contexts that Primary retained. Nothing of a
// may be used after; a process that exits needs no Close (the driver
// tears every context down at exit).
func (a *API) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var first error
	for ord, c := range a.primary {
		if err := c.Release(); err != nil && first == nil {
			first = err
		}
		delete(a.primary, ord)
	}
	return first
}

// Retain retains the primary context of the device at ordinal; the caller
// releases it (see Primary for the process-wide one).
func (a *API) Retain(ordinal int) (*Context, error) {
	d, err := a.Device(ordinal)
	if err != nil {
		return nil, err
	}
	c := &Context{api: a, dev: d}
	if err := a.check("cuDevicePrimaryCtxRetain", a.fn.PrimaryCtxRetain.Call(uintptr(unsafe.Pointer(&c.handle)), uintptr(d))); err != nil {
		return nil, err
	}
	return c, nil
}

// API returns the driver the context belongs to.
func (c *Context) API() *API { return c.api }

// Handle returns the CUcontext.
func (c *Context) Handle() uintptr { return c.handle }

// Enter locks the calling goroutine to its OS thread and makes c current
// there. The returned func unlocks the thread; call it when the GPU work of
// this goroutine is done (defer c.Enter()() is the usual form).
func (c *Context) Enter() (leave func()) {
	runtime.LockOSThread()
	if err := c.api.check("cuCtxSetCurrent", c.api.fn.CtxSetCurrent.Call(c.handle)); err != nil {
		runtime.UnlockOSThread()
		panic(err) // a valid retained context cannot fail this; it means memory corruption
	}
	return runtime.UnlockOSThread
}

// Release releases the primary context. The context must not be used after.
func (c *Context) Release() error {
	return c.api.check("cuDevicePrimaryCtxRelease_v2", c.api.fn.PrimaryCtxRelease.Call(uintptr(c.dev)))
}

// Synchronize waits for all work in the context.
func (c *Context) Synchronize() error {
	return c.api.check("cuCtxSynchronize", c.api.fn.CtxSynchronize.Call())
}

// MemInfo returns free and total device memory in bytes.
func (c *Context) MemInfo() (free, total int64, err error) {
	var f, t uint64
	err = c.api.check("cuMemGetInfo_v2", c.api.fn.MemGetInfo.Call(uintptr(unsafe.Pointer(&f)), uintptr(unsafe.Pointer(&t))))
	return int64(f), int64(t), err
}

// Alloc allocates n bytes of device memory (not cached; see package alloc).
func (c *Context) Alloc(n int64) (Ptr, error) {
	var p uintptr
	err := c.api.check("cuMemAlloc_v2", c.api.fn.MemAlloc.Call(uintptr(unsafe.Pointer(&p)), uintptr(n)))
	return Ptr(p), err
}

// Free frees memory from Alloc.
func (c *Context) Free(p Ptr) error {
	return c.api.check("cuMemFree_v2", c.api.fn.MemFree.Call(uintptr(p)))
}

// HtoD copies the host slice src to dst, synchronously.
func HtoD[T any](c *Context, dst Ptr, src []T) error {
	if len(src) == 0 {
		return nil
	}
	n := uintptr(len(src)) * sizeOf[T]()
	return c.api.check("cuMemcpyHtoD_v2", c.api.fn.MemcpyHtoD.Call(uintptr(dst), uintptr(unsafe.Pointer(&src[0])), n))
}

// DtoH copies device memory at src into the host slice dst, synchronously.
func DtoH[T any](c *Context, dst []T, src Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	n := uintptr(len(dst)) * sizeOf[T]()
	return c.api.check("cuMemcpyDtoH_v2", c.api.fn.MemcpyDtoH.Call(uintptr(unsafe.Pointer(&dst[0])), uintptr(src), n))
}

// CopyDtoD copies n bytes between device buffers on stream s.
func (c *Context) CopyDtoD(dst, src Ptr, n int64, s Stream) error {
	return c.api.check("cuMemcpyDtoDAsync_v2", c.api.fn.MemcpyDtoDAsync.Call(uintptr(dst), uintptr(src), uintptr(n), uintptr(s)))
}

// CopyHtoDAsync copies n bytes from host address src (pinned memory from
// HostAlloc for a truly asynchronous copy) to dst on stream s.
//
// Go memory passed as src must be converted in the call's argument list:
// go:uintptrescapes then keeps it on the heap, where it cannot move.
//
//go:uintptrescapes
func (c *Context) CopyHtoDAsync(dst Ptr, src uintptr, n int64, s Stream) error {
	return c.api.check("cuMemcpyHtoDAsync_v2", c.api.fn.MemcpyHtoDAsync.Call(uintptr(dst), src, uintptr(n), uintptr(s)))
}

// CopyDtoHAsync copies n bytes from src to host address dst on stream s.
//
// Go memory passed as dst must be converted in the call's argument list
// (see CopyHtoDAsync).
//
//go:uintptrescapes
func (c *Context) CopyDtoHAsync(dst uintptr, src Ptr, n int64, s Stream) error {
	return c.api.check("cuMemcpyDtoHAsync_v2", c.api.fn.MemcpyDtoHAsync.Call(dst, uintptr(src), uintptr(n), uintptr(s)))
}

// Memset32 sets n 32-bit words at dst to v on stream s.
func (c *Context) Memset32(dst Ptr, v uint32, n int64, s Stream) error {
	return c.api.check("cuMemsetD32Async", c.api.fn.MemsetD32Async.Call(uintptr(dst), uintptr(v), uintptr(n), uintptr(s)))
}

// Memset16 sets n 16-bit words at dst to v on stream s.
func (c *Context) Memset16(dst Ptr, v uint16, n int64, s Stream) error {
	return c.api.check("cuMemsetD16Async", c.api.fn.MemsetD16Async.Call(uintptr(dst), uintptr(v), uintptr(n), uintptr(s)))
}

// Memset8 sets n bytes at dst to v on stream s.
func (c *Context) Memset8(dst Ptr, v byte, n int64, s Stream) error {
	return c.api.check("cuMemsetD8Async", c.api.fn.MemsetD8Async.Call(uintptr(dst), uintptr(v), uintptr(n), uintptr(s)))
}

// HostAlloc allocates n bytes of page-locked host memory, which makes
// host↔device copies asynchronous. Free it with FreeHost.
func (c *Context) HostAlloc(n int64) (uintptr, error) {
	var p uintptr
	err := c.api.check("cuMemHostAlloc", c.api.fn.MemHostAlloc.Call(uintptr(unsafe.Pointer(&p)), uintptr(n), 0))
	return p, err
}

// FreeHost frees memory from HostAlloc.
func (c *Context) FreeHost(p uintptr) error {
	return c.api.check("cuMemFreeHost", c.api.fn.MemFreeHost.Call(p))
}

// NewStream creates a non-blocking stream (it does not synchronize with the
// legacy default stream).
func (c *Context) NewStream() (Stream, error) {
	var s uintptr
	err := c.api.check("cuStreamCreate", c.api.fn.StreamCreate.Call(uintptr(unsafe.Pointer(&s)), streamNonBlocking))
	return Stream(s), err
}

// DestroyStream destroys s after its work completes.
func (c *Context) DestroyStream(s Stream) error {
	return c.api.check("cuStreamDestroy_v2", c.api.fn.StreamDestroy.Call(uintptr(s)))
}

// SyncStream waits for the work queued on s.
func (c *Context) SyncStream(s Stream) error {
	return c.api.check("cuStreamSynchronize", c.api.fn.StreamSynchronize.Call(uintptr(s)))
}

func sizeOf[T any]() uintptr {
	var z T
	return unsafeSizeof(z)
}

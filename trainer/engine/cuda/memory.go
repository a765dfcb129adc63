package cuda

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cuda/amp"
	"sweep/trainer/engine/cuda/driver"
)

// buffer is device memory from the caching allocator.
type buffer struct {
	ptr driver.Ptr
	n   int
	dt  engine.DType
}

func (u *buffer) Len() int            { return u.n }
func (u *buffer) DType() engine.DType { return u.dt }

// rawDevice adapts the driver's allocator to alloc.Raw.
type rawDevice struct{ ctx *driver.Context }

func (r rawDevice) Alloc(n int64) (uintptr, error) {
	p, err := r.ctx.Alloc(n)
	var ce *driver.Error
	if errors.As(err, &ce) && ce.Code == driver.ErrOutOfMemory {
		err = fmt.Errorf("%w: %w", engine.ErrOutOfMemory, err)
	}
	return uintptr(p), err
}

func (r rawDevice) Free(p uintptr) error { return r.ctx.Free(driver.Ptr(p)) }

// Alloc returns zeroed device memory for n elements of dt.
func (b *Backend) Alloc(dt engine.DType, n int) (engine.Buffer, error) {
	if dt > engine.Int32 {
		return nil, fmt.Errorf("cuda: alloc %v: %w", dt, engine.ErrUnsupported)
	}
	defer b.ctx.Enter()()
	bytes := int64(n) * int64(dt.Size())
	p, err := b.mem.Alloc(bytes)
	if err != nil {
		return nil, fmt.Errorf("cuda: alloc %d×%v: %w", n, dt, err)
	}
	if err := b.ctx.Memset8(driver.Ptr(p), 0, bytes, b.stream); err != nil {
		b.mem.Free(p)
		return nil, err
	}
	return &buffer{ptr: driver.Ptr(p), n: n, dt: dt}, nil
}

// Free returns buf's memory to the cache. Work queued on the stream that
// still reads buf runs before any later reuse, because all work shares
// one stream.
func (b *Backend) Free(buf engine.Buffer) {
	if buf == nil {
		return
	}
	b.mem.Free(uintptr(buf.(*buffer).ptr))
}

// staging is pinned host memory for CopyIn: the host copies into it and the
// DMA engine copies out of it asynchronously, so CopyIn returns before the
// GPU has caught up. done marks when the last copy out of it finished.
type staging struct {
	p    uintptr
	size int64
	done driver.Event
	used bool
}

// get returns a pinned buffer of at least n bytes, waiting for the copy
// still reading it.
func (s *staging) get(ctx *driver.Context, n int64) (unsafe.Pointer, error) {
	if s.used {
		if err := ctx.SyncEvent(s.done); err != nil {
			return nil, err
		}
	}
	if s.size < n {
		s.free(ctx)
		p, err := ctx.HostAlloc(n)
		if err != nil {
			return nil, err
		}
		if s.done == 0 {
			if s.done, err = ctx.NewEvent(); err != nil {
				ctx.FreeHost(p)
				return nil, err
			}
		}
		s.p, s.size = p, n
	}
	return unsafe.Add(unsafe.Pointer(nil), s.p), nil //nolint:govet // pinned C memory
}

func (s *staging) free(ctx *driver.Context) {
	if s.p != 0 {
		ctx.FreeHost(s.p)
		s.p, s.size, s.used = 0, 0, false
	}
}

// upload copies the bytes of src (a host slice) to dst through staging.
func upload[T any](b *Backend, dst engine.Tensor, src []T) {
	n := int64(len(src)) * int64(unsafe.Sizeof(src[0]))
	st := &b.staging[b.nextStage]
	b.nextStage = (b.nextStage + 1) % len(b.staging)
	host, err := st.get(b.ctx, n)
	if err != nil {
		b.record(err)
		return
	}
	copy(unsafe.Slice((*T)(host), len(src)), src)
	b.record(b.ctx.CopyHtoDAsync(ptr(dst), st.p, n, b.stream))
	b.record(b.ctx.Record(st.done, b.stream))
	st.used = true
}

// CopyIn converts src to dst's dtype on the host and copies it in.
func (b *Backend) CopyIn(dst engine.Tensor, src []float32) {
	if len(src) != dst.Numel() {
		panic(fmt.Sprintf("cuda: CopyIn: %d values for %v", len(src), dst))
	}
	if len(src) == 0 {
		return
	}
	defer b.ctx.Enter()()
	switch dst.DType {
	case engine.Float32:
		upload(b, dst, src)
	case engine.BFloat16, engine.Float16:
		conv := amp.ToBFloat16
		if dst.DType == engine.Float16 {
			conv = amp.ToFloat16
		}
		h := make([]uint16, len(src))
		for i, v := range src {
			h[i] = conv(v)
		}
		upload(b, dst, h)
	default:
		panic(fmt.Errorf("cuda: CopyIn to %v: %w (use CopyInInt32)", dst.DType, engine.ErrUnsupported))
	}
}

// CopyInInt32 copies labels or indices in.
func (b *Backend) CopyInInt32(dst engine.Tensor, src []int32) {
	if len(src) != dst.Numel() || dst.DType != engine.Int32 {
		panic(fmt.Sprintf("cuda: CopyInInt32: %d values for %v", len(src), dst))
	}
	if len(src) == 0 {
		return
	}
	defer b.ctx.Enter()()
	upload(b, dst, src)
}

// download waits for the stream and copies src's raw elements into dst.
func download[T any](b *Backend, dst []T, src engine.Tensor) error {
	n := int64(len(dst)) * int64(unsafe.Sizeof(dst[0]))
	// Device to pageable host memory returns only when the copy is done.
	err := b.ctx.CopyDtoHAsync(uintptr(unsafe.Pointer(&dst[0])), ptr(src), n, b.stream)
	if err == nil {
		err = b.ctx.SyncStream(b.stream)
	}
	runtime.KeepAlive(dst)
	return err
}

// CopyOut waits for queued work and copies src, as float32, into dst. On a
// device error dst is filled with NaN and Sync reports the error.
func (b *Backend) CopyOut(dst []float32, src engine.Tensor) {
	if len(dst) != src.Numel() {
		panic(fmt.Sprintf("cuda: CopyOut: %d values for %v", len(dst), src))
	}
	if len(dst) == 0 {
		return
	}
	defer b.ctx.Enter()()
	var err error
	switch src.DType {
	case engine.Float32:
		err = download(b, dst, src)
	case engine.Int32:
		tmp := make([]int32, len(dst))
		if err = download(b, tmp, src); err == nil {
			for i, v := range tmp {
				dst[i] = float32(v)
			}
		}
	default:
		tmp := make([]uint16, len(dst))
		conv := amp.FromBFloat16
		if src.DType == engine.Float16 {
			conv = amp.FromFloat16
		}
		if err = download(b, tmp, src); err == nil {
			for i, v := range tmp {
				dst[i] = conv(v)
			}
		}
	}
	if err != nil {
		b.record(err)
		nan := float32(math.NaN())
		for i := range dst {
			dst[i] = nan
		}
	}
}

// Copy writes dst = src, casting between float dtypes on the device.
func (b *Backend) Copy(dst, src engine.Tensor) {
	engine.SameShape("Copy", dst, src)
	defer b.ctx.Enter()()
	n := src.Numel()
	if dst.DType == src.DType {
		b.record(b.ctx.CopyDtoD(ptr(dst), ptr(src), int64(n*src.DType.Size()), b.stream))
		return
	}
	kernel := castKernel(src.DType, dst.DType)
	if kernel == "" {
		panic(fmt.Errorf("cuda: Copy %v to %v: %w", src.DType, dst.DType, engine.ErrUnsupported))
	}
	b.launch(kernel, n, b.a().Ptr(ptr(src)).Ptr(ptr(dst)).Int(n))
}

// castKernel names the kernel converting from to to, or "".
func castKernel(from, to engine.DType) string {
	switch {
	case from == engine.Float32 && to == engine.BFloat16:
		return "f32_to_bf16"
	case from == engine.BFloat16 && to == engine.Float32:
		return "bf16_to_f32"
	case from == engine.Float32 && to == engine.Float16:
		return "f32_to_f16"
	case from == engine.Float16 && to == engine.Float32:
		return "f16_to_f32"
	case from == engine.Int32 && to == engine.Float32:
		return "i32_to_f32"
	}
	return ""
}

// Fill writes v into every element of t.
func (b *Backend) Fill(t engine.Tensor, v float32) {
	defer b.ctx.Enter()()
	n := int64(t.Numel())
	switch t.DType {
	case engine.Float32:
		b.record(b.ctx.Memset32(ptr(t), bits(v), n, b.stream))
	case engine.Int32:
		b.record(b.ctx.Memset32(ptr(t), uint32(int32(v)), n, b.stream))
	case engine.BFloat16:
		b.record(b.ctx.Memset16(ptr(t), amp.ToBFloat16(v), n, b.stream))
	case engine.Float16:
		b.record(b.ctx.Memset16(ptr(t), amp.ToFloat16(v), n, b.stream))
	}
}

// scratch is a device buffer grown on demand and kept for reuse.
type scratch struct {
	b    *Backend
	p    uintptr
	size int64
}

// get returns at least n bytes; the contents are undefined.
func (s *scratch) get(n int64) (driver.Ptr, error) {
	if s.size >= n {
		return driver.Ptr(s.p), nil
	}
	s.free()
	p, err := s.b.mem.Alloc(n)
	if err != nil {
		return 0, err
	}
	s.p, s.size = p, n
	return driver.Ptr(p), nil
}

func (s *scratch) free() {
	if s.p != 0 {
		s.b.mem.Free(s.p)
		s.p, s.size = 0, 0
	}
}

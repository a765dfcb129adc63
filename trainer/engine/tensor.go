package engine

import "fmt"

// DType is the element type of a tensor. The engine computes in Float32
// today; the 16-bit floats exist so that a backend with mixed precision
// (the CUDA backend) can keep activations in half precision while master
// weights and optimizer state stay Float32. Int32 holds labels and indices.
type DType uint8

// Element types. The zero value is Float32, so a zero Tensor literal with a
// shape describes float32 data.
const (
	Float32  DType = iota // IEEE-754 binary32
	BFloat16              // bfloat16: float32's exponent, 7-bit mantissa
	Float16               // IEEE-754 binary16
	Int32                 // labels, argmax indices
)

// Size is the size of one element in bytes.
func (d DType) Size() int {
	switch d {
	case BFloat16, Float16:
		return 2
	default:
		return 4
	}
}

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case BFloat16:
		return "bfloat16"
	case Float16:
		return "float16"
	case Int32:
		return "int32"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// ParsePrecision maps a precision name as configs and flags spell it
// ("fp32" or "", "bf16", "fp16") to its data type.
func ParsePrecision(name string) (DType, bool) {
	switch name {
	case "", "fp32":
		return Float32, true
	case "bf16":
		return BFloat16, true
	case "fp16":
		return Float16, true
	}
	return 0, false
}

// MaxRank is the largest number of dimensions a tensor may have. Image
// tensors are NCHW (rank 4), matrices rank 2, vectors rank 1.
const MaxRank = 4

// Shape holds a tensor's dimensions, outermost first. Unused trailing
// entries are 0, so Shape{128, 10} is a 128x10 matrix and
// Shape{128, 3, 32, 32} a batch of 128 RGB 32x32 images in NCHW order.
// Shape is a value type: building one never allocates.
type Shape [MaxRank]int

// Rank is the number of leading non-zero dimensions.
func (s Shape) Rank() int {
	r := 0
	for r < MaxRank && s[r] != 0 {
		r++
	}
	return r
}

// Numel is the number of elements (1 for the zero Shape, a scalar).
func (s Shape) Numel() int {
	n := 1
	for _, d := range s {
		if d == 0 {
			break
		}
		n *= d
	}
	return n
}

// NCHW returns the shape as four dimensions, padding missing trailing ones
// with 1: a (N,K) matrix becomes (N,K,1,1).
func (s Shape) NCHW() (n, c, h, w int) {
	d := [MaxRank]int{1, 1, 1, 1}
	for i := 0; i < s.Rank(); i++ {
		d[i] = s[i]
	}
	return d[0], d[1], d[2], d[3]
}

func (s Shape) String() string {
	out := "("
	for i := 0; i < s.Rank(); i++ {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprint(s[i])
	}
	return out + ")"
}

// Buffer is a block of memory owned by one Backend: a Go slice on the CPU,
// a device pointer on a GPU. Code outside the backend that allocated it
// treats it as an opaque handle and moves data with Backend.CopyIn and
// Backend.CopyOut.
type Buffer interface {
	// Len is the capacity in elements of the buffer's DType.
	Len() int
	// DType is the element type the buffer was allocated with.
	DType() DType
}

// Tensor is a view of part of a Buffer: Shape elements of DType starting
// Off elements into Buf, contiguous, row-major (NCHW for images). A Tensor
// is a small value; copying it copies the view, never the data. The zero
// Tensor (Buf == nil) means "absent" where an op documents an optional
// argument.
type Tensor struct {
	Buf   Buffer
	Off   int // offset in elements from the start of Buf
	Shape Shape
	DType DType
}

// IsZero reports whether t is the absent tensor.
func (t Tensor) IsZero() bool { return t.Buf == nil }

// Numel is the number of elements in the view.
func (t Tensor) Numel() int { return t.Shape.Numel() }

// Dim returns dimension i, or 1 past the tensor's rank.
func (t Tensor) Dim(i int) int {
	if i < MaxRank && t.Shape[i] != 0 {
		return t.Shape[i]
	}
	return 1
}

// Slice returns rows [lo, hi) of the outermost dimension as a view sharing
// t's buffer. It is how a last, smaller mini-batch uses activation buffers
// sized for the full batch.
func (t Tensor) Slice(lo, hi int) Tensor {
	if lo < 0 || hi > t.Shape[0] || lo > hi {
		panic(fmt.Sprintf("engine: slice [%d:%d] of tensor %v", lo, hi, t.Shape))
	}
	inner := t.Numel() / t.Shape[0]
	v := t
	v.Off += lo * inner
	v.Shape[0] = hi - lo
	return v
}

// Reshape returns a view of t with shape s, which must hold the same
// number of elements.
func (t Tensor) Reshape(s Shape) Tensor {
	if s.Numel() != t.Numel() {
		panic(fmt.Sprintf("engine: reshape %v to %v", t.Shape, s))
	}
	t.Shape = s
	return t
}

// String describes the view, not the data.
func (t Tensor) String() string {
	return fmt.Sprintf("Tensor%v %v @%d", t.Shape, t.DType, t.Off)
}

// New allocates a zeroed tensor of shape s on b. It panics with an error
// wrapping ErrOutOfMemory when the backend cannot allocate; the trainer
// recovers that at the top of a run and reports it as the run's error.
func New(b Backend, dt DType, s Shape) Tensor {
	buf, err := b.Alloc(dt, s.Numel())
	if err != nil {
		panic(fmt.Errorf("allocate tensor %v %v: %w", s, dt, err))
	}
	return Tensor{Buf: buf, Shape: s, DType: dt}
}

// FromHost allocates a float32 tensor of shape s on b and copies data in.
func FromHost(b Backend, s Shape, data []float32) Tensor {
	if len(data) != s.Numel() {
		panic(fmt.Sprintf("engine: %d values for shape %v", len(data), s))
	}
	t := New(b, Float32, s)
	b.CopyIn(t, data)
	return t
}

// ToHost copies t's elements (converted to float32) into a new slice.
// It synchronises with the device.
func ToHost(b Backend, t Tensor) []float32 {
	out := make([]float32, t.Numel())
	b.CopyOut(out, t)
	return out
}

// SameShape panics, naming the op and both shapes, when a and b differ.
// Backends and layers use it for hot-path checks: a mismatch there is a
// programmer error.
func SameShape(op string, a, b Tensor) {
	if a.Shape != b.Shape {
		panic(fmt.Sprintf("engine: %s: shape %v vs %v", op, a.Shape, b.Shape))
	}
}

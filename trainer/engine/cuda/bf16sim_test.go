package cuda

import (
	"sweep/trainer/engine"
	"sweep/trainer/engine/cuda/amp"
)

// bf16Sim wraps a float32 backend and computes GEMM and convolutions the
// way SetPrecision(BFloat16) specifies: inputs rounded to bfloat16,
// float32 accumulation, convolution outputs rounded to bfloat16 (the
// cuDNN output dtype) and weight gradients accumulated in float32. It is
// the reference for the 16-bit path, so a model test can tell the
// rounding bfloat16 implies from a bug. Wrapping the float32 emulated
// backend, it must agree with SetPrecision(BFloat16) exactly.
type bf16Sim struct {
	engine.Backend
}

func (s bf16Sim) rounded(t engine.Tensor) engine.Tensor {
	h := engine.ToHost(s.Backend, t)
	for i, v := range h {
		h[i] = amp.FromBFloat16(amp.ToBFloat16(v))
	}
	return engine.FromHost(s.Backend, t.Shape, h)
}

func (s bf16Sim) roundInPlace(t engine.Tensor) {
	h := engine.ToHost(s.Backend, t)
	for i, v := range h {
		h[i] = amp.FromBFloat16(amp.ToBFloat16(v))
	}
	s.Backend.CopyIn(t, h)
}

func (s bf16Sim) free(ts ...engine.Tensor) {
	for _, t := range ts {
		s.Backend.Free(t.Buf)
	}
}

func (s bf16Sim) Gemm(ta, tb bool, alpha float32, a, b engine.Tensor, beta float32, c engine.Tensor) {
	ra, rb := s.rounded(a), s.rounded(b)
	s.Backend.Gemm(ta, tb, alpha, ra, rb, beta, c)
	s.free(ra, rb)
}

func (s bf16Sim) ConvForward(d engine.ConvDesc, x, w, y engine.Tensor) {
	rx, rw := s.rounded(x), s.rounded(w)
	s.Backend.ConvForward(d, rx, rw, y)
	s.roundInPlace(y)
	s.free(rx, rw)
}

func (s bf16Sim) ConvBackwardData(d engine.ConvDesc, dy, w, dx engine.Tensor) {
	rdy, rw := s.rounded(dy), s.rounded(w)
	s.Backend.ConvBackwardData(d, rdy, rw, dx)
	s.roundInPlace(dx)
	s.free(rdy, rw)
}

func (s bf16Sim) ConvBackwardFilter(d engine.ConvDesc, x, dy, dw engine.Tensor) {
	rx, rdy := s.rounded(x), s.rounded(dy)
	tmp := engine.New(s.Backend, engine.Float32, dw.Shape)
	s.Backend.ConvBackwardFilter(d, rx, rdy, tmp)
	s.roundInPlace(tmp)
	s.Backend.Axpy(1, tmp, dw)
	s.free(rx, rdy, tmp)
}

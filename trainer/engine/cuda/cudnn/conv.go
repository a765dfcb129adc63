package cudnn

import (
	"fmt"
	"unsafe"

	"sweep/trainer/engine/cuda/dynlib"
)

// AlgoPerf mirrors cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t, which
// share one 48-byte layout.
type AlgoPerf struct {
	Algo        int32
	Status      int32
	Time        float32 // milliseconds (Find only)
	_           int32
	Memory      uint64 // workspace bytes
	Determinism int32
	MathType    int32
	_           [4]int32
}

// ConvShape describes one convolution: x (N,C,H,W), w (K,C/G,R,S), y
// (N,K,P,Q) in NCHW, of one data type.
type ConvShape struct {
	N, C, H, W    int
	K, R, S       int
	P, Q          int
	StrideH       int
	StrideW       int
	PadH, PadW    int
	Groups        int
	DataType      int // Float, Half or BFloat16
	MathType      int // FMAMath for exact float32, DefaultMath to allow TF32/tensor cores
	WorkspaceSize int // upper bound for algorithm choice, bytes
}

// ConvPlan holds the descriptors and chosen algorithms of one ConvShape.
// It is created once per shape and reused every step.
type ConvPlan struct {
	h                  *Handle
	x, y               uintptr // tensor descriptors
	w                  uintptr // filter descriptor
	conv               uintptr
	FwdAlgo            int32
	BwdDataAlgo        int32
	BwdFilterAlgo      int32
	FwdWorkspace       int
	BwdDataWorkspace   int
	BwdFilterWorkspace int
}

// Workspace is the largest workspace any pass of p needs, in bytes.
func (p *ConvPlan) Workspace() int {
	return max(p.FwdWorkspace, p.BwdDataWorkspace, p.BwdFilterWorkspace)
}

// Plan creates descriptors for s and picks each pass's algorithm with
// cuDNN's heuristics (the _v7 queries, which run nothing on the GPU): the
// fastest suggestion that succeeds and fits s.WorkspaceSize.
func (h *Handle) Plan(s ConvShape) (*ConvPlan, error) {
	l := h.l
	p := &ConvPlan{h: h}
	steps := []struct {
		op string
		r  func() uintptr
	}{
		{"cudnnCreateTensorDescriptor", func() uintptr { return l.fn.CreateTensor.Call(uintptr(unsafe.Pointer(&p.x))) }},
		{"cudnnCreateTensorDescriptor", func() uintptr { return l.fn.CreateTensor.Call(uintptr(unsafe.Pointer(&p.y))) }},
		{"cudnnCreateFilterDescriptor", func() uintptr { return l.fn.CreateFilter.Call(uintptr(unsafe.Pointer(&p.w))) }},
		{"cudnnCreateConvolutionDescriptor", func() uintptr { return l.fn.CreateConv.Call(uintptr(unsafe.Pointer(&p.conv))) }},
		{"cudnnSetTensor4dDescriptor x", func() uintptr {
			return l.fn.SetTensor4d.Call(p.x, NCHW, uintptr(s.DataType), uintptr(s.N), uintptr(s.C), uintptr(s.H), uintptr(s.W))
		}},
		{"cudnnSetTensor4dDescriptor y", func() uintptr {
			return l.fn.SetTensor4d.Call(p.y, NCHW, uintptr(s.DataType), uintptr(s.N), uintptr(s.K), uintptr(s.P), uintptr(s.Q))
		}},
		{"cudnnSetFilter4dDescriptor", func() uintptr {
			return l.fn.SetFilter4d.Call(p.w, uintptr(s.DataType), NCHW, uintptr(s.K), uintptr(s.C/s.Groups), uintptr(s.R), uintptr(s.S))
		}},
		{"cudnnSetConvolution2dDescriptor", func() uintptr {
			// Accumulate in float32 whatever the storage type.
			return l.fn.SetConv2d.Call(p.conv, uintptr(s.PadH), uintptr(s.PadW), uintptr(s.StrideH), uintptr(s.StrideW), 1, 1,
				CrossCorrelation, Float)
		}},
		{"cudnnSetConvolutionGroupCount", func() uintptr { return l.fn.SetConvGroups.Call(p.conv, uintptr(s.Groups)) }},
		{"cudnnSetConvolutionMathType", func() uintptr { return l.fn.SetConvMath.Call(p.conv, uintptr(s.MathType)) }},
	}
	for _, st := range steps {
		if err := l.check(st.op, st.r()); err != nil {
			p.Close()
			return nil, fmt.Errorf("plan convolution %+v: %w", s, err)
		}
	}
	if err := p.chooseAlgos(s.WorkspaceSize); err != nil {
		p.Close()
		return nil, fmt.Errorf("plan convolution %+v: %w", s, err)
	}
	return p, nil
}

// pick returns the first successful suggestion that fits limit bytes.
func pick(perf []AlgoPerf, n int32, limit int) (int32, error) {
	for _, a := range perf[:n] {
		if a.Status == 0 && int(a.Memory) <= limit {
			return a.Algo, nil
		}
	}
	return 0, fmt.Errorf("cudnn: no algorithm among %d suggestions fits a %d-byte workspace", n, limit)
}

func (p *ConvPlan) chooseAlgos(limit int) error {
	l := p.h.l
	var perf [16]AlgoPerf
	var n int32
	queries := []struct {
		op   string
		call func() uintptr
		algo *int32
	}{
		{"cudnnGetConvolutionForwardAlgorithm_v7", func() uintptr {
			return l.fn.GetFwdAlgo.Call(p.h.h, p.x, p.w, p.conv, p.y, 16, uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&perf[0])))
		}, &p.FwdAlgo},
		{"cudnnGetConvolutionBackwardDataAlgorithm_v7", func() uintptr {
			return l.fn.GetBwdDataAlgo.Call(p.h.h, p.w, p.y, p.conv, p.x, 16, uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&perf[0])))
		}, &p.BwdDataAlgo},
		{"cudnnGetConvolutionBackwardFilterAlgorithm_v7", func() uintptr {
			return l.fn.GetBwdFilterAlgo.Call(p.h.h, p.x, p.y, p.conv, p.w, 16, uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&perf[0])))
		}, &p.BwdFilterAlgo},
	}
	for _, q := range queries {
		if err := l.check(q.op, q.call()); err != nil {
			return err
		}
		a, err := pick(perf[:], n, limit)
		if err != nil {
			return fmt.Errorf("%s: %w", q.op, err)
		}
		*q.algo = a
	}
	var ws [3]uint64
	sizes := []struct {
		op   string
		call func() uintptr
	}{
		{"cudnnGetConvolutionForwardWorkspaceSize", func() uintptr {
			return l.fn.FwdWorkspace.Call(p.h.h, p.x, p.w, p.conv, p.y, uintptr(p.FwdAlgo), uintptr(unsafe.Pointer(&ws[0])))
		}},
		{"cudnnGetConvolutionBackwardDataWorkspaceSize", func() uintptr {
			return l.fn.BwdDataWorkspace.Call(p.h.h, p.w, p.y, p.conv, p.x, uintptr(p.BwdDataAlgo), uintptr(unsafe.Pointer(&ws[1])))
		}},
		{"cudnnGetConvolutionBackwardFilterWorkspaceSize", func() uintptr {
			return l.fn.BwdFiltWorkspace.Call(p.h.h, p.x, p.y, p.conv, p.w, uintptr(p.BwdFilterAlgo), uintptr(unsafe.Pointer(&ws[2])))
		}},
	}
	for _, s := range sizes {
		if err := l.check(s.op, s.call()); err != nil {
			return err
		}
	}
	p.FwdWorkspace, p.BwdDataWorkspace, p.BwdFilterWorkspace = int(ws[0]), int(ws[1]), int(ws[2])
	return nil
}

// Forward writes y = conv(x, w) (beta 0).
func (p *ConvPlan) Forward(x, w, y, ws uintptr, wsSize int) error {
	one, zero := float32(1), float32(0)
	l := p.h.l
	return l.check("cudnnConvolutionForward", l.fn.ConvFwd.Call(p.h.h, uintptr(unsafe.Pointer(&one)), p.x, x, p.w, w,
		p.conv, uintptr(p.FwdAlgo), ws, uintptr(wsSize), uintptr(unsafe.Pointer(&zero)), p.y, y))
}

// BackwardData writes dx from dy and w (beta 0).
func (p *ConvPlan) BackwardData(w, dy, dx, ws uintptr, wsSize int) error {
	one, zero := float32(1), float32(0)
	l := p.h.l
	return l.check("cudnnConvolutionBackwardData", l.fn.ConvBwdData.Call(p.h.h, uintptr(unsafe.Pointer(&one)), p.w, w,
		p.y, dy, p.conv, uintptr(p.BwdDataAlgo), ws, uintptr(wsSize), uintptr(unsafe.Pointer(&zero)), p.x, dx))
}

// BackwardFilter writes dw = beta·dw + the filter gradient from x and dy
// (beta 1 accumulates).
func (p *ConvPlan) BackwardFilter(x, dy, dw, ws uintptr, wsSize int, beta float32) error {
	one := float32(1)
	l := p.h.l
	return l.check("cudnnConvolutionBackwardFilter", l.fn.ConvBwdFilter.Call(p.h.h, uintptr(unsafe.Pointer(&one)), p.x, x,
		p.y, dy, p.conv, uintptr(p.BwdFilterAlgo), ws, uintptr(wsSize), uintptr(unsafe.Pointer(&beta)), p.w, dw))
}

// Close destroys p's descriptors.
func (p *ConvPlan) Close() {
	l := p.h.l
	for _, d := range []struct {
		f dynlib.Func
		h uintptr
	}{{l.fn.DestroyTensor, p.x}, {l.fn.DestroyTensor, p.y}, {l.fn.DestroyFilter, p.w}, {l.fn.DestroyConv, p.conv}} {
		if d.h != 0 {
			d.f.Call(d.h)
		}
	}
}

// Buffers are scratch device memory for algorithm search: x, w and y sized
// for the plan's shape, and a workspace of Limit bytes. Search writes into
// all of them, so they must not hold live tensors.
type Buffers struct {
	X, W, Y, Workspace uintptr
	Limit              int
}

// Search replaces the heuristic choices of p with the fastest algorithms
// measured by cudnnFind*AlgorithmEx (which runs each candidate on the GPU),
// among those that succeed within buf.Limit workspace bytes. On any error
// p keeps its heuristic algorithms and the error is returned.
func (p *ConvPlan) Search(buf Buffers) error {
	l := p.h.l
	var perf [16]AlgoPerf
	var n int32
	type result struct {
		algo *int32
		ws   *int
	}
	searches := []struct {
		op   string
		call func() uintptr
		out  result
	}{
		{"cudnnFindConvolutionForwardAlgorithmEx", func() uintptr {
			return l.fn.FindFwdAlgo.Call(p.h.h, p.x, buf.X, p.w, buf.W, p.conv, p.y, buf.Y, 16,
				uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&perf[0])), buf.Workspace, uintptr(buf.Limit))
		}, result{&p.FwdAlgo, &p.FwdWorkspace}},
		{"cudnnFindConvolutionBackwardDataAlgorithmEx", func() uintptr {
			return l.fn.FindBwdDataAlgo.Call(p.h.h, p.w, buf.W, p.y, buf.Y, p.conv, p.x, buf.X, 16,
				uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&perf[0])), buf.Workspace, uintptr(buf.Limit))
		}, result{&p.BwdDataAlgo, &p.BwdDataWorkspace}},
		{"cudnnFindConvolutionBackwardFilterAlgorithmEx", func() uintptr {
			return l.fn.FindBwdFiltAlgo.Call(p.h.h, p.x, buf.X, p.y, buf.Y, p.conv, p.w, buf.W, 16,
				uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&perf[0])), buf.Workspace, uintptr(buf.Limit))
		}, result{&p.BwdFilterAlgo, &p.BwdFilterWorkspace}},
	}
	found := make([]AlgoPerf, len(searches))
	for i, s := range searches {
		if err := l.check(s.op, s.call()); err != nil {
			return err
		}
		best := -1
		for j, a := range perf[:n] { // Find sorts by time: the first usable is fastest
			if a.Status == 0 && int(a.Memory) <= buf.Limit {
				best = j
				break
			}
		}
		if best < 0 {
			return fmt.Errorf("%s: no algorithm among %d fits a %d-byte workspace", s.op, n, buf.Limit)
		}
		found[i] = perf[best]
	}
	for i, s := range searches {
		*s.out.algo, *s.out.ws = found[i].Algo, int(found[i].Memory)
	}
	return nil
}

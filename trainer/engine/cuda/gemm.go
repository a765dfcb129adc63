package cuda

import (
	"fmt"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cuda/cublas"
	"sweep/trainer/engine/cuda/cudnn"
	"sweep/trainer/engine/cuda/driver"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C (row-major) in cuBLAS:
// float32 inputs with Sgemm (TF32 when allowed), 16-bit inputs with GemmEx
// and float32 accumulation into a C of either float32 or the input type.
func (b *Backend) Gemm(transA, transB bool, alpha float32, a, bm engine.Tensor, beta float32, c engine.Tensor) {
	m, k := a.Dim(0), a.Dim(1)
	if transA {
		m, k = k, m
	}
	kb, n := bm.Dim(0), bm.Dim(1)
	if transB {
		kb, n = n, kb
	}
	if kb != k || c.Dim(0) != m || c.Dim(1) != n || a.Shape.Rank() != 2 || bm.Shape.Rank() != 2 {
		panic(fmt.Sprintf("cuda: Gemm: shapes %v%s × %v%s → %v", a.Shape, tr(transA), bm.Shape, tr(transB), c.Shape))
	}
	if a.DType != bm.DType {
		panic(fmt.Sprintf("cuda: Gemm: dtypes %v × %v", a.DType, bm.DType))
	}
	defer b.ctx.Enter()()
	g := cublas.Gemm{TransA: transA, TransB: transB, M: m, N: n, K: k, Alpha: alpha, Beta: beta,
		A: uintptr(ptr(a)), B: uintptr(ptr(bm)), C: uintptr(ptr(c))}
	b.record(b.gemm(g, a.DType, c.DType))
}

func tr(t bool) string {
	if t {
		return "ᵀ"
	}
	return ""
}

var cublasType = map[engine.DType]int{engine.Float32: cublas.R32F, engine.BFloat16: cublas.R16BF, engine.Float16: cublas.R16F}

// gemm runs g with inputs of dtype in and output of dtype out.
func (b *Backend) gemm(g cublas.Gemm, in, out engine.DType) error {
	if in == engine.Float32 && out == engine.Float32 {
		if b.prec != engine.Float32 && b.halfGemm(g) {
			return nil
		}
		return b.blas.Sgemm(g)
	}
	ti, okIn := cublasType[in]
	to, okOut := cublasType[out]
	if !okIn || !okOut || in == engine.Float32 {
		panic(fmt.Errorf("cuda: Gemm %v → %v: %w", in, out, engine.ErrUnsupported))
	}
	return b.blas.GemmEx(g, ti, to, cublas.Compute32F)
}

// ───────────────────────────── convolution ──────────────────────────────

type convKey struct {
	n, c, h, w, k, r, s int
	d                   engine.ConvDesc
	dt                  engine.DType
}

type convGeom struct {
	n, c, h, w, k, cg, r, s, p, q int
	d                             engine.ConvDesc
}

func geometry(op string, d engine.ConvDesc, x, w, y engine.Tensor) convGeom {
	d = d.Norm()
	var g convGeom
	g.d = d
	g.n, g.c, g.h, g.w = x.Shape.NCHW()
	g.k, g.cg, g.r, g.s = w.Shape.NCHW()
	g.p, g.q = d.OutSize(g.h, g.w, g.r, g.s)
	if g.c != g.cg*d.Groups || g.k%d.Groups != 0 || y.Shape != (engine.Shape{g.n, g.k, g.p, g.q}) {
		panic(fmt.Sprintf("cuda: %s: x %v, w %v, y %v, groups %d", op, x.Shape, w.Shape, y.Shape, d.Groups))
	}
	return g
}

// The three convolution passes, as passKey and notices name them.
const (
	passForward        = "forward"
	passBackwardData   = "backward data"
	passBackwardFilter = "backward filter"
)

// key identifies g's plan in dtype dt.
func (b *Backend) key(g convGeom, dt engine.DType) convKey {
	return convKey{g.n, g.c, g.h, g.w, g.k, g.r, g.s, g.d, dt}
}

func (b *Backend) plan(g convGeom, dt engine.DType) (*cudnn.ConvPlan, error) {
	key := b.key(g, dt)
	if p, ok := b.plans[key]; ok {
		return p, nil
	}
	math := cudnn.FMAMath
	if b.opts.TF32 || dt != engine.Float32 {
		math = cudnn.DefaultMath
	}
	limit := b.opts.WorkspaceLimit
	if limit == 0 {
		limit = 256 << 20
	}
	p, err := b.dnn.Plan(cudnn.ConvShape{N: g.n, C: g.c, H: g.h, W: g.w, K: g.k, R: g.r, S: g.s, P: g.p, Q: g.q,
		StrideH: g.d.StrideH, StrideW: g.d.StrideW, PadH: g.d.PadH, PadW: g.d.PadW, Groups: g.d.Groups,
		DataType: cudnnType(dt), MathType: math, WorkspaceSize: limit})
	if err != nil {
		return nil, err
	}
	if b.opts.Search {
		b.search(p, g, dt, limit)
	}
	b.plans[key] = p
	return p, nil
}

// search runs the plan's algorithm search on scratch tensors. A failed
// search is not an error of the computation: the heuristic choices stay.
func (b *Backend) search(p *cudnn.ConvPlan, g convGeom, dt engine.DType, limit int) {
	size := int64(dt.Size())
	var bufs [4]scratch
	var ptrs [4]driver.Ptr
	for i, n := range []int64{int64(g.n * g.c * g.h * g.w), int64(g.k * g.cg * g.r * g.s), int64(g.n * g.k * g.p * g.q), 0} {
		bytes := n * size
		if i == 3 {
			bytes = int64(limit)
		}
		bufs[i].b = b
		ptr, err := bufs[i].get(max(bytes, 1))
		if err != nil {
			return // no memory to search with: keep the heuristics
		}
		ptrs[i] = ptr
	}
	_ = p.Search(cudnn.Buffers{X: uintptr(ptrs[0]), W: uintptr(ptrs[1]), Y: uintptr(ptrs[2]),
		Workspace: uintptr(ptrs[3]), Limit: limit})
	for i := range bufs {
		bufs[i].free()
	}
}

func cudnnType(dt engine.DType) int {
	switch dt {
	case engine.BFloat16:
		return cudnn.BFloat16
	case engine.Float16:
		return cudnn.Half
	}
	return cudnn.Float
}

// convPass runs one cuDNN pass (forward, backward data or backward
// filter) with the plan's workspace. Planning fails for shapes or dtypes
// cuDNN does not support, and a 16-bit plan's first execution runs
// synchronously (see checked); both errors are returned, so a 16-bit
// attempt can fall back to float32. Later execution errors are recorded.
func (b *Backend) convPass(g convGeom, dt engine.DType, pass string, run func(p *cudnn.ConvPlan, ws uintptr, size int) error) error {
	p, err := b.plan(g, dt)
	if err != nil {
		return err
	}
	size := p.Workspace()
	ws, err := b.workspace.get(int64(max(size, 1)))
	if err != nil {
		panic(fmt.Errorf("cuda: convolution workspace: %w", err))
	}
	exec := func() error { return run(p, uintptr(ws), size) }
	if dt == engine.Float32 {
		b.record(exec())
		return nil
	}
	return b.checked(passKey{b.key(g, dt), pass}, exec)
}

// passKey names one pass of one convolution plan.
type passKey struct {
	conv convKey
	pass string
}

// mustConv runs a cuDNN pass that has no fallback; failing to plan it is a
// programmer error (an impossible shape), so it panics.
func (b *Backend) mustConv(g convGeom, dt engine.DType, pass string, run func(p *cudnn.ConvPlan, ws uintptr, size int) error) {
	if err := b.convPass(g, dt, pass, run); err != nil {
		panic(fmt.Errorf("cuda: %w", err))
	}
}

// ConvForward writes y = x ⋆ w (cuDNN, or im2col + GEMM per image and group).
func (b *Backend) ConvForward(d engine.ConvDesc, x, w, y engine.Tensor) {
	g := geometry("ConvForward", d, x, w, y)
	defer b.ctx.Enter()()
	if b.dnn != nil {
		if b.autocast(g, x, w, y) && b.halfConvForward(g, x, w, y) {
			return
		}
		b.mustConv(g, x.DType, passForward, func(p *cudnn.ConvPlan, ws uintptr, size int) error {
			return p.Forward(uintptr(ptr(x)), uintptr(ptr(w)), uintptr(ptr(y)), ws, size)
		})
		return
	}
	f32("ConvForward (im2col)", x, w, y)
	col := b.colBuffer(g)
	for i := 0; i < g.n; i++ {
		b.im2col(g, offset(ptr(x), i*g.c*g.h*g.w), col)
		b.groupGemms(g, false, true, ptr(w), col, offset(ptr(y), i*g.k*g.p*g.q), 0)
	}
}

// ConvBackwardData writes dx from dy and w.
func (b *Backend) ConvBackwardData(d engine.ConvDesc, dy, w, dx engine.Tensor) {
	g := geometry("ConvBackwardData", d, dx, w, dy)
	defer b.ctx.Enter()()
	if b.dnn != nil {
		if b.autocast(g, dy, w, dx) && b.halfConvBackwardData(g, dy, w, dx) {
			return
		}
		b.mustConv(g, dy.DType, passBackwardData, func(p *cudnn.ConvPlan, ws uintptr, size int) error {
			return p.BackwardData(uintptr(ptr(w)), uintptr(ptr(dy)), uintptr(ptr(dx)), ws, size)
		})
		return
	}
	f32("ConvBackwardData (im2col)", dy, w, dx)
	col := b.colBuffer(g)
	for i := 0; i < g.n; i++ {
		b.groupGemms(g, true, false, ptr(w), offset(ptr(dy), i*g.k*g.p*g.q), col, 0)
		b.col2im(g, col, offset(ptr(dx), i*g.c*g.h*g.w))
	}
}

// ConvBackwardFilter accumulates into dw from x and dy.
func (b *Backend) ConvBackwardFilter(d engine.ConvDesc, x, dy, dw engine.Tensor) {
	g := geometry("ConvBackwardFilter", d, x, dw, dy)
	defer b.ctx.Enter()()
	if b.dnn != nil {
		if b.autocast(g, x, dy, dw) && b.halfConvBackwardFilter(g, x, dy, dw) {
			return
		}
		b.mustConv(g, x.DType, passBackwardFilter, func(p *cudnn.ConvPlan, ws uintptr, size int) error {
			return p.BackwardFilter(uintptr(ptr(x)), uintptr(ptr(dy)), uintptr(ptr(dw)), ws, size, 1)
		})
		return
	}
	f32("ConvBackwardFilter (im2col)", x, dy, dw)
	col := b.colBuffer(g)
	for i := 0; i < g.n; i++ {
		b.im2col(g, offset(ptr(x), i*g.c*g.h*g.w), col)
		b.groupGemms(g, false, false, offset(ptr(dy), i*g.k*g.p*g.q), col, ptr(dw), 1)
	}
}

func offset(p driver.Ptr, elems int) driver.Ptr { return p + driver.Ptr(4*elems) }

func (b *Backend) colBuffer(g convGeom) driver.Ptr {
	col, err := b.workspace.get(int64(4 * g.c * g.r * g.s * g.p * g.q))
	if err != nil {
		panic(fmt.Errorf("cuda: im2col buffer: %w", err))
	}
	return col
}

func (b *Backend) im2col(g convGeom, x, col driver.Ptr) {
	d := g.d
	b.launch("im2col_f32", g.c*g.r*g.s*g.p*g.q, b.a().Ptr(x).Ptr(col).Int(g.c).Int(g.h).Int(g.w).Int(g.r).Int(g.s).
		Int(g.p).Int(g.q).Int(d.StrideH).Int(d.StrideW).Int(d.PadH).Int(d.PadW))
}

func (b *Backend) col2im(g convGeom, col, dx driver.Ptr) {
	d := g.d
	b.launch("col2im_f32", g.c*g.h*g.w, b.a().Ptr(col).Ptr(dx).Int(g.c).Int(g.h).Int(g.w).Int(g.r).Int(g.s).
		Int(g.p).Int(g.q).Int(d.StrideH).Int(d.StrideW).Int(d.PadH).Int(d.PadW))
}

// groupGemms runs, for each group, one of the three products of a
// convolution on one image, with w (K, Cg·R·S), col (C·R·S, P·Q) and
// y (K, P·Q) split into per-group row blocks:
//
//	forward:        y   = w · col            (transA false, "outIsY" true)
//	backward data:  col = wᵀ · dy            (transA true)
//	backward filter: dw += dy · colᵀ         (neither; first operand is dy)
func (b *Backend) groupGemms(g convGeom, transA, outIsY bool, first, second, out driver.Ptr, beta float32) {
	groups := g.d.Groups
	kg, crs, pq := g.k/groups, g.cg*g.r*g.s, g.p*g.q
	for gi := 0; gi < groups; gi++ {
		var gm cublas.Gemm
		switch {
		case outIsY: // y_g (kg, pq) = w_g (kg, crs) · col_g (crs, pq)
			gm = cublas.Gemm{M: kg, N: pq, K: crs, A: uintptr(offset(first, gi*kg*crs)),
				B: uintptr(offset(second, gi*crs*pq)), C: uintptr(offset(out, gi*kg*pq))}
		case transA: // col_g (crs, pq) = w_gᵀ · dy_g (kg, pq)
			gm = cublas.Gemm{TransA: true, M: crs, N: pq, K: kg, A: uintptr(offset(first, gi*kg*crs)),
				B: uintptr(offset(second, gi*kg*pq)), C: uintptr(offset(out, gi*crs*pq))}
		default: // dw_g (kg, crs) += dy_g (kg, pq) · col_gᵀ
			gm = cublas.Gemm{TransB: true, M: kg, N: crs, K: pq, A: uintptr(offset(first, gi*kg*pq)),
				B: uintptr(offset(second, gi*crs*pq)), C: uintptr(offset(out, gi*kg*crs))}
		}
		gm.Alpha, gm.Beta = 1, beta
		b.record(b.blas.Sgemm(gm))
	}
}

package cpu

import (
	"fmt"

	"sweep/trainer/engine"
)

// Convolutions run as im2col + SGEMM over chunks of nb images. For one
// chunk and group, col is (C/G·R·S, nb·P·Q): row (c,r,s), column (n,p,q).
// The GEMM then produces the output in (K, nb, P·Q) order, which a permute
// turns into NCHW. Batching nb images into one GEMM keeps its n dimension
// near colsPerGEMM for the small feature maps of late layers, where one
// image's P·Q is only 64, while col stays small enough for the L2 cache
// (512 columns measured best, by single-thread CPU time, among 256..4096 on
// tiny's convolutions). With the bf16 GEMM, stride-1 same-width forward
// convolutions never build col: the GEMM's packing asks im2colRows for two
// rows at a time and rounds them into its panels while they are in L1
// (forward passes 1.0-1.4x faster at fastnet's shapes than packing a
// materialised col, both timed alternately in one run). In the input
// gradient the GEMM hands col over in blocks of whole channels to col2im
// while they are in L2 (1.0-1.14x). The same for the weight gradient,
// whose col rows would be made again per depth slice, measured 0.86-1.0x
// and is not done. Results are bit-identical either way
// (TestConv_BF16Streaming).
const colsPerGEMM = 512

// convGeom is a convolution's sizes, checked against the tensors.
type convGeom struct {
	n, c, h, w, k, r, s, p, q int
	sh, sw, ph, pw, g         int
	cg, kg                    int // channels and filters per group
}

func geometry(op string, d engine.ConvDesc, x, w, y engine.Tensor) convGeom {
	d = d.Norm()
	var g convGeom
	g.n, g.c, g.h, g.w = x.Shape.NCHW()
	var cg int
	g.k, cg, g.r, g.s = w.Shape.NCHW()
	g.sh, g.sw, g.ph, g.pw, g.g = d.StrideH, d.StrideW, d.PadH, d.PadW, d.Groups
	g.p, g.q = d.OutSize(g.h, g.w, g.r, g.s)
	yn, yk, yp, yq := y.Shape.NCHW()
	if g.c%g.g != 0 || g.k%g.g != 0 || cg != g.c/g.g || yn != g.n || yk != g.k || yp != g.p || yq != g.q {
		panic(fmt.Sprintf("cpu: %s: x %v w %v y %v groups %d", op, x.Shape, w.Shape, y.Shape, g.g))
	}
	g.cg, g.kg = g.c/g.g, g.k/g.g
	return g
}

// chunk is the number of images per GEMM.
func (g convGeom) chunk() int {
	return max(1, min(g.n, colsPerGEMM/(g.p*g.q)))
}

const (
	convFwd = iota
	convBwdData
	convBwdFilter
	convBwd // both gradients from one transposed dy per chunk
)

func (b *Backend) ConvForward(d engine.ConvDesc, x, w, y engine.Tensor) {
	g := geometry("ConvForward", d, x, w, y)
	b.conv(convFwd, g, f32(x), f32(w), f32(y))
}

func (b *Backend) ConvBackwardData(d engine.ConvDesc, dy, w, dx engine.Tensor) {
	g := geometry("ConvBackwardData", d, dx, w, dy)
	b.conv(convBwdData, g, f32(dy), f32(w), f32(dx))
}

func (b *Backend) ConvBackwardFilter(d engine.ConvDesc, x, dy, dw engine.Tensor) {
	g := geometry("ConvBackwardFilter", d, x, dw, dy)
	t := b.conv(convBwdFilter, g, f32(x), f32(dy), f32(dw))
	b.sumFilterParts(t, f32(dw))
}

// ConvBackward is ConvBackwardFilter (dw accumulates) then
// ConvBackwardData (dx is overwritten), bit for bit, with one transposed
// copy of each chunk of dy instead of two: that copy moves all of dy
// through memory, about 3% of a fastnet training step.
func (b *Backend) ConvBackward(d engine.ConvDesc, x, dy, w, dw, dx engine.Tensor) {
	g := geometry("ConvBackward", d, x, dw, dy)
	geometry("ConvBackward", d, dx, w, dy)
	t := b.runConv(convTask{op: convBwd, g: g, in0: f32(x), in1: f32(dy), out: f32(dw), w: f32(w), dx: f32(dx)})
	b.sumFilterParts(t, f32(dw))
}

// sumFilterParts adds the weight-gradient partial sums of parts 1.. into
// dw (part 0 accumulated into dw itself).
func (b *Backend) sumFilterParts(t *convTask, dw []float32) {
	for i := 1; i < t.parts; i++ { // fixed order: deterministic
		for j, v := range b.parts[i].dw[:len(dw)] {
			dw[j] += v
		}
	}
}

// conv splits the batch into chunks of g.chunk() images and the chunks
// into at most convParts contiguous parts, run in parallel.
func (b *Backend) conv(op int, g convGeom, in0, in1, out []float32) *convTask {
	return b.runConv(convTask{op: op, g: g, in0: in0, in1: in1, out: out})
}

// runConv runs c (op, g and the slices set) as conv describes.
func (b *Backend) runConv(c convTask) *convTask {
	c.b, c.nb = b, c.g.chunk()
	c.chunks = (c.g.n + c.nb - 1) / c.nb
	c.parts = min(c.chunks, convParts)
	t := &b.k.conv
	*t = c
	for i := 0; i < t.parts; i++ {
		b.part(i)
	}
	b.pool.For(t.parts, 1, t)
	return t
}

// convTask runs whole parts: part i owns chunks [i·chunks/parts,
// (i+1)·chunks/parts) and b.parts[i]'s scratch memory. Forward: in0 = x,
// in1 = w, out = y. Backward data: in0 = dy, in1 = w, out = dx. Backward
// filter: in0 = x, in1 = dy, out = dw (part 0 accumulates into out, the
// others into their own partial sums, added afterwards). Both backward:
// as backward filter, plus w and dx.
type convTask struct {
	b                 *Backend
	g                 convGeom
	op                int
	in0, in1, out     []float32
	w, dx             []float32 // convBwd only
	nb, chunks, parts int
}

func (t *convTask) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		p := t.b.parts[i]
		first := true
		for c := i * t.chunks / t.parts; c < (i+1)*t.chunks/t.parts; c++ {
			n0 := c * t.nb
			nb := min(t.nb, t.g.n-n0)
			switch t.op {
			case convFwd:
				t.forward(p, n0, nb)
			case convBwdData:
				t.backwardData(p, t.in1, t.out, n0, nb, transposedGrad(p, t.g, t.in0, n0, nb))
			case convBwdFilter:
				t.backwardFilter(p, i, first, n0, nb, transposedGrad(p, t.g, t.in1, n0, nb))
			case convBwd:
				dyT := transposedGrad(p, t.g, t.in1, n0, nb)
				t.backwardFilter(p, i, first, n0, nb, dyT)
				t.backwardData(p, t.w, t.dx, n0, nb, dyT)
			}
			first = false
		}
	}
}

func (t *convTask) forward(p *part, n0, nb int) {
	g := t.g
	pq, crs := g.p*g.q, g.cg*g.r*g.s
	y := t.out[n0*g.k*pq : (n0+nb)*g.k*pq]
	yT := y
	if nb > 1 {
		yT = grow(&p.colT, g.k*nb*pq)
	}
	for gi := 0; gi < g.g; gi++ {
		if t.b.mode == BF16 && !t.b.noStream && g.sh == 1 && g.sw == 1 && g.q == g.w {
			// The bf16 GEMM packs col rows as im2col makes them.
			p.rows = im2colRows{g: g, xs: t.in0, sh: shifts(p, g), n0: n0, nb: nb, gi: gi}
			p.bf16.asm = t.b.bf16Asm
			p.bf16.gemmRows(false, g.kg, nb*pq, crs, 1, t.in1[gi*g.kg*crs:], crs, &p.rows, 0, yT[gi*g.kg*nb*pq:], nb*pq)
			continue
		}
		col := im2col(p, g, t.in0, n0, nb, gi)
		t.b.gemmSerial(p, false, false, g.kg, nb*pq, crs, 1, t.in1[gi*g.kg*crs:], crs, col, nb*pq, 0, yT[gi*g.kg*nb*pq:], nb*pq)
	}
	if nb > 1 {
		permute(yT, y, g.k, nb, pq, false)
	}
}

// backwardData writes dx for images [n0, n0+nb) from weights w and dyT,
// their dy in (K, nb, P·Q) order (transposedGrad).
func (t *convTask) backwardData(p *part, w, dx []float32, n0, nb int, dyT []float32) {
	g := t.g
	pq, crs := g.p*g.q, g.cg*g.r*g.s
	for gi := 0; gi < g.g; gi++ {
		if t.b.mode == BF16 && !t.b.noStream && g.kg <= bf16KC && nb*pq <= bf16NC {
			// The bf16 GEMM hands over col in blocks of whole channels,
			// scattered into dx while they are in L2.
			rs := g.r * g.s
			step := rs * 8 / gcd(rs, 8)
			p.sink = col2imSink{g: g, dx: dx, n0: n0, nb: nb, gi: gi}
			p.bf16.asm = t.b.bf16Asm
			p.bf16.gemmSink(true, false, crs, nb*pq, g.kg, max(step, bf16MC/step*step), 1, w[gi*g.kg*crs:], crs, dyT[gi*g.kg*nb*pq:], nb*pq, &p.sink)
			continue
		}
		col := grow(&p.col, crs*nb*pq)
		t.b.gemmSerial(p, true, false, crs, nb*pq, g.kg, 1, w[gi*g.kg*crs:], crs, dyT[gi*g.kg*nb*pq:], nb*pq, 0, col, nb*pq)
		c2i := im2colTask{g: g, img: dx, col: col, n0: n0, nb: nb, gi: gi, back: true}
		c2i.run(0, g.cg*nb)
	}
}

// backwardFilter adds images [n0, n0+nb)'s weight gradient from dyT (see
// backwardData) to part i's sum.
func (t *convTask) backwardFilter(p *part, i int, first bool, n0, nb int, dyT []float32) {
	g := t.g
	pq, crs := g.p*g.q, g.cg*g.r*g.s
	dw, beta := t.out, float32(1)
	if i > 0 {
		dw = grow(&p.dw, len(t.out))
		if first {
			beta = 0
		}
	}
	for gi := 0; gi < g.g; gi++ {
		col := im2col(p, g, t.in0, n0, nb, gi)
		t.b.gemmSerial(p, false, true, g.kg, crs, nb*pq, 1, dyT[gi*g.kg*nb*pq:], nb*pq, col, nb*pq, beta, dw[gi*g.kg*crs:], crs)
	}
}

// col2imSink is col2im for the bf16 GEMM's finished row blocks: rows
// [i0, i0+mc) of col, whole channels, scatter-added into their dx planes.
type col2imSink struct {
	g          convGeom
	dx         []float32
	n0, nb, gi int
}

func (s *col2imSink) rows(i0, mc int, col []float32) {
	rs := s.g.r * s.g.s
	c0, c1 := i0/rs, (i0+mc)/rs
	t := im2colTask{g: s.g, img: s.dx, col: col, n0: s.n0, nb: s.nb, gi: s.gi, back: true, c0: c0}
	t.run(c0*s.nb, c1*s.nb)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// transposedGrad returns dy for images [n0, n0+nb) in (K, nb, P·Q) order.
func transposedGrad(p *part, g convGeom, dys []float32, n0, nb int) []float32 {
	pq := g.p * g.q
	src := dys[n0*g.k*pq : (n0+nb)*g.k*pq]
	if nb == 1 {
		return src
	}
	dyT := grow(&p.colT, g.k*nb*pq)
	permute(dyT, src, g.k, nb, pq, true)
	return dyT
}

// im2col fills p.col for group gi of images [n0, n0+nb).
func im2col(p *part, g convGeom, xs []float32, n0, nb, gi int) []float32 {
	col := grow(&p.col, g.cg*g.r*g.s*nb*g.p*g.q)
	if g.sh == 1 && g.sw == 1 && g.q == g.w {
		im2colSamePlanes(p, g, xs, col, n0, nb, gi)
		return col
	}
	t := im2colTask{g: g, img: xs, col: col, n0: n0, nb: nb, gi: gi}
	t.run(0, g.cg*nb*g.r)
	return col
}

// shift is where one filter tap (r, s) of a stride-1, same-width
// convolution reads: rows [plo, phi) of its col row are plane[slo:] copied
// to [dlo, dhi), the rest zero, with columns [0, qlo) and [qhi, Q) of the
// copied rows cleared afterwards (they wrapped around a row edge).
type shift struct {
	plo, phi, dlo, dhi, slo, qlo, qhi int
}

// shifts returns the R·S taps' shifts in p's scratch memory.
func shifts(p *part, g convGeom) []shift {
	if cap(p.shifts) < g.r*g.s {
		p.shifts = make([]shift, g.r*g.s)
	}
	out := p.shifts[:g.r*g.s]
	for r := 0; r < g.r; r++ {
		for s := 0; s < g.s; s++ {
			var sh shift
			sh.plo, sh.phi = validRange(g.p, g.h, 1, g.ph, r)
			sh.qlo, sh.qhi = validRange(g.q, g.w, 1, g.pw, s)
			if sh.plo < sh.phi {
				sh.dlo, sh.dhi = sh.plo*g.q, sh.phi*g.q
				sh.slo = (sh.plo-g.ph+r)*g.w + s - g.pw
				if sh.slo < 0 { // a border element before the plane
					sh.dlo -= sh.slo
					sh.slo = 0
				}
				if over := sh.slo + sh.dhi - sh.dlo - g.h*g.w; over > 0 {
					sh.dhi -= over
				}
				// Planes narrower than the padding: only border columns left.
				sh.dhi = max(sh.dhi, 0)
				sh.dlo, sh.slo = min(sh.dlo, sh.dhi), min(sh.slo, g.h*g.w)

			}
			out[r*g.s+s] = sh
		}
	}
	return out
}

// im2colSamePlanes is im2col for stride 1 and Q = W, plane by plane with the
// taps' shifts computed once per call: each col row is one copy, two
// clears and the border columns, with no per-row range arithmetic (which
// cost more than the copies on 8x8 planes).
func im2colSamePlanes(p *part, g convGeom, xs, col []float32, n0, nb, gi int) {
	pq, hw := g.p*g.q, g.h*g.w
	ld := nb * pq
	sh := shifts(p, g)
	for c := 0; c < g.cg; c++ {
		for n := 0; n < nb; n++ {
			plane := xs[((n0+n)*g.c+gi*g.cg+c)*hw:][:hw]
			for k, t := range sh {
				shiftRow(g, col[(c*len(sh)+k)*ld+n*pq:][:pq], plane, t)
			}
		}
	}
}

// shiftRow writes one image's part of a col row: plane shifted by tap t,
// zero outside it.
func shiftRow(g convGeom, row, plane []float32, t shift) {
	zero(row[:t.plo*g.q])
	zero(row[t.phi*g.q:])
	if t.plo >= t.phi {
		return
	}
	copy(row[t.dlo:t.dhi], plane[t.slo:])
	zeroColumns(row, g.q, t.plo, t.phi, t.qlo, t.qhi)
}

// im2colRows is im2colSamePlanes one col row at a time, the rowSource of
// the bf16 GEMM: row (c, tap) of group gi for images [n0, n0+nb).
type im2colRows struct {
	g          convGeom
	xs         []float32
	sh         []shift
	n0, nb, gi int
}

func (r *im2colRows) row(p int, dst []float32) {
	g := r.g
	pq, hw := g.p*g.q, g.h*g.w
	c, t := p/len(r.sh), r.sh[p%len(r.sh)]
	for n := 0; n < r.nb; n++ {
		shiftRow(g, dst[n*pq:(n+1)*pq], r.xs[((r.n0+n)*g.c+r.gi*g.cg+c)*hw:][:hw], t)
	}
}

// im2colTask copies (forward) or scatter-adds (backward, col2im) between
// an image tensor and col. Forward items are (channel-in-group, image,
// filter row) triples, each writing its own rows of col. Backward items are
// (channel-in-group, image) pairs, each owning one plane of the image, so no
// two ranges write the same memory and col2im's sums run in a fixed order.
type im2colTask struct {
	g          convGeom
	img, col   []float32
	n0, nb, gi int
	back       bool
	c0         int // the channel of col's first rows (col2imSink's blocks)
}

func (t *im2colTask) run(lo, hi int) {
	g := t.g
	pq := g.p * g.q
	ld := t.nb * pq
	for it := lo; it < hi; it++ {
		rs := it % g.r // forward: one filter row per item
		r0, r1 := rs, rs+1
		cn := it / g.r
		if t.back {
			r0, r1, cn = 0, g.r, it
		}
		c, n := cn/t.nb, cn%t.nb
		plane := t.img[((t.n0+n)*g.c+t.gi*g.cg+c)*g.h*g.w:][:g.h*g.w]
		if t.back {
			clear(plane)
		}
		for r := r0; r < r1; r++ {
			for s := 0; s < g.s; s++ {
				row := t.col[(((c-t.c0)*g.r+r)*g.s+s)*ld+n*pq:][:pq]
				if t.back {
					col2imRow(g, plane, row, r, s)
				} else {
					im2colRow(g, plane, row, r, s)
				}
			}
		}
	}
}

// im2colRow writes row[p·Q+q] = plane[p·sh−ph+r, q·sw−pw+s], 0 outside.
// Stride-1, same-width convolutions take im2colSamePlanes instead.
func im2colRow(g convGeom, plane, row []float32, r, s int) {
	qlo, qhi := validRange(g.q, g.w, g.sw, g.pw, s)
	off := s - g.pw
	for p := 0; p < g.p; p++ {
		out := row[p*g.q : (p+1)*g.q]
		h := p*g.sh - g.ph + r
		if h < 0 || h >= g.h {
			zero(out)
			continue
		}
		in := plane[h*g.w : (h+1)*g.w]
		zero(out[:qlo])
		zero(out[qhi:])
		if qlo >= qhi { // the filter column misses the plane
			continue
		}
		if g.sw == 1 {
			dst, src := out[qlo:qhi], in[qlo+off:qhi+off]
			src = src[:len(dst)]
			for i := range dst {
				dst[i] = src[i]
			}
			continue
		}
		for q := qlo; q < qhi; q++ {
			out[q] = in[q*g.sw+off]
		}
	}
}

// zeroColumns clears columns [0, qlo) and [qhi, q) of rows [plo, phi) of
// row, a P×q matrix: the border columns of a shifted copy. It walks each
// column with a stride, which for a 3x3 "same" convolution's single border
// column costs one store per row.
func zeroColumns(row []float32, q, plo, phi, qlo, qhi int) {
	lo, hi := plo*q, min(phi*q, len(row))
	for c := 0; c < qlo; c++ {
		for i := lo + c; i < hi; i += q {
			row[i] = 0
		}
	}
	for c := qhi; c < q; c++ {
		for i := lo + c; i < hi; i += q {
			row[i] = 0
		}
	}
}

// col2imSame is col2imRow for stride 1 and Q = W: it zeroes the columns of
// row that wrapped around a row edge (row is scratch, dead after this), then
// adds the valid rows as one contiguous shifted run.
func col2imSame(g convGeom, plane, row []float32, r, s int) {
	plo, phi := validRange(g.p, g.h, 1, g.ph, r)
	if plo >= phi {
		return
	}
	qlo, qhi := validRange(g.q, g.w, 1, g.pw, s)
	zeroColumns(row, g.q, plo, phi, qlo, qhi)
	dlo, dhi := plo*g.q, phi*g.q
	slo := (plo-g.ph+r)*g.w + s - g.pw
	if slo < 0 { // a zeroed border element that would fall before the plane
		dlo -= slo
		slo = 0
	}
	shi := slo + dhi - dlo
	if shi > len(plane) {
		dhi -= shi - len(plane)
		shi = len(plane)
	}
	if slo >= shi { // only border columns: planes narrower than the padding
		return
	}
	addTo(plane[slo:shi], row[dlo:dhi])
}

// zero clears a short slice without a function call per element run.
func zero(s []float32) {
	if len(s) > 16 {
		clear(s)
		return
	}
	for i := range s {
		s[i] = 0
	}
}

// col2imRow is im2colRow's adjoint: plane[...] += row[...].
func col2imRow(g convGeom, plane, row []float32, r, s int) {
	if g.sh == 1 && g.sw == 1 && g.q == g.w {
		col2imSame(g, plane, row, r, s)
		return
	}
	qlo, qhi := validRange(g.q, g.w, g.sw, g.pw, s)
	if qlo >= qhi { // the filter column misses the plane
		return
	}
	off := s - g.pw
	for p := 0; p < g.p; p++ {
		h := p*g.sh - g.ph + r
		if h < 0 || h >= g.h {
			continue
		}
		in := plane[h*g.w : (h+1)*g.w]
		src := row[p*g.q : (p+1)*g.q]
		if g.sw == 1 {
			addTo(in[qlo+off:qhi+off], src[qlo:qhi])
			continue
		}
		for q := qlo; q < qhi; q++ {
			in[q*g.sw+off] += src[q]
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column
// q·stride − pad + s lies inside [0, w).
func validRange(outW, w, stride, pad, s int) (lo, hi int) {
	lo = 0
	for lo < outW && lo*stride-pad+s < 0 {
		lo++
	}
	hi = outW
	for hi > lo && (hi-1)*stride-pad+s >= w {
		hi--
	}
	return lo, hi
}

// permute moves runs of pq floats between (k, nb, pq) order (a) and
// (nb, k, pq) order (b): toT copies b into a, otherwise a into b.
func permute(a, b []float32, k, nb, pq int, toT bool) {
	for kk := 0; kk < k; kk++ {
		for n := 0; n < nb; n++ {
			ta := a[(kk*nb+n)*pq:][:pq]
			tb := b[(n*k+kk)*pq:][:pq]
			if toT {
				copy(ta, tb)
			} else {
				copy(tb, ta)
			}
		}
	}
}

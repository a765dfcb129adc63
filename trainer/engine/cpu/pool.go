package cpu

import (
	"fmt"
	"math"

	"sweep/trainer/engine"
)

// Pooling: one item is one (image, channel) plane.

type poolGeom struct {
	h, w, p, q int
	d          engine.PoolDesc
}

func poolGeometry(op string, d engine.PoolDesc, x, y engine.Tensor) (poolGeom, int) {
	d = d.Norm()
	n, c, h, w := x.Shape.NCHW()
	p, q := d.OutSize(h, w)
	yn, yc, yp, yq := y.Shape.NCHW()
	if yn != n || yc != c || yp != p || yq != q {
		panic(fmt.Sprintf("cpu: %s: x %v y %v window %dx%d", op, x.Shape, y.Shape, d.KH, d.KW))
	}
	return poolGeom{h: h, w: w, p: p, q: q, d: d}, n * c
}

func (b *Backend) MaxPoolForward(d engine.PoolDesc, x, y engine.Tensor) {
	g, planes := poolGeometry("MaxPoolForward", d, x, y)
	t := &b.k.pool
	*t = poolTask{g: g, x: f32(x), y: f32(y), kind: poolMax}
	b.pool.For(planes, 8, t)
}

func (b *Backend) MaxPoolBackward(d engine.PoolDesc, x, y, dy, dx engine.Tensor) {
	g, planes := poolGeometry("MaxPoolBackward", d, x, y)
	engine.SameShape("MaxPoolBackward", x, dx)
	engine.SameShape("MaxPoolBackward", y, dy)
	t := &b.k.pool
	*t = poolTask{g: g, x: f32(x), y: f32(y), dy: f32(dy), dx: f32(dx), kind: poolMaxBack}
	b.pool.For(planes, 8, t)
}

func (b *Backend) AvgPoolForward(d engine.PoolDesc, x, y engine.Tensor) {
	g, planes := poolGeometry("AvgPoolForward", d, x, y)
	t := &b.k.pool
	*t = poolTask{g: g, x: f32(x), y: f32(y), kind: poolAvg}
	b.pool.For(planes, 8, t)
}

func (b *Backend) AvgPoolBackward(d engine.PoolDesc, dy, dx engine.Tensor) {
	g, planes := poolGeometry("AvgPoolBackward", d, dx, dy)
	t := &b.k.pool
	*t = poolTask{g: g, dy: f32(dy), dx: f32(dx), kind: poolAvgBack}
	b.pool.For(planes, 8, t)
}

func (b *Backend) GlobalAvgPoolForward(x, y engine.Tensor) {
	n, c, h, w := x.Shape.NCHW()
	if y.Numel() != n*c {
		panic(fmt.Sprintf("cpu: GlobalAvgPoolForward: x %v y %v", x.Shape, y.Shape))
	}
	t := &b.k.pool
	*t = poolTask{g: poolGeom{h: h, w: w}, x: f32(x), y: f32(y), kind: poolGlobal}
	b.pool.For(n*c, 64, t)
}

func (b *Backend) GlobalAvgPoolBackward(dy, dx engine.Tensor) {
	n, c, h, w := dx.Shape.NCHW()
	if dy.Numel() != n*c {
		panic(fmt.Sprintf("cpu: GlobalAvgPoolBackward: dy %v dx %v", dy.Shape, dx.Shape))
	}
	t := &b.k.pool
	*t = poolTask{g: poolGeom{h: h, w: w}, dy: f32(dy), dx: f32(dx), kind: poolGlobalBack}
	b.pool.For(n*c, 64, t)
}

const (
	poolMax = iota
	poolMaxBack
	poolAvg
	poolAvgBack
	poolGlobal
	poolGlobalBack
)

type poolTask struct {
	g            poolGeom
	x, y, dy, dx []float32
	kind         int
}

func (t *poolTask) run(lo, hi int) {
	g := t.g
	hw, pq := g.h*g.w, g.p*g.q
	for pl := lo; pl < hi; pl++ {
		switch t.kind {
		case poolGlobal:
			var s float32
			for _, v := range t.x[pl*hw : (pl+1)*hw] {
				s += v
			}
			t.y[pl] = s / float32(hw)
		case poolGlobalBack:
			v := t.dy[pl] / float32(hw)
			for i := range t.dx[pl*hw : (pl+1)*hw] {
				t.dx[pl*hw+i] = v
			}
		case poolMax, poolAvg:
			if t.kind == poolMax && g.isMax2x2() {
				max2x2(g, t.x[pl*hw:(pl+1)*hw], t.y[pl*pq:(pl+1)*pq])
				continue
			}
			t.forward(t.x[pl*hw:(pl+1)*hw], t.y[pl*pq:(pl+1)*pq])
		case poolMaxBack:
			dx := t.dx[pl*hw : (pl+1)*hw]
			if g.isMax2x2() {
				maxBack2x2(g, t.x[pl*hw:(pl+1)*hw], t.y[pl*pq:(pl+1)*pq], t.dy[pl*pq:(pl+1)*pq], dx)
				continue
			}
			clear(dx)
			t.maxBack(t.x[pl*hw:(pl+1)*hw], t.y[pl*pq:(pl+1)*pq], t.dy[pl*pq:(pl+1)*pq], dx)
		case poolAvgBack:
			dx := t.dx[pl*hw : (pl+1)*hw]
			clear(dx)
			t.avgBack(t.dy[pl*pq:(pl+1)*pq], dx)
		}
	}
}

// window returns the clipped input rows and columns of output (p, q).
func (g poolGeom) window(p, q int) (h0, h1, w0, w1 int) {
	d := g.d
	h0, w0 = p*d.StrideH-d.PadH, q*d.StrideW-d.PadW
	h1, w1 = min(h0+d.KH, g.h), min(w0+d.KW, g.w)
	return max(h0, 0), h1, max(w0, 0), w1
}

func (t *poolTask) forward(x, y []float32) {
	g := t.g
	inv := 1 / float32(g.d.KH*g.d.KW)
	for p := 0; p < g.p; p++ {
		for q := 0; q < g.q; q++ {
			h0, h1, w0, w1 := g.window(p, q)
			m, s := float32(math.Inf(-1)), float32(0)
			for h := h0; h < h1; h++ {
				for _, v := range x[h*g.w+w0 : h*g.w+w1] {
					m = max(m, v)
					s += v
				}
			}
			if t.kind == poolMax {
				y[p*g.q+q] = m
			} else {
				y[p*g.q+q] = s * inv
			}
		}
	}
}

func (t *poolTask) maxBack(x, y, dy, dx []float32) {
	g := t.g
	for p := 0; p < g.p; p++ {
		for q := 0; q < g.q; q++ {
			h0, h1, w0, w1 := g.window(p, q)
			m := y[p*g.q+q]
		search:
			for h := h0; h < h1; h++ {
				for w := w0; w < w1; w++ {
					if x[h*g.w+w] == m {
						dx[h*g.w+w] += dy[p*g.q+q]
						break search
					}
				}
			}
		}
	}
}

func (t *poolTask) avgBack(dy, dx []float32) {
	g := t.g
	inv := 1 / float32(g.d.KH*g.d.KW)
	for p := 0; p < g.p; p++ {
		for q := 0; q < g.q; q++ {
			h0, h1, w0, w1 := g.window(p, q)
			v := dy[p*g.q+q] * inv
			for h := h0; h < h1; h++ {
				row := dx[h*g.w+w0 : h*g.w+w1]
				for i := range row {
					row[i] += v
				}
			}
		}
	}
}

// is2x2 reports the common non-overlapping 2x2 window without padding over
// an even-sized plane, which has a fast path.
func (g poolGeom) is2x2() bool {
	d := g.d
	return d.KH == 2 && d.KW == 2 && d.StrideH == 2 && d.StrideW == 2 && d.PadH == 0 && d.PadW == 0 &&
		g.h == 2*g.p && g.w == 2*g.q
}

// isMax2x2 reports a non-overlapping 2x2 window without padding, over an
// even- or odd-sized plane (an odd last row or column belongs to no
// window): max pooling's fast path. fastnet pools 31→15, 15→7 and 7→3, all
// odd, and the general path's clear-then-scatter backward cost more than
// the rest of its pooling.
func (g poolGeom) isMax2x2() bool {
	d := g.d
	return d.KH == 2 && d.KW == 2 && d.StrideH == 2 && d.StrideW == 2 && d.PadH == 0 && d.PadW == 0 &&
		g.h-2*g.p < 2 && g.w-2*g.q < 2
}

func max2x2(g poolGeom, x, y []float32) {
	for p := 0; p < g.p; p++ {
		r0, r1 := x[2*p*g.w:(2*p+1)*g.w], x[(2*p+1)*g.w:(2*p+2)*g.w]
		out := y[p*g.q : (p+1)*g.q]
		r0, r1 = r0[:2*len(out)], r1[:2*len(out)]
		for q := range out {
			out[q] = max(r0[2*q], r0[2*q+1], r1[2*q], r1[2*q+1])
		}
	}
}

// maxBack2x2 writes every element of dx: dy at each window's first
// maximum, 0 elsewhere (the odd last row and column included), so dx needs
// no clearing first. With AVX-512 each output row runs in assembly
// (pool_amd64.s), which makes the same choices.
func maxBack2x2(g poolGeom, x, y, dy, dx []float32) {
	for p := 0; p < g.p; p++ {
		r0, r1 := x[2*p*g.w:(2*p+1)*g.w], x[(2*p+1)*g.w:(2*p+2)*g.w]
		d0, d1 := dx[2*p*g.w:(2*p+1)*g.w], dx[(2*p+1)*g.w:(2*p+2)*g.w]
		if g.w > 2*g.q {
			d0[g.w-1], d1[g.w-1] = 0, 0
		}
		ys, dys := y[p*g.q:(p+1)*g.q], dy[p*g.q:(p+1)*g.q]
		if hasAVX512 && g.q > 0 {
			maxBack2x2AVX512(&r0[0], &r1[0], &ys[0], &dys[0], &d0[0], &d1[0], g.q)
			continue
		}
		n := 2 * len(ys)
		r0, r1, d0, d1, dys = r0[:n], r1[:n], d0[:n], d1[:n], dys[:len(ys)]
		for q, m := range ys {
			mb := math.Float32bits(m)
			ea := eqMask(math.Float32bits(r0[2*q]), mb)
			eb := eqMask(math.Float32bits(r0[2*q+1]), mb) &^ ea
			ec := eqMask(math.Float32bits(r1[2*q]), mb) &^ (ea | eb)
			ed := ^(ea | eb | ec)
			v := math.Float32bits(dys[q])
			a, b := math.Float32frombits(v&ea), math.Float32frombits(v&eb)
			c, d := math.Float32frombits(v&ec), math.Float32frombits(v&ed)
			d0[2*q], d0[2*q+1], d1[2*q], d1[2*q+1] = a, b, c, d
		}
	}
	clear(dx[2*g.p*g.w : g.h*g.w])
}

// eqMask returns all ones when a == b and 0 otherwise, without a branch
// (which input holds a window's maximum is unpredictable).
func eqMask(a, b uint32) uint32 {
	d := a ^ b
	return ^uint32(int32(d|-d) >> 31)
}

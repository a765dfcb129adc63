package cpu

import (
	"math"

	"sweep/trainer/engine"
)

var (
	_ engine.BatchNormReLUMaxPoolTrainer    = (*Backend)(nil)
	_ engine.BatchNormReLUMaxPoolBackwarder = (*Backend)(nil)
)

// The fused batch norm + ReLU + max pool works per channel like batch norm,
// and pools each plane right after normalising it, while the plane is still
// in cache. Backward expands each plane's pooled gradient into dx, sums
// it, then turns it into dx in place, saving the separate pooling pass.

func (b *Backend) BatchNormReLUMaxPoolTrain(pool engine.PoolDesc, x, gamma, beta engine.Tensor, bn engine.BatchNormDesc,
	runMean, runVar, mean, invStd, y, py engine.Tensor) {
	n, c, h, w := x.Shape.NCHW()
	checkBN("BatchNormReLUMaxPoolTrain", x, y, c, gamma, beta, runMean, runVar, mean, invStd)
	g, _ := poolGeometry("BatchNormReLUMaxPoolTrain", pool, y, py)
	t := &b.k.bnPool
	*t = bnPoolTask{g: g}
	t.bnTask = bnTask{n: n, c: c, hw: h * w, x: f32(x), y: f32(y), gamma: f32(gamma), beta: f32(beta),
		runMean: f32(runMean), runVar: f32(runVar), mean: f32(mean), invStd: f32(invStd),
		eps: bn.Eps, mom: bn.Momentum, relu: true, train: true}
	t.py = f32(py)
	b.pool.For(c, 1, t)
}

func (b *Backend) BatchNormReLUMaxPoolBackward(pool engine.PoolDesc, x, y, py, pdy, gamma, mean, invStd, dx, dgamma, dbeta engine.Tensor) {
	n, c, h, w := x.Shape.NCHW()
	checkBN("BatchNormReLUMaxPoolBackward", x, y, c, gamma, mean, invStd, dgamma, dbeta)
	engine.SameShape("BatchNormReLUMaxPoolBackward", x, dx)
	engine.SameShape("BatchNormReLUMaxPoolBackward", py, pdy)
	g, _ := poolGeometry("BatchNormReLUMaxPoolBackward", pool, y, py)
	t := &b.k.bnPool
	*t = bnPoolTask{g: g, back: true, py: f32(py), pdy: f32(pdy)}
	t.bnBackTask = bnBackTask{n: n, c: c, hw: h * w, x: f32(x), y: f32(y), dx: f32(dx), gamma: f32(gamma),
		mean: f32(mean), invStd: f32(invStd), dgamma: f32(dgamma), dbeta: f32(dbeta)}
	b.pool.For(c, 1, t)
}

type bnPoolTask struct {
	bnTask
	bnBackTask
	g       poolGeom
	py, pdy []float32
	scratch []float32 // one plane per channel
	back    bool
}

func (t *bnPoolTask) run(lo, hi int) {
	if t.back {
		t.backward(lo, hi)
		return
	}
	f := &t.bnTask
	hw, pq := f.hw, t.g.p*t.g.q
	for ch := lo; ch < hi; ch++ {
		mu, inv := f.stats(ch)
		for i := 0; i < f.n; i++ {
			pl := i*f.c + ch
			ys := f.y[pl*hw : (pl+1)*hw]
			f.apply(ch, mu, inv, f.x[pl*hw:(pl+1)*hw], ys)
			pys := t.py[pl*pq : (pl+1)*pq]
			if t.g.is2x2() {
				max2x2(t.g, ys, pys)
			} else {
				pt := poolTask{g: t.g, kind: poolMax}
				pt.forward(ys, pys)
			}
		}
	}
}

func (t *bnPoolTask) backward(lo, hi int) {
	k := &t.bnBackTask
	hw, pq := k.hw, t.g.p*t.g.q
	fast := t.g.is2x2()
	for ch := lo; ch < hi; ch++ {
		mu := k.mean[ch]
		var sdy, sdyx float64
		for i := 0; i < k.n; i++ { // general windows: dx holds the unpooled gradient first
			pl := i*k.c + ch
			xs, ys, dxs := k.x[pl*hw:(pl+1)*hw], k.y[pl*hw:(pl+1)*hw], k.dx[pl*hw:(pl+1)*hw]
			var s1, s2 float32
			if fast {
				s1, s2 = pool2x2Sums(t.g, xs, ys, t.py[pl*pq:(pl+1)*pq], t.pdy[pl*pq:(pl+1)*pq], mu)
			} else {
				t.unpool(pl, dxs)
				s1, s2 = bnBackSums(xs, dxs, ys, mu)
			}
			sdy += float64(s1)
			sdyx += float64(s2)
		}
		km, a, bb := k.coefficients(ch, sdy, sdyx)
		for i := 0; i < k.n; i++ { // then dx, in place over the unpooled gradient
			pl := i*k.c + ch
			xs, ys, dxs := k.x[pl*hw:(pl+1)*hw], k.y[pl*hw:(pl+1)*hw], k.dx[pl*hw:(pl+1)*hw]
			if fast {
				pool2x2DX(t.g, xs, ys, t.py[pl*pq:(pl+1)*pq], t.pdy[pl*pq:(pl+1)*pq], dxs, mu, km, a, bb)
				continue
			}
			bnBackDX(xs, dxs, ys, dxs, mu, km, a, bb)
		}
	}
}

// window2x2 returns the masks (all ones or 0) selecting the first of the
// four inputs of a 2x2 window that equals the pooled value m, and the
// window's gradient, zero when m is 0 (the ReLU before the pool was off).
func window2x2(x0, x1, x2, x3, m, g float32) (ea, eb, ec, ed uint32, gm float32) {
	mb := math.Float32bits(m)
	ea = eqMask(math.Float32bits(x0), mb)
	eb = eqMask(math.Float32bits(x1), mb) &^ ea
	ec = eqMask(math.Float32bits(x2), mb) &^ (ea | eb)
	ed = ^(ea | eb | ec)
	return ea, eb, ec, ed, reluMask(g, m)
}

func sel(v float32, m uint32) float32 { return math.Float32frombits(math.Float32bits(v) & m) }

// pool2x2Sums returns Σ dy and Σ dy·(x−mu) over one plane, where dy is the
// unpooled, ReLU-masked gradient. Only each window's maximum has a
// gradient, so the sums run over the pooled plane: ys (the BN+ReLU output)
// locates the maximum, xs (the BN input) supplies x there.
func pool2x2Sums(g poolGeom, xs, ys, py, pdy []float32, mu float32) (s1, s2 float32) {
	for p := 0; p < g.p; p++ {
		x0, x1 := xs[2*p*g.w:(2*p+1)*g.w], xs[(2*p+1)*g.w:(2*p+2)*g.w]
		y0, y1 := ys[2*p*g.w:(2*p+1)*g.w], ys[(2*p+1)*g.w:(2*p+2)*g.w]
		ms, gs := py[p*g.q:(p+1)*g.q], pdy[p*g.q:(p+1)*g.q]
		n := 2 * len(ms)
		x0, x1, y0, y1, gs = x0[:n], x1[:n], y0[:n], y1[:n], gs[:len(ms)]
		for q, m := range ms {
			ea, eb, ec, ed, gm := window2x2(y0[2*q], y0[2*q+1], y1[2*q], y1[2*q+1], m, gs[q])
			x := sel(x0[2*q], ea) + sel(x0[2*q+1], eb) + sel(x1[2*q], ec) + sel(x1[2*q+1], ed)
			s1 += gm
			s2 += gm * (x - mu)
		}
	}
	return s1, s2
}

// pool2x2DX writes one plane of dx = km·dy − a − (x−mu)·bb, with dy the
// unpooled, ReLU-masked gradient.
func pool2x2DX(g poolGeom, xs, ys, py, pdy, dx []float32, mu, km, a, bb float32) {
	for p := 0; p < g.p; p++ {
		x0, x1 := xs[2*p*g.w:(2*p+1)*g.w], xs[(2*p+1)*g.w:(2*p+2)*g.w]
		y0, y1 := ys[2*p*g.w:(2*p+1)*g.w], ys[(2*p+1)*g.w:(2*p+2)*g.w]
		d0, d1 := dx[2*p*g.w:(2*p+1)*g.w], dx[(2*p+1)*g.w:(2*p+2)*g.w]
		ms, gs := py[p*g.q:(p+1)*g.q], pdy[p*g.q:(p+1)*g.q]
		n := 2 * len(ms)
		x0, x1, y0, y1, d0, d1, gs = x0[:n], x1[:n], y0[:n], y1[:n], d0[:n], d1[:n], gs[:len(ms)]
		for q, m := range ms {
			ea, eb, ec, ed, gm := window2x2(y0[2*q], y0[2*q+1], y1[2*q], y1[2*q+1], m, gs[q])
			v := km * gm
			d0[2*q] = sel(v, ea) - a - (x0[2*q]-mu)*bb
			d0[2*q+1] = sel(v, eb) - a - (x0[2*q+1]-mu)*bb
			d1[2*q] = sel(v, ec) - a - (x1[2*q]-mu)*bb
			d1[2*q+1] = sel(v, ed) - a - (x1[2*q+1]-mu)*bb
		}
	}
}

// unpool writes plane pl's max-pool gradient (the gradient with respect to
// the batch-norm output) into scr.
func (t *bnPoolTask) unpool(pl int, scr []float32) {
	hw, pq := t.bnBackTask.hw, t.g.p*t.g.q
	ys := t.bnBackTask.y[pl*hw : (pl+1)*hw]
	pys, pdys := t.py[pl*pq:(pl+1)*pq], t.pdy[pl*pq:(pl+1)*pq]
	if t.g.is2x2() {
		maxBack2x2(t.g, ys, pys, pdys, scr)
		return
	}
	clear(scr)
	pt := poolTask{g: t.g}
	pt.maxBack(ys, pys, pdys, scr)
}

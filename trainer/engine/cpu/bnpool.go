package cpu

import (
	"math"

	"sweep/trainer/engine"
)

var (
	_ engine.BatchNormReLUMaxPoolTrainer    = (*Backend)(nil)
	_ engine.BatchNormReLUMaxPoolBackwarder = (*Backend)(nil)
)

// The fused batch norm + ReLU + max pool works per channel like batch norm.
// Forward normalises each window's inputs in registers and stores only the
// window's maximum and where it was; backward gives every element its batch
// norm term and adds each window's gradient at its recorded maximum, with
// no full-size intermediate in either direction.

func (b *Backend) BatchNormReLUMaxPoolTrain(pool engine.PoolDesc, x, gamma, beta engine.Tensor, bn engine.BatchNormDesc,
	runMean, runVar, mean, invStd, py, idx engine.Tensor) {
	n, c, h, w := x.Shape.NCHW()
	checkBN("BatchNormReLUMaxPoolTrain", x, x, c, gamma, beta, runMean, runVar, mean, invStd)
	g, _ := poolGeometry("BatchNormReLUMaxPoolTrain", pool, x, py)
	engine.SameShape("BatchNormReLUMaxPoolTrain", py, idx)
	t := b.bnPoolScratch(n, c)
	*t = bnPoolTask{g: g, py: f32(py), idx: i32(idx), s: t.s, ss: t.ss, k: t.k, a: t.a, bb: t.bb}
	t.bnTask = bnTask{n: n, c: c, hw: h * w, x: f32(x), gamma: f32(gamma), beta: f32(beta),
		runMean: f32(runMean), runVar: f32(runVar), mean: f32(mean), invStd: f32(invStd),
		eps: bn.Eps, mom: bn.Momentum, relu: true, train: true}
	grain := max(1, planeGrain/(h*w))
	t.phase = bnpStats
	b.pool.For(n*c, grain, t)
	f := &t.bnTask
	for ch := range c { // fixed order over the batch: deterministic
		var sum, sumSq float64
		for i := range n {
			sum += t.s[i*c+ch]
			sumSq += t.ss[i*c+ch]
		}
		mu, inv := f.finish(ch, float64(f.x[ch*f.hw]), sum, sumSq)
		t.k[ch] = f.gamma[ch] * inv
		t.a[ch] = f.beta[ch] - mu*t.k[ch]
	}
	t.phase = bnpApply
	b.pool.For(n*c, grain, t)
}

// planeGrain is the number of elements below which planes are not split
// across threads.
const planeGrain = 1 << 13

// bnPoolScratch returns the fused kernel's task with per-plane sums for n·c
// planes and per-channel coefficients for c channels, reusing memory.
func (b *Backend) bnPoolScratch(n, c int) *bnPoolTask {
	t := &b.k.bnPool
	if cap(t.s) < n*c {
		t.s, t.ss = make([]float64, n*c), make([]float64, n*c)
	}
	if cap(t.k) < c {
		t.k, t.a, t.bb = make([]float32, c), make([]float32, c), make([]float32, c)
	}
	t.s, t.ss, t.k, t.a, t.bb = t.s[:n*c], t.ss[:n*c], t.k[:c], t.a[:c], t.bb[:c]
	return t
}

func (b *Backend) BatchNormReLUMaxPoolBackward(pool engine.PoolDesc, x, py, idx, pdy, gamma, mean, invStd, dx, dgamma, dbeta engine.Tensor) {
	n, c, h, w := x.Shape.NCHW()
	checkBN("BatchNormReLUMaxPoolBackward", x, dx, c, gamma, mean, invStd, dgamma, dbeta)
	g, _ := poolGeometry("BatchNormReLUMaxPoolBackward", pool, x, py)
	engine.SameShape("BatchNormReLUMaxPoolBackward", py, idx)
	engine.SameShape("BatchNormReLUMaxPoolBackward", py, pdy)
	t := b.bnPoolScratch(n, c)
	*t = bnPoolTask{g: g, py: f32(py), idx: i32(idx), pdy: f32(pdy), s: t.s, ss: t.ss, k: t.k, a: t.a, bb: t.bb}
	t.bnBackTask = bnBackTask{n: n, c: c, hw: h * w, x: f32(x), dx: f32(dx), gamma: f32(gamma),
		mean: f32(mean), invStd: f32(invStd), dgamma: f32(dgamma), dbeta: f32(dbeta)}
	grain := max(1, planeGrain/(h*w))
	t.phase = bnpGradSums
	b.pool.For(n*c, grain, t)
	k := &t.bnBackTask
	for ch := range c { // fixed order over the batch: deterministic
		var sdy, sdyx float64
		for i := range n {
			sdy += t.s[i*c+ch]
			sdyx += t.ss[i*c+ch]
		}
		t.k[ch], t.a[ch], t.bb[ch] = k.coefficients(ch, sdy, sdyx)
	}
	t.phase = bnpGrad
	b.pool.For(n*c, grain, t)
}

// bnPoolTask runs the fused kernel in two parallel phases over the (image,
// channel) planes in memory order, which streams through memory where a
// channel's planes, C·H·W floats apart, would not; between them the
// calling goroutine reduces the per-plane sums of each channel in batch
// order, so results do not depend on the split.
type bnPoolTask struct {
	bnTask
	bnBackTask
	g        poolGeom
	py, pdy  []float32
	idx      []int32
	phase    int
	s, ss    []float64 // per plane: Σ(x−k), Σ(x−k)² or Σdy, Σdy·(x−mu)
	k, a, bb []float32 // per channel: scale, shift or km, a, bb
}

const (
	bnpStats    = iota // forward: per-plane moments
	bnpApply           // forward: normalise, ReLU, pool
	bnpGradSums        // backward: per-plane gradient sums
	bnpGrad            // backward: dx
)

func (t *bnPoolTask) run(lo, hi int) {
	f, k := &t.bnTask, &t.bnBackTask
	c, pq := max(f.c, k.c), t.g.p*t.g.q
	for pl := lo; pl < hi; pl++ {
		ch := pl % c
		pys, idxs := t.py[pl*pq:(pl+1)*pq], t.idx[pl*pq:(pl+1)*pq]
		switch t.phase {
		case bnpStats:
			t.s[pl], t.ss[pl] = moments(f.x[pl*f.hw:(pl+1)*f.hw], float64(f.x[ch*f.hw]))
		case bnpApply:
			xs := f.x[pl*f.hw : (pl+1)*f.hw]
			if t.g.is2x2() {
				bnPool2x2(t.g, xs, pys, idxs, t.k[ch], t.a[ch])
			} else {
				bnPoolGeneral(t.g, xs, pys, idxs, t.k[ch], t.a[ch])
			}
		case bnpGradSums:
			s1, s2 := poolSums(k.x[pl*k.hw:(pl+1)*k.hw], pys, t.pdy[pl*pq:(pl+1)*pq], idxs, k.mean[ch])
			t.s[pl], t.ss[pl] = float64(s1), float64(s2)
		case bnpGrad:
			xs, dxs := k.x[pl*k.hw:(pl+1)*k.hw], k.dx[pl*k.hw:(pl+1)*k.hw]
			pdys := t.pdy[pl*pq : (pl+1)*pq]
			if t.g.is2x2() && hasAVX2 && t.g.q >= 16 {
				bnPoolGrad2x2(t.g, xs, dxs, pys, pdys, idxs, k.mean[ch], t.a[ch], t.bb[ch], t.k[ch])
				continue
			}
			bnBackAffine(xs, dxs, k.mean[ch], t.a[ch], t.bb[ch])
			poolScatter(dxs, pys, pdys, idxs, t.k[ch])
		}
	}
}

// bnPool2x2 writes each 2x2 window's max(x·scale+shift, 0) and the plane
// offset of its first maximum. It works on the values' bit patterns: after
// the ReLU they are non-negative, where float order is integer order, so
// the ReLU and the comparisons become integer selects (conditional moves,
// not branches: which input wins is unpredictable).
func bnPool2x2(g poolGeom, xs, py []float32, idx []int32, scale, shift float32) {
	if hasAVX2 && g.w == 8 && g.p%2 == 0 && len(xs) >= 64 {
		bnPoolQ4AVX2(&xs[0], &py[0], &idx[0], len(py), scale, shift)
		return
	}
	w := uint32(g.w)
	for p := 0; p < g.p; p++ {
		r0, r1 := xs[2*p*g.w:(2*p+1)*g.w], xs[(2*p+1)*g.w:(2*p+2)*g.w]
		out, ix := py[p*g.q:(p+1)*g.q], idx[p*g.q:(p+1)*g.q]
		n := 2 * len(out)
		r0, r1, ix = r0[:n], r1[:n], ix[:len(out)]
		base := uint32(2 * p * g.w)
		q0 := 0
		if hasAVX2 && len(out) >= 8 {
			q0 = len(out) &^ 7
			bnPoolRowAVX2(&r0[0], &r1[0], &out[0], &ix[0], q0, scale, shift, int32(w), int32(base))
		}
		for q := q0; q < len(out); q++ {
			b0, b1 := reluBits(r0[2*q]*scale+shift), reluBits(r0[2*q+1]*scale+shift)
			b2, b3 := reluBits(r1[2*q]*scale+shift), reluBits(r1[2*q+1]*scale+shift)
			m01, i01 := b0, uint32(0)
			if b1 > b0 {
				m01, i01 = b1, 1
			}
			m23, i23 := b2, w
			if b3 > b2 {
				m23, i23 = b3, w+1
			}
			if m23 > m01 {
				m01, i01 = m23, i23
			}
			out[q] = math.Float32frombits(m01)
			ix[q] = int32(base + uint32(2*q) + i01)
		}
	}
}

// reluBits returns the bits of max(v, 0): negative values (sign bit set,
// −0 included) become +0.
func reluBits(v float32) uint32 {
	b := math.Float32bits(v)
	return b &^ uint32(int32(b)>>31)
}

// bnPoolGeneral is bnPool2x2 for any window, stride and padding.
func bnPoolGeneral(g poolGeom, xs, py []float32, idx []int32, scale, shift float32) {
	for p := 0; p < g.p; p++ {
		for q := 0; q < g.q; q++ {
			h0, h1, w0, w1 := g.window(p, q)
			best, at := float32(math.Inf(-1)), h0*g.w+w0
			for h := h0; h < h1; h++ {
				for w := w0; w < w1; w++ {
					if v := max(xs[h*g.w+w]*scale+shift, 0); v > best {
						best, at = v, h*g.w+w
					}
				}
			}
			py[p*g.q+q], idx[p*g.q+q] = best, int32(at)
		}
	}
}

// poolScatter adds km·g to dx at each window's recorded maximum, g = pdy
// where the ReLU was open (py > 0).
func poolScatter(dxs, pys, pdys []float32, idxs []int32, km float32) {
	pdys, idxs = pdys[:len(pys)], idxs[:len(pys)]
	for q, m := range pys {
		dxs[idxs[q]] += km * reluMask(pdys[q], m)
	}
}

// bnPoolGrad2x2 writes one plane of dx for 2x2 windows: the batch-norm term
// of every element (bnBackAffine), plus km·g at each window's maximum
// (poolScatter), a row pair at a time. It pays for narrow planes only with
// the AVX2 kernel and 16 windows a row or more (measured: slower than the
// two plane-wide loops at 8).
func bnPoolGrad2x2(g poolGeom, xs, dxs, pys, pdys []float32, idxs []int32, mu, a, bb, km float32) {
	for p := 0; p < g.p; p++ {
		r0, r1 := 2*p*g.w, (2*p+1)*g.w
		x0, x1, d0, d1 := xs[r0:r0+g.w], xs[r1:r1+g.w], dxs[r0:r0+g.w], dxs[r1:r1+g.w]
		py, pdy, ix := pys[p*g.q:(p+1)*g.q], pdys[p*g.q:(p+1)*g.q], idxs[p*g.q:(p+1)*g.q]
		q0 := 0
		if hasAVX2 && g.q >= 8 {
			q0 = g.q &^ 7
			bnPoolGradRowAVX2(&x0[0], &x1[0], &d0[0], &d1[0], &py[0], &pdy[0], &ix[0], q0, mu, bb, -a, km, int32(g.w), int32(r0))
		}
		bnBackAffine(x0[2*q0:], d0[2*q0:], mu, a, bb)
		bnBackAffine(x1[2*q0:], d1[2*q0:], mu, a, bb)
		poolScatter(dxs, py[q0:], pdy[q0:], ix[q0:], km)
	}
}

// poolSums returns Σ dy and Σ dy·(x−mu) over one plane, where dy, the
// gradient with respect to the batch-norm output, is non-zero only at each
// window's recorded maximum, and only where the ReLU was open (py > 0).
func poolSums(xs, py, pdy []float32, idx []int32, mu float32) (s1, s2 float32) {
	pdy, idx = pdy[:len(py)], idx[:len(py)]
	q0 := 0
	if hasAVX2 && len(py) >= 8 {
		q0 = len(py) &^ 7
		s1, s2 = poolSumsAVX2(&xs[0], &py[0], &pdy[0], &idx[0], q0, mu, int32(len(xs)-1))
	}
	for q := q0; q < len(py); q++ {
		m := py[q]
		g := reluMask(pdy[q], m)
		s1 += g
		s2 += g * (xs[idx[q]] - mu)
	}
	return s1, s2
}

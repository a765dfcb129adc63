package cpu

import (
	"fmt"
	"math"

	"sweep/trainer/engine"
)

// Batch normalisation works per channel: one item is one channel, whose
// statistics are summed over its N planes in float64 in a fixed order, so
// the result does not depend on the thread count.

func (b *Backend) BatchNormTrain(x, gamma, beta engine.Tensor, bn engine.BatchNormDesc, runMean, runVar, mean, invStd, y engine.Tensor) {
	b.bnTrain(x, gamma, beta, bn, runMean, runVar, mean, invStd, y, false)
}

// BatchNormReLUTrain is the fused BatchNormTrain + ReLU.
func (b *Backend) BatchNormReLUTrain(x, gamma, beta engine.Tensor, bn engine.BatchNormDesc, runMean, runVar, mean, invStd, y engine.Tensor) {
	b.bnTrain(x, gamma, beta, bn, runMean, runVar, mean, invStd, y, true)
}

func (b *Backend) bnTrain(x, gamma, beta engine.Tensor, bn engine.BatchNormDesc, runMean, runVar, mean, invStd, y engine.Tensor, relu bool) {
	n, c, h, w := x.Shape.NCHW()
	checkBN("BatchNormTrain", x, y, c, gamma, beta, runMean, runVar, mean, invStd)
	t := &b.k.bn
	*t = bnTask{n: n, c: c, hw: h * w, x: f32(x), y: f32(y), gamma: f32(gamma), beta: f32(beta),
		runMean: f32(runMean), runVar: f32(runVar), mean: f32(mean), invStd: f32(invStd),
		eps: bn.Eps, mom: bn.Momentum, relu: relu, train: true}
	b.pool.For(c, 1, t)
}

func (b *Backend) BatchNormInfer(x, gamma, beta engine.Tensor, bn engine.BatchNormDesc, runMean, runVar, y engine.Tensor) {
	n, c, h, w := x.Shape.NCHW()
	checkBN("BatchNormInfer", x, y, c, gamma, beta, runMean, runVar)
	t := &b.k.bn
	*t = bnTask{n: n, c: c, hw: h * w, x: f32(x), y: f32(y), gamma: f32(gamma), beta: f32(beta),
		runMean: f32(runMean), runVar: f32(runVar), eps: bn.Eps}
	b.pool.For(c, 1, t)
}

func (b *Backend) BatchNormBackward(x, dy, gamma, mean, invStd, dx, dgamma, dbeta engine.Tensor) {
	b.bnBackward(x, engine.Tensor{}, dy, gamma, mean, invStd, dx, dgamma, dbeta)
}

// BatchNormReLUBackward is the backward pass of BatchNormReLUTrain.
func (b *Backend) BatchNormReLUBackward(x, y, dy, gamma, mean, invStd, dx, dgamma, dbeta engine.Tensor) {
	b.bnBackward(x, y, dy, gamma, mean, invStd, dx, dgamma, dbeta)
}

func (b *Backend) bnBackward(x, y, dy, gamma, mean, invStd, dx, dgamma, dbeta engine.Tensor) {
	n, c, h, w := x.Shape.NCHW()
	checkBN("BatchNormBackward", x, dy, c, gamma, mean, invStd, dgamma, dbeta)
	engine.SameShape("BatchNormBackward", x, dx)
	t := &b.k.bnBack
	*t = bnBackTask{n: n, c: c, hw: h * w, x: f32(x), dy: f32(dy), dx: f32(dx), gamma: f32(gamma),
		mean: f32(mean), invStd: f32(invStd), dgamma: f32(dgamma), dbeta: f32(dbeta)}
	if !y.IsZero() {
		engine.SameShape("BatchNormReLUBackward", x, y)
		t.y = f32(y)
	}
	b.pool.For(c, 1, t)
}

func checkBN(op string, x, y engine.Tensor, c int, perChannel ...engine.Tensor) {
	engine.SameShape(op, x, y)
	for _, p := range perChannel {
		if p.Numel() != c {
			panic(fmt.Sprintf("cpu: %s: x %v needs %d per-channel values, got %v", op, x.Shape, c, p.Shape))
		}
	}
}

type bnTask struct {
	n, c, hw                                         int
	x, y, gamma, beta, runMean, runVar, mean, invStd []float32
	eps, mom                                         float32
	relu, train                                      bool
}

func (t *bnTask) run(lo, hi int) {
	for ch := lo; ch < hi; ch++ {
		mu, inv := t.stats(ch)
		for i := 0; i < t.n; i++ {
			off := (i*t.c + ch) * t.hw
			t.apply(ch, mu, inv, t.x[off:off+t.hw], t.y[off:off+t.hw])
		}
	}
}

// stats returns channel ch's mean and 1/sqrt(var + eps): the batch's in
// training, after updating the running statistics, else the running ones.
func (t *bnTask) stats(ch int) (mu, inv float32) {
	if !t.train {
		return t.runMean[ch], float32(1 / math.Sqrt(float64(t.runVar[ch])+float64(t.eps)))
	}
	// One pass in float64 over x − k, k = the channel's first value: with
	// float64 sums and a shift inside the data's range the variance does
	// not cancel, and it agrees with the CUDA kernel's two-pass float64
	// statistics far below float32 rounding.
	k := float64(t.x[ch*t.hw])
	var s, ss float64
	for i := 0; i < t.n; i++ {
		ps, pss := moments(t.x[(i*t.c+ch)*t.hw:][:t.hw], k)
		s += ps
		ss += pss
	}
	return t.finish(ch, k, s, ss)
}

// finish turns channel ch's sums s = Σ(x−k) and ss = Σ(x−k)² into its
// mean and 1/sqrt(var + eps), stores them and updates the running
// statistics.
func (t *bnTask) finish(ch int, k, s, ss float64) (mu, inv float32) {
	m := float64(t.n * t.hw)
	d := s / m
	vr := max(ss/m-d*d, 0)
	mean := k + d
	mu, inv = float32(mean), float32(1/math.Sqrt(vr+float64(t.eps)))
	t.mean[ch], t.invStd[ch] = mu, inv
	unbiased := vr
	if m > 1 {
		unbiased = vr * m / (m - 1)
	}
	t.runMean[ch] = (1-t.mom)*t.runMean[ch] + t.mom*mu
	t.runVar[ch] = (1-t.mom)*t.runVar[ch] + t.mom*float32(unbiased)
	return mu, inv
}

// apply writes one plane of channel ch: ys = gamma·(xs − mu)·inv + beta,
// then the ReLU if fused.
func (t *bnTask) apply(ch int, mu, inv float32, xs, ys []float32) {
	scale := t.gamma[ch] * inv
	shift := t.beta[ch] - mu*scale
	ys = ys[:len(xs)]
	if hasAVX2 && len(xs) >= 8 {
		n := len(xs) &^ 7
		relu := 0
		if t.relu {
			relu = 1
		}
		bnApplyAVX2(&xs[0], &ys[0], n, scale, shift, relu)
		xs, ys = xs[n:], ys[n:]
	}
	if t.relu {
		for j, v := range xs {
			ys[j] = max(v*scale+shift, 0)
		}
		return
	}
	for j, v := range xs {
		ys[j] = v*scale + shift
	}
}

type bnBackTask struct {
	n, c, hw                                         int
	x, y, dy, dx, gamma, mean, invStd, dgamma, dbeta []float32
}

func (t *bnBackTask) run(lo, hi int) {
	for ch := lo; ch < hi; ch++ {
		mu := t.mean[ch]
		var sdy, sdyx float64
		for i := 0; i < t.n; i++ {
			off := (i*t.c + ch) * t.hw
			s1, s2 := bnBackSums(t.x[off:off+t.hw], t.dy[off:off+t.hw], t.plane(t.y, off), mu)
			sdy += float64(s1)
			sdyx += float64(s2)
		}
		km, a, bb := t.coefficients(ch, sdy, sdyx)
		for i := 0; i < t.n; i++ {
			off := (i*t.c + ch) * t.hw
			bnBackDX(t.x[off:off+t.hw], t.dy[off:off+t.hw], t.plane(t.y, off), t.dx[off:off+t.hw], mu, km, a, bb)
		}
	}
}

// coefficients accumulates channel ch's dgamma and dbeta from Σdy and
// Σdy·(x−mu), and returns the factors of dx = km·dy − a − (x−mu)·bb.
func (t *bnBackTask) coefficients(ch int, sdy, sdyx float64) (km, a, bb float32) {
	inv := t.invStd[ch]
	sdyx *= float64(inv) // Σ dy·x̂
	m := float32(t.n * t.hw)
	t.dbeta[ch] += float32(sdy)
	t.dgamma[ch] += float32(sdyx)
	k := t.gamma[ch] * inv / m
	return k * m, k * float32(sdy), k * float32(sdyx) * inv
}

// bnBackDX writes one plane of dx, dy masked by y > 0 when ys is not nil.
func bnBackDX(xs, dys, ys, dxs []float32, mu, km, a, bb float32) {
	dys, dxs = dys[:len(xs)], dxs[:len(xs)]
	if hasAVX2 && len(xs) >= 8 {
		n, yp, masked := len(xs)&^7, (*float32)(nil), 0
		if ys != nil {
			ys = ys[:len(xs)]
			yp, masked = &ys[0], 1
		}
		bnBackDXMaskAVX2(&xs[0], &dys[0], yp, &dxs[0], n, mu, km, a, bb, masked)
		xs, dys, dxs = xs[n:], dys[n:], dxs[n:]
		if ys != nil {
			ys = ys[n:]
		}
	}
	if ys != nil {
		ys = ys[:len(xs)]
		for j, x := range xs {
			dxs[j] = km*reluMask(dys[j], ys[j]) - a - (x-mu)*bb
		}
		return
	}
	for j, x := range xs {
		dxs[j] = km*dys[j] - a - (x-mu)*bb
	}
}

func (t *bnBackTask) plane(s []float32, off int) []float32 {
	if s == nil {
		return nil
	}
	return s[off : off+t.hw]
}

// planeMoments returns Σ(x−k) and Σ(x−k)² over one plane in float64, with
// independent accumulators so that the additions pipeline.
func planeMoments(x []float32, k float64) (s, ss float64) {
	var s0, s1, q0, q1 float64
	i := 0
	for ; i+2 <= len(x); i += 2 {
		v := x[i : i+2 : i+2]
		d0, d1 := float64(v[0])-k, float64(v[1])-k
		s0 += d0
		s1 += d1
		q0 += d0 * d0
		q1 += d1 * d1
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - k
		s0 += d
		q0 += d * d
	}
	return s0 + s1, q0 + q1
}

// bnBackSums returns Σ dy and Σ dy·(x−mu) over one plane, dy masked by
// y > 0 when y is not nil, with four independent accumulators.
func bnBackSums(xs, dys, ys []float32, mu float32) (float32, float32) {
	dys = dys[:len(xs)]
	if hasAVX2 && len(xs) >= 8 {
		n, yp, masked := len(xs)&^7, (*float32)(nil), 0
		if ys != nil {
			ys = ys[:len(xs)]
			yp, masked = &ys[0], 1
		}
		s1, s2 := bnBackSumsAVX2(&xs[0], &dys[0], yp, n, mu, masked)
		for i := n; i < len(xs); i++ {
			d := dys[i]
			if ys != nil {
				d = reluMask(d, ys[i])
			}
			s1 += d
			s2 += d * (xs[i] - mu)
		}
		return s1, s2
	}
	var a [4]float32
	var b [4]float32
	n4 := len(xs) &^ 3
	if ys != nil {
		ys = ys[:len(xs)]
		for i := 0; i < n4; i += 4 {
			for k := 0; k < 4; k++ {
				d := reluMask(dys[i+k], ys[i+k])
				a[k] += d
				b[k] += d * (xs[i+k] - mu)
			}
		}
		for i := n4; i < len(xs); i++ {
			if ys[i] > 0 {
				a[0] += dys[i]
				b[0] += dys[i] * (xs[i] - mu)
			}
		}
	} else {
		for i := 0; i < n4; i += 4 {
			x, d := xs[i:i+4:i+4], dys[i:i+4:i+4]
			a[0] += d[0]
			a[1] += d[1]
			a[2] += d[2]
			a[3] += d[3]
			b[0] += d[0] * (x[0] - mu)
			b[1] += d[1] * (x[1] - mu)
			b[2] += d[2] * (x[2] - mu)
			b[3] += d[3] * (x[3] - mu)
		}
		for i := n4; i < len(xs); i++ {
			a[0] += dys[i]
			b[0] += dys[i] * (xs[i] - mu)
		}
	}
	return (a[0] + a[1]) + (a[2] + a[3]), (b[0] + b[1]) + (b[2] + b[3])
}

// reluMask returns d where y > 0 and 0 where y == 0, for y a ReLU output
// (y ≥ 0, never −0), without a branch: half of all ReLU outputs are zero in
// no predictable pattern, and mispredicted branches cost more than the
// arithmetic.
func reluMask(d, y float32) float32 {
	b := math.Float32bits(y)
	m := uint32(int32(b|-b) >> 31) // all ones iff b != 0
	return math.Float32frombits(math.Float32bits(d) & m)
}

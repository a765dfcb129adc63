package cpu

import (
	"fmt"
	"math"

	"sweep/trainer/engine"
)

// Elementwise kernels share one task type with an op code; the switch runs
// once per range, outside the loops.

const ewGrain = 1 << 14 // elements per parallel piece, at least

const (
	ewAdd = iota
	ewMul
	ewScale
	ewAxpy
	ewLerp
	ewAddReLU
	ewActF
	ewActB
	ewSGD
	ewAdamW
	ewDropout
)

type ewTask struct {
	op          int
	act         engine.Act
	a, b, c, d  []float32
	alpha, beta float32
	sgd         engine.SGD
	adam        engine.AdamW
	bc1, bc2    float32
	seed        uint64
}

func (b *Backend) ew(t ewTask, n int) {
	k := &b.k.ew
	*k = t
	b.pool.For(n, ewGrain, k)
}

func same(op string, ts ...engine.Tensor) {
	for _, t := range ts[1:] {
		if t.Numel() != ts[0].Numel() {
			panic(fmt.Sprintf("cpu: %s: shape %v vs %v", op, ts[0].Shape, t.Shape))
		}
	}
}

func (b *Backend) Add(a, bb, y engine.Tensor) {
	same("Add", a, bb, y)
	b.ew(ewTask{op: ewAdd, a: f32(a), b: f32(bb), c: f32(y)}, y.Numel())
}

// AddReLU is the fused residual sum: y = max(a + b, 0).
func (b *Backend) AddReLU(a, bb, y engine.Tensor) {
	same("AddReLU", a, bb, y)
	b.ew(ewTask{op: ewAddReLU, a: f32(a), b: f32(bb), c: f32(y)}, y.Numel())
}

func (b *Backend) Mul(a, bb, y engine.Tensor) {
	same("Mul", a, bb, y)
	b.ew(ewTask{op: ewMul, a: f32(a), b: f32(bb), c: f32(y)}, y.Numel())
}

func (b *Backend) Scale(alpha float32, x, y engine.Tensor) {
	same("Scale", x, y)
	b.ew(ewTask{op: ewScale, alpha: alpha, a: f32(x), c: f32(y)}, y.Numel())
}

func (b *Backend) Axpy(alpha float32, x, y engine.Tensor) {
	same("Axpy", x, y)
	b.ew(ewTask{op: ewAxpy, alpha: alpha, a: f32(x), c: f32(y)}, y.Numel())
}

func (b *Backend) Lerp(t float32, src, dst engine.Tensor) {
	same("Lerp", src, dst)
	b.ew(ewTask{op: ewLerp, alpha: t, a: f32(src), c: f32(dst)}, dst.Numel())
}

func (b *Backend) ActForward(act engine.Act, x, y engine.Tensor) {
	same("ActForward", x, y)
	b.ew(ewTask{op: ewActF, act: act, a: f32(x), c: f32(y)}, y.Numel())
}

func (b *Backend) ActBackward(act engine.Act, x, y, dy, dx engine.Tensor) {
	same("ActBackward", x, y, dy, dx)
	b.ew(ewTask{op: ewActB, act: act, a: f32(x), b: f32(y), d: f32(dy), c: f32(dx)}, dx.Numel())
}

func (b *Backend) SGDStep(h engine.SGD, p, g, v engine.Tensor) {
	same("SGDStep", p, g)
	t := ewTask{op: ewSGD, sgd: h, a: f32(p), b: f32(g)}
	if h.Momentum != 0 {
		same("SGDStep", p, v)
		t.c = f32(v)
	}
	b.ew(t, p.Numel())
}

func (b *Backend) AdamWStep(h engine.AdamW, p, g, m, v engine.Tensor) {
	same("AdamWStep", p, g, m, v)
	if h.Step < 1 {
		panic(fmt.Sprintf("cpu: AdamWStep: step %d, want ≥ 1", h.Step))
	}
	bc1 := 1 - math.Pow(float64(h.Beta1), float64(h.Step))
	bc2 := 1 - math.Pow(float64(h.Beta2), float64(h.Step))
	b.ew(ewTask{op: ewAdamW, adam: h, a: f32(p), b: f32(g), c: f32(m), d: f32(v),
		bc1: float32(bc1), bc2: float32(bc2)}, p.Numel())
}

func (b *Backend) DropoutForward(p float32, seed uint64, x, mask, y engine.Tensor) {
	same("DropoutForward", x, mask, y)
	b.ew(ewTask{op: ewDropout, alpha: p, seed: seed, a: f32(x), b: f32(mask), c: f32(y)}, y.Numel())
}

func (t *ewTask) run(lo, hi int) {
	a, b, c, d := sub(t.a, lo, hi), sub(t.b, lo, hi), sub(t.c, lo, hi), sub(t.d, lo, hi)
	switch t.op {
	case ewAdd:
		for i := range c {
			c[i] = a[i] + b[i]
		}
	case ewAddReLU:
		for i := range c {
			c[i] = max(a[i]+b[i], 0)
		}
	case ewMul:
		for i := range c {
			c[i] = a[i] * b[i]
		}
	case ewScale:
		for i := range c {
			c[i] = t.alpha * a[i]
		}
	case ewAxpy:
		for i := range c {
			c[i] += t.alpha * a[i]
		}
	case ewLerp:
		for i := range c {
			c[i] += t.alpha * (a[i] - c[i])
		}
	case ewActF:
		actForward(t.act, a, c)
	case ewActB:
		actBackward(t.act, a, b, d, c)
	case ewSGD:
		sgdStep(t.sgd, a, b, c)
	case ewAdamW:
		h := t.adam
		for i := range a {
			g := b[i]
			a[i] -= h.LR * h.WeightDecay * a[i]
			c[i] = h.Beta1*c[i] + (1-h.Beta1)*g
			d[i] = h.Beta2*d[i] + (1-h.Beta2)*g*g
			den := float32(math.Sqrt(float64(d[i]/t.bc2))) + h.Eps
			a[i] -= h.LR * (c[i] / t.bc1) / den
		}
	case ewDropout:
		keep := 1 / (1 - t.alpha)
		for i := range c {
			m := float32(0)
			if engine.Uniform(t.seed, uint64(lo+i)) >= t.alpha {
				m = keep
			}
			b[i] = m
			c[i] = a[i] * m
		}
	}
}

func sub(s []float32, lo, hi int) []float32 {
	if s == nil {
		return nil
	}
	return s[lo:hi:hi]
}

func actForward(act engine.Act, x, y []float32) {
	y = y[:len(x)]
	switch act {
	case engine.ReLU:
		for i, v := range x {
			y[i] = max(v, 0)
		}
	case engine.SiLU:
		for i, v := range x {
			y[i] = v * sigmoid(v)
		}
	case engine.Sigmoid:
		for i, v := range x {
			y[i] = sigmoid(v)
		}
	case engine.GELU:
		geluForward(x, y)
	default:
		panic(fmt.Sprintf("cpu: unknown activation %v", act))
	}
}

func actBackward(act engine.Act, x, y, dy, dx []float32) {
	dx = dx[:len(dy)]
	switch act {
	case engine.ReLU:
		y = y[:len(dy)]
		for i, g := range dy {
			dx[i] = reluMask(g, max(y[i], 0))
		}
	case engine.SiLU:
		x = x[:len(dy)]
		for i, g := range dy {
			s := sigmoid(x[i])
			dx[i] = g * s * (1 + x[i]*(1-s))
		}
	case engine.Sigmoid:
		y = y[:len(dy)]
		for i, g := range dy {
			dx[i] = g * y[i] * (1 - y[i])
		}
	case engine.GELU:
		geluBackward(x, dy, dx)
	default:
		panic(fmt.Sprintf("cpu: unknown activation %v", act))
	}
}

func sigmoid(v float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(v))))
}

func sgdStep(h engine.SGD, p, g, v []float32) {
	g = g[:len(p)]
	if h.Momentum == 0 {
		for i := range p {
			p[i] -= h.LR * (g[i] + h.WeightDecay*p[i])
		}
		return
	}
	v = v[:len(p)]
	for i := range p {
		gi := g[i] + h.WeightDecay*p[i]
		v[i] = h.Momentum*v[i] + (1-h.Dampening)*gi
		if h.Nesterov {
			gi += h.Momentum * v[i]
		} else {
			gi = v[i]
		}
		p[i] -= h.LR * gi
	}
}

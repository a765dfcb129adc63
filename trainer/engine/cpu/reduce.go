package cpu

import (
	"fmt"
	"math"

	"sweep/trainer/engine"
)

// ───────────────────────────── channels ───────────────────────────────────

// chanTask works on (image, channel) planes of hw elements, or on whole
// channels for SumChannels.
type chanTask struct {
	op           int
	n, c, hw     int
	x, s, y, dy  []float32
	dx, ds, bias []float32
}

const (
	chBias = iota
	chSum
	chScale
	chScaleBack
)

func (b *Backend) AddChannelBias(x, bias engine.Tensor) {
	n, c, h, w := x.Shape.NCHW()
	checkChannels("AddChannelBias", x, bias, c)
	b.channels(chanTask{op: chBias, n: n, c: c, hw: h * w, x: f32(x), bias: f32(bias)}, n*c)
}

func (b *Backend) SumChannels(dy, db engine.Tensor) {
	n, c, h, w := dy.Shape.NCHW()
	checkChannels("SumChannels", dy, db, c)
	b.channels(chanTask{op: chSum, n: n, c: c, hw: h * w, dy: f32(dy), bias: f32(db)}, c)
}

func (b *Backend) ScaleChannels(x, s, y engine.Tensor) {
	n, c, h, w := x.Shape.NCHW()
	checkChannels("ScaleChannels", x, s, n*c)
	same("ScaleChannels", x, y)
	b.channels(chanTask{op: chScale, n: n, c: c, hw: h * w, x: f32(x), s: f32(s), y: f32(y)}, n*c)
}

func (b *Backend) ScaleChannelsBackward(x, s, dy, dx, ds engine.Tensor) {
	n, c, h, w := x.Shape.NCHW()
	checkChannels("ScaleChannelsBackward", x, s, n*c)
	checkChannels("ScaleChannelsBackward", x, ds, n*c)
	same("ScaleChannelsBackward", x, dy, dx)
	b.channels(chanTask{op: chScaleBack, n: n, c: c, hw: h * w, x: f32(x), s: f32(s), dy: f32(dy),
		dx: f32(dx), ds: f32(ds)}, n*c)
}

func checkChannels(op string, x, v engine.Tensor, want int) {
	if v.Numel() != want {
		panic(fmt.Sprintf("cpu: %s: x %v needs %d values, got %v", op, x.Shape, want, v.Shape))
	}
}

func (b *Backend) channels(t chanTask, items int) {
	k := &b.k.ch
	*k = t
	b.pool.For(items, max(1, ewGrain/max(t.hw, 1)), k)
}

func (t *chanTask) run(lo, hi int) {
	hw := t.hw
	for it := lo; it < hi; it++ {
		switch t.op {
		case chBias:
			v := t.bias[it%t.c]
			row := t.x[it*hw : (it+1)*hw]
			for i := range row {
				row[i] += v
			}
		case chSum:
			var s float32
			for n := 0; n < t.n; n++ {
				for _, v := range t.dy[(n*t.c+it)*hw : (n*t.c+it+1)*hw] {
					s += v
				}
			}
			t.bias[it] += s
		case chScale:
			v := t.s[it]
			x, y := t.x[it*hw:(it+1)*hw], t.y[it*hw:(it+1)*hw]
			for i := range y {
				y[i] = x[i] * v
			}
		case chScaleBack:
			v := t.s[it]
			x, dy, dx := t.x[it*hw:(it+1)*hw], t.dy[it*hw:(it+1)*hw], t.dx[it*hw:(it+1)*hw]
			var s float32
			for i := range dx {
				s += dy[i] * x[i]
				dx[i] = dy[i] * v
			}
			t.ds[it] = s
		}
	}
}

// ───────────────────────────── loss ───────────────────────────────────────

func (b *Backend) SoftmaxCrossEntropy(logits, labels engine.Tensor, smoothing, gradScale float32, losses, dlogits engine.Tensor) {
	n, k := logits.Dim(0), logits.Dim(1)
	if labels.Numel() != n || losses.Numel() != n || (!dlogits.IsZero() && dlogits.Shape != logits.Shape) {
		panic(fmt.Sprintf("cpu: SoftmaxCrossEntropy: logits %v labels %v losses %v dlogits %v",
			logits.Shape, labels.Shape, losses.Shape, dlogits.Shape))
	}
	x, y, l := f32(logits), i32(labels), f32(losses)
	var d []float32
	if !dlogits.IsZero() {
		d = f32(dlogits)
	}
	off := smoothing / float32(k)
	for i := 0; i < n; i++ {
		row := x[i*k : (i+1)*k]
		lab := int(y[i])
		if lab < 0 || lab >= k {
			panic(fmt.Sprintf("cpu: SoftmaxCrossEntropy: label %d of sample %d outside [0,%d)", lab, i, k))
		}
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v - m))
		}
		lse := float32(math.Log(z)) + m
		var loss float32
		for j, v := range row {
			q := off
			if j == lab {
				q += 1 - smoothing
			}
			loss += q * (lse - v)
			if d != nil {
				p := float32(math.Exp(float64(v - lse)))
				d[i*k+j] = (p - q) * gradScale
			}
		}
		l[i] = loss
	}
}

func (b *Backend) Argmax(x, idx engine.Tensor) {
	n, k := x.Dim(0), x.Dim(1)
	if idx.Numel() != n {
		panic(fmt.Sprintf("cpu: Argmax: x %v idx %v", x.Shape, idx.Shape))
	}
	xs, out := f32(x), i32(idx)
	for i := 0; i < n; i++ {
		row := xs[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = int32(best)
	}
}

// ───────────────────────────── reductions ─────────────────────────────────

// Reductions sum fixed blocks of redBlock elements in float64, in parallel,
// then add the block sums in order: the same result at any thread count.
const redBlock = 1 << 14

type redTask struct {
	op    int
	x     []float32
	parts []float64
}

const (
	redSum = iota
	redSumSq
	redZeros
)

func (t *redTask) run(lo, hi int) {
	for blk := lo; blk < hi; blk++ {
		s := t.x[blk*redBlock : min((blk+1)*redBlock, len(t.x))]
		var acc float64
		switch t.op {
		case redSum:
			for _, v := range s {
				acc += float64(v)
			}
		case redSumSq:
			for _, v := range s {
				acc += float64(v) * float64(v)
			}
		case redZeros:
			for _, v := range s {
				if v == 0 {
					acc++
				}
			}
		}
		t.parts[blk] = acc
	}
}

func (b *Backend) reduce(op int, x engine.Tensor) float64 {
	xs := f32(x)
	blocks := (len(xs) + redBlock - 1) / redBlock
	if cap(b.sums) < blocks {
		b.sums = make([]float64, blocks)
	}
	t := &b.k.red
	*t = redTask{op: op, x: xs, parts: b.sums[:blocks]}
	b.pool.For(blocks, 1, t)
	var s float64
	for _, v := range t.parts {
		s += v
	}
	return s
}

func (b *Backend) Sum(x engine.Tensor) float64        { return b.reduce(redSum, x) }
func (b *Backend) SumSquares(x engine.Tensor) float64 { return b.reduce(redSumSq, x) }
func (b *Backend) CountZeros(x engine.Tensor) int     { return int(b.reduce(redZeros, x)) }

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"sweep/trainer/engine"
)

// TestIm2colSamePlanes checks the stride-1, same-width im2col against the
// definition, including planes narrower than the padding.
func TestIm2colSamePlanes(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct{ n, c, h, w, r, s, ph, pw, g int }{
		{3, 4, 8, 8, 3, 3, 1, 1, 1},
		{2, 3, 5, 7, 5, 5, 2, 2, 1},
		{2, 4, 6, 6, 3, 3, 1, 1, 2},
		{2, 2, 1, 1, 5, 5, 2, 2, 1},
		{2, 2, 4, 3, 1, 1, 0, 0, 1},
		{2, 2, 3, 2, 3, 1, 0, 0, 1},
	} {
		g := convGeom{n: c.n, c: c.c, h: c.h, w: c.w, k: 2 * c.g, r: c.r, s: c.s, sh: 1, sw: 1, ph: c.ph, pw: c.pw, g: c.g}
		g.p, g.q = c.h+2*c.ph-c.r+1, c.w+2*c.pw-c.s+1
		g.cg, g.kg = c.c/c.g, 2
		if g.q != g.w {
			t.Fatalf("case %+v is not same-width", c)
		}
		xs := make([]float32, c.n*c.c*c.h*c.w)
		for i := range xs {
			xs[i] = float32(r.NormFloat64())
		}
		var p part
		for gi := 0; gi < g.g; gi++ {
			got := append([]float32(nil), im2col(&p, g, xs, 0, c.n, gi)...)
			for i, v := range got {
				if w := im2colRef(g, xs, c.n, gi, i); v != w {
					t.Fatalf("%+v group %d: col[%d] = %v, want %v", c, gi, i, v, w)
				}
			}
			// The bf16 GEMM's row source yields the same rows, one at a time.
			rows := im2colRows{g: g, xs: xs, sh: shifts(&p, g), n0: 0, nb: c.n, gi: gi}
			ld := c.n * g.p * g.q
			row := make([]float32, ld)
			for r := 0; r < g.cg*g.r*g.s; r++ {
				for i := range row {
					row[i] = float32(math.NaN()) // every element must be written
				}
				rows.row(r, row)
				for i, v := range row {
					if w := got[r*ld+i]; v != w {
						t.Fatalf("%+v group %d: im2colRows row %d [%d] = %v, want %v", c, gi, r, i, v, w)
					}
				}
			}
		}
	}
}

// im2colRef returns element i of group gi's col for images [0, nb): row
// (c, r, s), column (n, p, q) holds x[n, c, p−ph+r, q−pw+s], 0 outside.
func im2colRef(g convGeom, xs []float32, nb, gi, i int) float32 {
	ld := nb * g.p * g.q
	row, cl := i/ld, i%ld
	c, r, s := row/(g.r*g.s), row/g.s%g.r, row%g.s
	n, p, q := cl/(g.p*g.q), cl/g.q%g.p, cl%g.q
	h, w := p-g.ph+r, q-g.pw+s
	if h < 0 || h >= g.h || w < 0 || w >= g.w {
		return 0
	}
	return xs[((n*g.c+gi*g.cg+c)*g.h+h)*g.w+w]
}

// TestConv_BF16Streaming checks that the bf16 convolutions that stream
// im2col rows into the GEMM (forward) and col blocks into col2im (input
// gradient) give the bits of the same GEMM on a materialised col.
func TestConv_BF16Streaming(t *testing.T) {
	for _, c := range []struct {
		x, w engine.Shape
		d    engine.ConvDesc
	}{
		{engine.Shape{3, 5, 8, 8}, engine.Shape{7, 5, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1}},
		{engine.Shape{70, 4, 5, 5}, engine.Shape{6, 2, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1, Groups: 2}},
		{engine.Shape{2, 3, 9, 7}, engine.Shape{4, 3, 5, 3}, engine.ConvDesc{PadH: 2, PadW: 1}},
		{engine.Shape{5, 64, 4, 4}, engine.Shape{8, 64, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1}}, // col in 3 blocks
	} {
		var outs [2][]float32
		for i, noStream := range []bool{false, true} {
			b, err := New(Options{Threads: 2, GEMM: BF16})
			if err != nil {
				t.Fatal(err)
			}
			b.noStream = noStream
			rr := rand.New(rand.NewPCG(uint64(c.x[0]), 1))
			x := engine.FromHost(b, c.x, randMatrix(rr, 1, c.x.Numel()))
			w := engine.FromHost(b, c.w, randMatrix(rr, 1, c.w.Numel()))
			p, q := c.d.OutSize(c.x[2], c.x[3], c.w[2], c.w[3])
			ys := engine.Shape{c.x[0], c.w[0], p, q}
			y, dx := engine.New(b, engine.Float32, ys), engine.New(b, engine.Float32, c.x)
			b.ConvForward(c.d, x, w, y)
			b.ConvBackwardData(c.d, engine.FromHost(b, ys, randMatrix(rr, 1, ys.Numel())), w, dx)
			outs[i] = append(Data(y), Data(dx)...)
			b.Close()
		}
		for i := range outs[0] {
			if math.Float32bits(outs[0][i]) != math.Float32bits(outs[1][i]) {
				t.Fatalf("x %v w %v: element %d streamed %g, materialised %g", c.x, c.w, i, outs[0][i], outs[1][i])
			}
		}
	}
}

// ConvBackward must give ConvBackwardFilter's dw and ConvBackwardData's dx
// bit for bit, with dw accumulating onto what it held.
func TestConvBackward_MatchesSeparate(t *testing.T) {
	for _, c := range []struct {
		x, w engine.Shape
		d    engine.ConvDesc
	}{
		{engine.Shape{3, 5, 8, 8}, engine.Shape{7, 5, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1}},                           // chunks of several images
		{engine.Shape{70, 4, 5, 5}, engine.Shape{6, 2, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1, Groups: 2}},               // groups, many chunks
		{engine.Shape{2, 3, 9, 7}, engine.Shape{4, 3, 5, 3}, engine.ConvDesc{PadH: 2, PadW: 1}},                           // non-square kernel
		{engine.Shape{4, 6, 24, 24}, engine.Shape{8, 6, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1, StrideH: 2, StrideW: 2}}, // stride 2
		{engine.Shape{3, 2, 31, 31}, engine.Shape{4, 2, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1}},                         // one image per chunk
	} {
		for _, mode := range []GEMM{FP32, BF16} {
			var outs [2][]float32
			for i, fused := range []bool{false, true} {
				b, err := New(Options{Threads: 2, GEMM: mode})
				if err != nil {
					t.Fatal(err)
				}
				rr := rand.New(rand.NewPCG(uint64(c.x[0]), 2))
				x := engine.FromHost(b, c.x, randMatrix(rr, 1, c.x.Numel()))
				w := engine.FromHost(b, c.w, randMatrix(rr, 1, c.w.Numel()))
				dw := engine.FromHost(b, c.w, randMatrix(rr, 1, c.w.Numel()))
				p, q := c.d.OutSize(c.x[2], c.x[3], c.w[2], c.w[3])
				ys := engine.Shape{c.x[0], c.w[0], p, q}
				dy, dx := engine.FromHost(b, ys, randMatrix(rr, 1, ys.Numel())), engine.New(b, engine.Float32, c.x)
				if fused {
					b.ConvBackward(c.d, x, dy, w, dw, dx)
				} else {
					b.ConvBackwardFilter(c.d, x, dy, dw)
					b.ConvBackwardData(c.d, dy, w, dx)
				}
				outs[i] = append(Data(dw), Data(dx)...)
				b.Close()
			}
			for i := range outs[0] {
				if math.Float32bits(outs[0][i]) != math.Float32bits(outs[1][i]) {
					t.Fatalf("%s x %v w %v: element %d fused %g, separate %g", mode, c.x, c.w, i, outs[1][i], outs[0][i])
				}
			}
		}
	}
}

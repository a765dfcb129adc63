package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
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

package enginetest

import (
	"testing"

	"sweep/trainer/engine"
)

func testGemm(t *testing.T, b engine.Backend, tol float64) {
	for _, c := range []struct {
		m, n, k     int
		ta, tb      bool
		alpha, beta float32
	}{
		{1, 1, 1, false, false, 1, 0}, {7, 5, 3, false, false, 1, 0}, {33, 17, 300, true, false, 0.5, 1},
		{16, 40, 9, false, true, 1, 0.25}, {65, 9, 513, true, true, -1, 1}, {128, 130, 260, false, false, 1, 0},
	} {
		as, bs := engine.Shape{c.m, c.k}, engine.Shape{c.k, c.n}
		if c.ta {
			as = engine.Shape{c.k, c.m}
		}
		if c.tb {
			bs = engine.Shape{c.n, c.k}
		}
		a, ah := Tensor(b, 1, as)
		bm, bh := Tensor(b, 2, bs)
		cm, ch := Tensor(b, 3, engine.Shape{c.m, c.n})
		b.Gemm(c.ta, c.tb, c.alpha, a, bm, c.beta, cm)
		want := make([]float64, c.m*c.n)
		for i := 0; i < c.m; i++ {
			for j := 0; j < c.n; j++ {
				var s float64
				for p := 0; p < c.k; p++ {
					av, bv := ah[i*c.k+p], bh[p*c.n+j]
					if c.ta {
						av = ah[p*c.m+i]
					}
					if c.tb {
						bv = bh[j*c.k+p]
					}
					s += float64(av) * float64(bv)
				}
				want[i*c.n+j] = float64(c.alpha)*s + float64(c.beta)*float64(ch[i*c.n+j])
			}
		}
		Compare(t, name("gemm", c), Host(b, cm), want, tol)
	}
}

// ConvRef is the float64 reference convolution, returning y (N,K,P,Q).
func ConvRef(d engine.ConvDesc, x []float32, xs engine.Shape, w []float32, ws engine.Shape) []float64 {
	d = d.Norm()
	n, c, h, wd := xs.NCHW()
	k, cg, r, s := ws.NCHW()
	p, q := d.OutSize(h, wd, r, s)
	kg := k / d.Groups
	y := make([]float64, n*k*p*q)
	for i := 0; i < n; i++ {
		for o := 0; o < k; o++ {
			g := o / kg
			for pp := 0; pp < p; pp++ {
				for qq := 0; qq < q; qq++ {
					var acc float64
					for ci := 0; ci < cg; ci++ {
						for rr := 0; rr < r; rr++ {
							for ss := 0; ss < s; ss++ {
								hh, ww := pp*d.StrideH-d.PadH+rr, qq*d.StrideW-d.PadW+ss
								if hh < 0 || hh >= h || ww < 0 || ww >= wd {
									continue
								}
								acc += float64(x[((i*c+g*cg+ci)*h+hh)*wd+ww]) * float64(w[((o*cg+ci)*r+rr)*s+ss])
							}
						}
					}
					y[((i*k+o)*p+pp)*q+qq] = acc
				}
			}
		}
	}
	return y
}

// convGrads returns the reference dx and dw by the adjoint loops.
func convGrads(d engine.ConvDesc, x []float32, xs engine.Shape, w []float32, ws engine.Shape, dy []float32) (dx, dw []float64) {
	d = d.Norm()
	n, c, h, wd := xs.NCHW()
	k, cg, r, s := ws.NCHW()
	p, q := d.OutSize(h, wd, r, s)
	kg := k / d.Groups
	dx, dw = make([]float64, len(x)), make([]float64, len(w))
	for i := 0; i < n; i++ {
		for o := 0; o < k; o++ {
			g := o / kg
			for pp := 0; pp < p; pp++ {
				for qq := 0; qq < q; qq++ {
					gy := float64(dy[((i*k+o)*p+pp)*q+qq])
					for ci := 0; ci < cg; ci++ {
						for rr := 0; rr < r; rr++ {
							for ss := 0; ss < s; ss++ {
								hh, ww := pp*d.StrideH-d.PadH+rr, qq*d.StrideW-d.PadW+ss
								if hh < 0 || hh >= h || ww < 0 || ww >= wd {
									continue
								}
								xi, wi := ((i*c+g*cg+ci)*h+hh)*wd+ww, ((o*cg+ci)*r+rr)*s+ss
								dx[xi] += gy * float64(w[wi])
								dw[wi] += gy * float64(x[xi])
							}
						}
					}
				}
			}
		}
	}
	return dx, dw
}

func testConv(t *testing.T, b engine.Backend, tol float64) {
	for _, c := range []struct {
		x, w engine.Shape
		d    engine.ConvDesc
	}{
		{engine.Shape{2, 3, 8, 8}, engine.Shape{4, 3, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1}},
		{engine.Shape{3, 4, 7, 9}, engine.Shape{6, 4, 3, 3}, engine.ConvDesc{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		{engine.Shape{2, 4, 6, 6}, engine.Shape{8, 4, 1, 1}, engine.ConvDesc{StrideH: 2, StrideW: 2}},
		{engine.Shape{2, 4, 5, 5}, engine.Shape{6, 2, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1, Groups: 2}},
		{engine.Shape{2, 4, 5, 5}, engine.Shape{4, 1, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1, Groups: 4}},
		{engine.Shape{70, 2, 8, 8}, engine.Shape{3, 2, 3, 3}, engine.ConvDesc{PadH: 1, PadW: 1}}, // several chunks
		{engine.Shape{1, 3, 9, 7}, engine.Shape{2, 3, 5, 3}, engine.ConvDesc{PadH: 2, PadW: 0}},
	} {
		x, xh := Tensor(b, 11, c.x)
		w, wh := Tensor(b, 12, c.w)
		p, q := c.d.OutSize(c.x[2], c.x[3], c.w[2], c.w[3])
		ys := engine.Shape{c.x[0], c.w[0], p, q}
		y := engine.New(b, engine.Float32, ys)
		b.ConvForward(c.d, x, w, y)
		Compare(t, name("conv fwd ", c.x, c.w), Host(b, y), ConvRef(c.d, xh, c.x, wh, c.w), tol)
		dy, dyh := Tensor(b, 13, ys)
		dx := engine.New(b, engine.Float32, c.x)
		b.Fill(dx, 7) // overwritten
		b.ConvBackwardData(c.d, dy, w, dx)
		dw, dwh := Tensor(b, 14, c.w) // accumulated into
		b.ConvBackwardFilter(c.d, x, dy, dw)
		rdx, rdw := convGrads(c.d, xh, c.x, wh, c.w, dyh)
		for i := range rdw {
			rdw[i] += float64(dwh[i])
		}
		Compare(t, name("conv dx ", c.x, c.w), Host(b, dx), rdx, tol)
		Compare(t, name("conv dw ", c.x, c.w), Host(b, dw), rdw, tol)
	}
}

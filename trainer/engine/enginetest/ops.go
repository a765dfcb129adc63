package enginetest

import (
	"math"
	"testing"

	"sweep/trainer/engine"
)

// bnRef returns the training-mode output, batch mean and biased variance.
func bnRef(x []float32, s engine.Shape, gamma, beta []float32, eps float64, relu bool) (y, mean, vr []float64) {
	n, c, h, w := s.NCHW()
	hw := h * w
	y, mean, vr = make([]float64, len(x)), make([]float64, c), make([]float64, c)
	m := float64(n * hw)
	for ch := 0; ch < c; ch++ {
		for i := 0; i < n; i++ {
			for j := 0; j < hw; j++ {
				mean[ch] += float64(x[(i*c+ch)*hw+j]) / m
			}
		}
		for i := 0; i < n; i++ {
			for j := 0; j < hw; j++ {
				d := float64(x[(i*c+ch)*hw+j]) - mean[ch]
				vr[ch] += d * d / m
			}
		}
		for i := 0; i < n; i++ {
			for j := 0; j < hw; j++ {
				k := (i*c+ch)*hw + j
				y[k] = float64(gamma[ch])*(float64(x[k])-mean[ch])/math.Sqrt(vr[ch]+eps) + float64(beta[ch])
				if relu {
					y[k] = max(y[k], 0)
				}
			}
		}
	}
	return y, mean, vr
}

// bnBackRef returns dx, dgamma and dbeta of training-mode batch norm.
func bnBackRef(x []float32, s engine.Shape, gamma, dy []float32, eps float64, ymask []float64) (dx, dg, db []float64) {
	n, c, h, w := s.NCHW()
	hw := h * w
	_, mean, vr := bnRef(x, s, gamma, gamma, eps, false)
	dx, dg, db = make([]float64, len(x)), make([]float64, c), make([]float64, c)
	m := float64(n * hw)
	for ch := 0; ch < c; ch++ {
		inv := 1 / math.Sqrt(vr[ch]+eps)
		g := func(k int) float64 {
			if ymask != nil && ymask[k] <= 0 {
				return 0
			}
			return float64(dy[k])
		}
		for i := 0; i < n; i++ {
			for j := 0; j < hw; j++ {
				k := (i*c+ch)*hw + j
				db[ch] += g(k)
				dg[ch] += g(k) * (float64(x[k]) - mean[ch]) * inv
			}
		}
		for i := 0; i < n; i++ {
			for j := 0; j < hw; j++ {
				k := (i*c+ch)*hw + j
				xh := (float64(x[k]) - mean[ch]) * inv
				dx[k] = float64(gamma[ch]) * inv / m * (m*g(k) - db[ch] - xh*dg[ch])
			}
		}
	}
	return dx, dg, db
}

func testBatchNorm(t *testing.T, b engine.Backend) {
	s := engine.Shape{4, 3, 5, 5}
	bn := engine.BatchNormDesc{Eps: 1e-5, Momentum: 0.1}
	x, xh := Tensor(b, 21, s)
	gamma, gh := Tensor(b, 22, engine.Shape{3})
	beta, bh := Tensor(b, 23, engine.Shape{3})
	rm, rmh := Tensor(b, 24, engine.Shape{3})
	rv := engine.FromHost(b, engine.Shape{3}, []float32{1, 2, 0.5})
	mean, inv := engine.New(b, engine.Float32, engine.Shape{3}), engine.New(b, engine.Float32, engine.Shape{3})
	y := engine.New(b, engine.Float32, s)
	b.BatchNormTrain(x, gamma, beta, bn, rm, rv, mean, inv, y)
	wy, wm, wv := bnRef(xh, s, gh, bh, 1e-5, false)
	Compare(t, "bn train y", Host(b, y), wy, Tol)
	Compare(t, "bn mean", Host(b, mean), wm, Tol)
	wrm, wrv, winv := make([]float64, 3), make([]float64, 3), make([]float64, 3)
	m := float64(s.Numel() / 3)
	for c := range 3 {
		wrm[c] = 0.9*float64(rmh[c]) + 0.1*wm[c]
		wrv[c] = 0.9*[]float64{1, 2, 0.5}[c] + 0.1*wv[c]*m/(m-1)
		winv[c] = 1 / math.Sqrt(wv[c]+1e-5)
	}
	Compare(t, "bn invStd", Host(b, inv), winv, Tol)
	Compare(t, "bn running mean", Host(b, rm), wrm, Tol)
	Compare(t, "bn running var", Host(b, rv), wrv, Tol)

	// A large mean against a small spread must not cancel the variance.
	off := engine.New(b, engine.Float32, s)
	b.Scale(0.1, x, off)
	shifted := engine.New(b, engine.Float32, s)
	b.Fill(shifted, 50)
	b.Add(off, shifted, off)
	offh := Host(b, off)
	b.BatchNormTrain(off, gamma, beta, bn, engine.New(b, engine.Float32, engine.Shape{3}), engine.New(b, engine.Float32, engine.Shape{3}), mean, inv, y)
	wy2, _, wv2 := bnRef(offh, s, gh, bh, 1e-5, false)
	for c := range 3 {
		winv[c] = 1 / math.Sqrt(wv2[c]+1e-5)
	}
	Compare(t, "bn invStd, mean 50 std 0.1", Host(b, inv), winv, Tol)
	Compare(t, "bn y, mean 50 std 0.1", Host(b, y), wy2, Tol)

	b.BatchNormInfer(x, gamma, beta, bn, rm, rv, y)
	rmH, rvH := Host(b, rm), Host(b, rv)
	want := make([]float64, s.Numel())
	for k := range want {
		c := (k / 25) % 3
		want[k] = float64(gh[c])*(float64(xh[k])-float64(rmH[c]))/math.Sqrt(float64(rvH[c])+1e-5) + float64(bh[c])
	}
	Compare(t, "bn infer y", Host(b, y), want, Tol)

	b.BatchNormTrain(x, gamma, beta, bn, rm, rv, mean, inv, y)
	dy, dyh := Tensor(b, 25, s)
	dx := engine.New(b, engine.Float32, s)
	dg, dgh := Tensor(b, 26, engine.Shape{3})
	db, dbh := Tensor(b, 27, engine.Shape{3})
	b.BatchNormBackward(x, dy, gamma, mean, inv, dx, dg, db)
	wdx, wdg, wdb := bnBackRef(xh, s, gh, dyh, 1e-5, nil)
	for c := range 3 {
		wdg[c] += float64(dgh[c])
		wdb[c] += float64(dbh[c])
	}
	Compare(t, "bn dx", Host(b, dx), wdx, Tol)
	Compare(t, "bn dgamma (accumulated)", Host(b, dg), wdg, Tol)
	Compare(t, "bn dbeta (accumulated)", Host(b, db), wdb, Tol)
}

func testPool(t *testing.T, b engine.Backend) {
	for _, c := range []struct {
		d    engine.PoolDesc
		h, w int
	}{{engine.PoolDesc{KH: 2, KW: 2}, 7, 6}, {engine.PoolDesc{KH: 2, KW: 2}, 8, 6}, {engine.PoolDesc{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, 7, 6}} {
		d := c.d
		s := engine.Shape{2, 3, c.h, c.w}
		x, xh := Tensor(b, 31, s)
		p, q := d.OutSize(c.h, c.w)
		ys := engine.Shape{2, 3, p, q}
		dy, dyh := Tensor(b, 32, ys)
		for _, isMax := range []bool{true, false} {
			y, dx := engine.New(b, engine.Float32, ys), engine.New(b, engine.Float32, s)
			if isMax {
				b.MaxPoolForward(d, x, y)
				b.MaxPoolBackward(d, x, y, dy, dx)
			} else {
				b.AvgPoolForward(d, x, y)
				b.AvgPoolBackward(d, dy, dx)
			}
			wy, wdx := poolRef(d.Norm(), xh, s, dyh, isMax)
			Compare(t, name("pool fwd max=", isMax, d), Host(b, y), wy, Tol)
			Compare(t, name("pool dx max=", isMax, d), Host(b, dx), wdx, Tol)
		}
	}
	s := engine.Shape{3, 4, 5, 5}
	x, xh := Tensor(b, 33, s)
	dy, dyh := Tensor(b, 34, engine.Shape{3, 4})
	y, dx := engine.New(b, engine.Float32, engine.Shape{3, 4}), engine.New(b, engine.Float32, s)
	b.GlobalAvgPoolForward(x, y)
	b.GlobalAvgPoolBackward(dy, dx)
	wy, wdx := make([]float64, 12), make([]float64, s.Numel())
	for k, v := range xh {
		wy[k/25] += float64(v) / 25
		wdx[k] = float64(dyh[k/25]) / 25
	}
	Compare(t, "global avg pool y", Host(b, y), wy, Tol)
	Compare(t, "global avg pool dx", Host(b, dx), wdx, Tol)
}

func poolRef(d engine.PoolDesc, x []float32, s engine.Shape, dy []float32, isMax bool) (y, dx []float64) {
	n, c, h, w := s.NCHW()
	p, q := d.OutSize(h, w)
	y, dx = make([]float64, n*c*p*q), make([]float64, len(x))
	for pl := 0; pl < n*c; pl++ {
		for pp := 0; pp < p; pp++ {
			for qq := 0; qq < q; qq++ {
				o := pl*p*q + pp*q + qq
				best, bestK, sum := math.Inf(-1), -1, 0.0
				for r := 0; r < d.KH; r++ {
					for ss := 0; ss < d.KW; ss++ {
						hh, ww := pp*d.StrideH-d.PadH+r, qq*d.StrideW-d.PadW+ss
						if hh < 0 || hh >= h || ww < 0 || ww >= w {
							continue
						}
						k := pl*h*w + hh*w + ww
						sum += float64(x[k])
						if float64(x[k]) > best {
							best, bestK = float64(x[k]), k
						}
					}
				}
				if isMax {
					y[o] = best
					dx[bestK] += float64(dy[o])
					continue
				}
				y[o] = sum / float64(d.KH*d.KW)
				for r := 0; r < d.KH; r++ {
					for ss := 0; ss < d.KW; ss++ {
						hh, ww := pp*d.StrideH-d.PadH+r, qq*d.StrideW-d.PadW+ss
						if hh >= 0 && hh < h && ww >= 0 && ww < w {
							dx[pl*h*w+hh*w+ww] += float64(dy[o]) / float64(d.KH*d.KW)
						}
					}
				}
			}
		}
	}
	return y, dx
}

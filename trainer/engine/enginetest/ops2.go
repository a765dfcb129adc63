package enginetest

import (
	"math"
	"testing"

	"sweep/trainer/engine"
)

func sig(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func testAct(t *testing.T, b engine.Backend) {
	s := engine.Shape{3, 5, 4, 4}
	x, xh := Tensor(b, 41, s)
	dy, dyh := Tensor(b, 42, s)
	for _, act := range []engine.Act{engine.ReLU, engine.SiLU, engine.Sigmoid, engine.GELU} {
		y, dx := engine.New(b, engine.Float32, s), engine.New(b, engine.Float32, s)
		b.ActForward(act, x, y)
		b.ActBackward(act, x, y, dy, dx)
		wy, wdx := make([]float64, len(xh)), make([]float64, len(xh))
		for i, v := range xh {
			xv, g := float64(v), float64(dyh[i])
			switch act {
			case engine.ReLU:
				wy[i] = max(xv, 0)
				if xv > 0 {
					wdx[i] = g
				}
			case engine.SiLU:
				wy[i] = xv * sig(xv)
				wdx[i] = g * (sig(xv) + xv*sig(xv)*(1-sig(xv)))
			case engine.Sigmoid:
				wy[i] = sig(xv)
				wdx[i] = g * sig(xv) * (1 - sig(xv))
			case engine.GELU: // x·Φ(x), Φ' = φ
				cdf := 0.5 * math.Erfc(-xv/math.Sqrt2)
				wy[i] = xv * cdf
				wdx[i] = g * (cdf + xv*math.Exp(-xv*xv/2)/math.Sqrt(2*math.Pi))
			}
		}
		Compare(t, act.String()+" fwd", Host(b, y), wy, Tol)
		Compare(t, act.String()+" bwd", Host(b, dx), wdx, Tol)
	}
}

func testElementwise(t *testing.T, b engine.Backend) {
	s := engine.Shape{70000} // several parallel pieces
	a, ah := Tensor(b, 51, s)
	c, ch := Tensor(b, 52, s)
	y := engine.New(b, engine.Float32, s)
	want := func(f func(a, c float64) float64) []float64 {
		w := make([]float64, len(ah))
		for i := range w {
			w[i] = f(float64(ah[i]), float64(ch[i]))
		}
		return w
	}
	b.Add(a, c, y)
	Compare(t, "add", Host(b, y), want(func(a, c float64) float64 { return a + c }), Tol)
	b.Mul(a, c, y)
	Compare(t, "mul", Host(b, y), want(func(a, c float64) float64 { return a * c }), Tol)
	b.Scale(-0.5, a, y)
	Compare(t, "scale", Host(b, y), want(func(a, c float64) float64 { return -0.5 * a }), Tol)
	b.Copy(y, c)
	b.Axpy(0.25, a, y)
	Compare(t, "axpy", Host(b, y), want(func(a, c float64) float64 { return c + 0.25*a }), Tol)
	b.Copy(y, c)
	b.Lerp(0.1, a, y)
	Compare(t, "lerp", Host(b, y), want(func(a, c float64) float64 { return c + float64(float32(0.1))*(a-c) }), Tol)
	b.Fill(y, 3)
	Compare(t, "fill", Host(b, y), want(func(a, c float64) float64 { return 3 }), 0)
	lab := engine.New(b, engine.Int32, engine.Shape{3})
	b.CopyInInt32(lab, []int32{4, -2, 9})
	Compare(t, "int32 copy", Host(b, lab), []float64{4, -2, 9}, 0)
	v := a.Slice(100, 103)
	Compare(t, "slice view", Host(b, v), f64(ah[100:103]), 0)
}

func testChannels(t *testing.T, b engine.Backend) {
	s := engine.Shape{3, 4, 2, 5}
	x, xh := Tensor(b, 61, s)
	bias, biash := Tensor(b, 62, engine.Shape{4})
	sc, sch := Tensor(b, 63, engine.Shape{3, 4})
	dy, dyh := Tensor(b, 64, s)
	db, dbh := Tensor(b, 65, engine.Shape{4})
	y, dx, ds := engine.New(b, engine.Float32, s), engine.New(b, engine.Float32, s), engine.New(b, engine.Float32, engine.Shape{3, 4})
	b.ScaleChannels(x, sc, y)
	b.ScaleChannelsBackward(x, sc, dy, dx, ds)
	b.SumChannels(dy, db)
	b.AddChannelBias(x, bias)
	wx, wy, wdx, wds, wdb := make([]float64, len(xh)), make([]float64, len(xh)), make([]float64, len(xh)), make([]float64, 12), f64(dbh)
	for k, v := range xh {
		nc, c := k/10, (k/10)%4
		wx[k] = float64(v) + float64(biash[c])
		wy[k] = float64(v) * float64(sch[nc])
		wdx[k] = float64(dyh[k]) * float64(sch[nc])
		wds[nc] += float64(dyh[k]) * float64(v)
		wdb[c] += float64(dyh[k])
	}
	Compare(t, "scale channels y", Host(b, y), wy, Tol)
	Compare(t, "scale channels dx", Host(b, dx), wdx, Tol)
	Compare(t, "scale channels ds", Host(b, ds), wds, Tol)
	Compare(t, "sum channels (accumulated)", Host(b, db), wdb, Tol)
	Compare(t, "add channel bias", Host(b, x), wx, Tol)
}

func testLoss(t *testing.T, b engine.Backend) {
	n, k := 5, 7
	x, xh := Tensor(b, 71, engine.Shape{n, k})
	b.Scale(4, x, x) // confident logits
	xh = Host(b, x)
	labs := []int32{0, 6, 3, 3, 1}
	lab := engine.New(b, engine.Int32, engine.Shape{n})
	b.CopyInInt32(lab, labs)
	for _, sm := range []float32{0, 0.1} {
		losses, dl := engine.New(b, engine.Float32, engine.Shape{n}), engine.New(b, engine.Float32, engine.Shape{n, k})
		b.SoftmaxCrossEntropy(x, lab, sm, 1/float32(n), losses, dl)
		wl, wd := make([]float64, n), make([]float64, n*k)
		for i := 0; i < n; i++ {
			mx := math.Inf(-1)
			for j := 0; j < k; j++ {
				mx = max(mx, float64(xh[i*k+j]))
			}
			var z float64
			for j := 0; j < k; j++ {
				z += math.Exp(float64(xh[i*k+j]) - mx)
			}
			for j := 0; j < k; j++ {
				q := float64(sm) / float64(k)
				if j == int(labs[i]) {
					q += 1 - float64(sm)
				}
				lp := float64(xh[i*k+j]) - mx - math.Log(z)
				wl[i] -= q * lp
				wd[i*k+j] = (math.Exp(lp) - q) / float64(n)
			}
		}
		Compare(t, name("softmax CE losses s=", sm), Host(b, losses), wl, Tol)
		Compare(t, name("softmax CE dlogits s=", sm), Host(b, dl), wd, Tol)
		b.SoftmaxCrossEntropy(x, lab, sm, 1, losses, engine.Tensor{}) // inference: no gradient
		Compare(t, name("softmax CE no-grad s=", sm), Host(b, losses), wl, Tol)
	}
	idx := engine.New(b, engine.Int32, engine.Shape{n})
	b.Argmax(x, idx)
	wi := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			if xh[i*k+j] > xh[i*k+int(wi[i])] {
				wi[i] = float64(j)
			}
		}
	}
	Compare(t, "argmax", Host(b, idx), wi, 0)
}

func testReduce(t *testing.T, b engine.Backend) {
	x, xh := Tensor(b, 81, engine.Shape{50001})
	b.Copy(x.Slice(0, 1000), engine.New(b, engine.Float32, engine.Shape{1000})) // 1000 zeros
	xh = Host(b, x)
	var s, ss float64
	zeros := 0
	for _, v := range xh {
		s += float64(v)
		ss += float64(v) * float64(v)
		if v == 0 {
			zeros++
		}
	}
	Compare(t, "sum", []float32{float32(b.Sum(x))}, []float64{s}, 1e-6)
	Compare(t, "sum of squares", []float32{float32(b.SumSquares(x))}, []float64{ss}, 1e-6)
	Compare(t, "count zeros", []float32{float32(b.CountZeros(x))}, []float64{float64(zeros)}, 0)
	b.Fill(x.Slice(7, 8), float32(math.NaN()))
	if v := b.SumSquares(x); !math.IsNaN(v) {
		t.Errorf("SumSquares with a NaN = %v, want NaN", v)
	}
}

func testOptim(t *testing.T, b engine.Backend) {
	s := engine.Shape{40000}
	p, ph := Tensor(b, 91, s)
	g, gh := Tensor(b, 92, s)
	v, vh := Tensor(b, 93, s)
	for _, nest := range []bool{false, true} {
		h := engine.SGD{LR: 0.1, Momentum: 0.9, Dampening: 0.1, WeightDecay: 5e-4, Nesterov: nest}
		pp, vv := engine.New(b, engine.Float32, s), engine.New(b, engine.Float32, s)
		b.Copy(pp, p)
		b.Copy(vv, v)
		b.SGDStep(h, pp, g, vv)
		wp, wv := make([]float64, len(ph)), make([]float64, len(ph))
		for i := range ph {
			gi := float64(gh[i]) + float64(h.WeightDecay)*float64(ph[i])
			wv[i] = float64(h.Momentum)*float64(vh[i]) + (1-float64(h.Dampening))*gi
			step := wv[i]
			if nest {
				step = gi + float64(h.Momentum)*wv[i]
			}
			wp[i] = float64(ph[i]) - float64(h.LR)*step
		}
		Compare(t, name("sgd p nesterov=", nest), Host(b, pp), wp, Tol)
		Compare(t, name("sgd v nesterov=", nest), Host(b, vv), wv, Tol)
	}
	m := engine.New(b, engine.Float32, s)
	vv := engine.New(b, engine.Float32, s)
	b.Copy(m, v)
	b.Mul(v, v, vv)
	h := engine.AdamW{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.05, Step: 3}
	b.AdamWStep(h, p, g, m, vv)
	wp, wm := make([]float64, len(ph)), make([]float64, len(ph))
	for i := range ph {
		pi := float64(ph[i]) * (1 - float64(h.LR)*float64(h.WeightDecay))
		wm[i] = 0.9*float64(vh[i]) + 0.1*float64(gh[i])
		wvv := 0.999*float64(vh[i])*float64(vh[i]) + 0.001*float64(gh[i])*float64(gh[i])
		mh, vhat := wm[i]/(1-math.Pow(0.9, 3)), wvv/(1-math.Pow(0.999, 3))
		wp[i] = pi - float64(h.LR)*mh/(math.Sqrt(vhat)+1e-8)
	}
	Compare(t, "adamw p", Host(b, p), wp, Tol)
	Compare(t, "adamw m", Host(b, m), wm, Tol)
}

func testDropout(t *testing.T, b engine.Backend) {
	s := engine.Shape{20000}
	x, xh := Tensor(b, 101, s)
	mask, y := engine.New(b, engine.Float32, s), engine.New(b, engine.Float32, s)
	b.DropoutForward(0.3, 42, x, mask, y)
	wm, wy := make([]float64, len(xh)), make([]float64, len(xh))
	kept := 0
	for i, v := range xh {
		if engine.Uniform(42, uint64(i)) >= 0.3 {
			wm[i] = 1 / float64(float32(0.7))
			kept++
		}
		wy[i] = float64(v) * wm[i]
	}
	Compare(t, "dropout mask", Host(b, mask), wm, 1e-6)
	Compare(t, "dropout y", Host(b, y), wy, Tol)
	if frac := float64(kept) / float64(len(xh)); math.Abs(frac-0.7) > 0.02 {
		t.Errorf("dropout kept %.3f of elements, want about 0.7", frac)
	}
}

// testFused checks the optional fused kernels against the unfused ops of
// the same backend.
func testFused(t *testing.T, b engine.Backend) {
	s := engine.Shape{3, 4, 3, 3}
	bn := engine.BatchNormDesc{Eps: 1e-5, Momentum: 0.1}
	x, xh := Tensor(b, 111, s)
	gamma, gh := Tensor(b, 112, engine.Shape{4})
	beta, bh := Tensor(b, 113, engine.Shape{4})
	if f, ok := b.(engine.BatchNormReLUTrainer); ok {
		rm, rv := engine.New(b, engine.Float32, engine.Shape{4}), engine.New(b, engine.Float32, engine.Shape{4})
		mean, inv := engine.New(b, engine.Float32, engine.Shape{4}), engine.New(b, engine.Float32, engine.Shape{4})
		y := engine.New(b, engine.Float32, s)
		f.BatchNormReLUTrain(x, gamma, beta, bn, rm, rv, mean, inv, y)
		wy, _, _ := bnRef(xh, s, gh, bh, 1e-5, true)
		Compare(t, "bn+relu y", Host(b, y), wy, Tol)
		if fb, ok := b.(engine.BatchNormReLUBackwarder); ok {
			dy, dyh := Tensor(b, 114, s)
			dx := engine.New(b, engine.Float32, s)
			dg, db := engine.New(b, engine.Float32, engine.Shape{4}), engine.New(b, engine.Float32, engine.Shape{4})
			fb.BatchNormReLUBackward(x, y, dy, gamma, mean, inv, dx, dg, db)
			wdx, wdg, wdb := bnBackRef(xh, s, gh, dyh, 1e-5, wy)
			Compare(t, "bn+relu dx", Host(b, dx), wdx, Tol)
			Compare(t, "bn+relu dgamma", Host(b, dg), wdg, Tol)
			Compare(t, "bn+relu dbeta", Host(b, db), wdb, Tol)
		}
	}
	testBatchNormPool(t, b)
	if f, ok := b.(engine.AddReLUForwarder); ok {
		a, ah := Tensor(b, 115, s)
		y := engine.New(b, engine.Float32, s)
		f.AddReLU(a, x, y)
		w := make([]float64, len(ah))
		for i := range w {
			w[i] = max(float64(ah[i])+float64(xh[i]), 0)
		}
		Compare(t, "add+relu", Host(b, y), w, Tol)
	}
}

// testBatchNormPool checks the fused batch norm + ReLU + max pool against
// the float64 references of its parts.
func testBatchNormPool(t *testing.T, b engine.Backend) {
	f, ok1 := b.(engine.BatchNormReLUMaxPoolTrainer)
	fb, ok2 := b.(engine.BatchNormReLUMaxPoolBackwarder)
	if !ok1 || !ok2 {
		return
	}
	for _, c := range []struct {
		d    engine.PoolDesc
		h, w int
	}{{engine.PoolDesc{KH: 2, KW: 2}, 6, 8}, {engine.PoolDesc{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, 7, 6}} {
		s := engine.Shape{3, 4, c.h, c.w}
		d := c.d.Norm()
		p, q := d.OutSize(c.h, c.w)
		ps := engine.Shape{3, 4, p, q}
		bn := engine.BatchNormDesc{Eps: 1e-5, Momentum: 0.1}
		x, xh := Tensor(b, 121, s)
		gamma, gh := Tensor(b, 122, engine.Shape{4})
		beta, bh := Tensor(b, 123, engine.Shape{4})
		rm, rv := engine.New(b, engine.Float32, engine.Shape{4}), engine.New(b, engine.Float32, engine.Shape{4})
		mean, inv := engine.New(b, engine.Float32, engine.Shape{4}), engine.New(b, engine.Float32, engine.Shape{4})
		py, idx := engine.New(b, engine.Float32, ps), engine.New(b, engine.Int32, ps)
		f.BatchNormReLUMaxPoolTrain(d, x, gamma, beta, bn, rm, rv, mean, inv, py, idx)
		wy, _, _ := bnRef(xh, s, gh, bh, 1e-5, true)
		y32 := make([]float32, len(wy))
		for i, v := range wy {
			y32[i] = float32(v)
		}
		pdy, pdyh := Tensor(b, 124, ps)
		wpy, dyFull := poolRef(d, y32, s, pdyh, true)
		Compare(t, name("bn+relu+pool py ", d), Host(b, py), wpy, Tol)
		Compare(t, name("bn+relu+pool idx ", d), Host(b, idx), argmaxRef(d, y32, s), 0)
		dx := engine.New(b, engine.Float32, s)
		dg, db := engine.New(b, engine.Float32, engine.Shape{4}), engine.New(b, engine.Float32, engine.Shape{4})
		fb.BatchNormReLUMaxPoolBackward(d, x, py, idx, pdy, gamma, mean, inv, dx, dg, db)
		dyf := make([]float32, len(dyFull))
		for i, v := range dyFull {
			dyf[i] = float32(v)
		}
		wdx, wdg, wdb := bnBackRef(xh, s, gh, dyf, 1e-5, wy)
		Compare(t, name("bn+relu+pool dx ", d), Host(b, dx), wdx, Tol)
		Compare(t, name("bn+relu+pool dgamma ", d), Host(b, dg), wdg, Tol)
		Compare(t, name("bn+relu+pool dbeta ", d), Host(b, db), wdb, Tol)
	}
}

// argmaxRef returns each window's first maximum as an offset in its plane.
func argmaxRef(d engine.PoolDesc, y []float32, s engine.Shape) []float64 {
	n, c, h, w := s.NCHW()
	p, q := d.OutSize(h, w)
	out := make([]float64, 0, n*c*p*q)
	for pl := 0; pl < n*c; pl++ {
		for pp := 0; pp < p; pp++ {
			for qq := 0; qq < q; qq++ {
				best, at := float32(math.Inf(-1)), -1
				for r := 0; r < d.KH; r++ {
					for ss := 0; ss < d.KW; ss++ {
						hh, ww := pp*d.StrideH-d.PadH+r, qq*d.StrideW-d.PadW+ss
						if hh >= 0 && hh < h && ww >= 0 && ww < w && y[pl*h*w+hh*w+ww] > best {
							best, at = y[pl*h*w+hh*w+ww], hh*w+ww
						}
					}
				}
				out = append(out, float64(at))
			}
		}
	}
	return out
}

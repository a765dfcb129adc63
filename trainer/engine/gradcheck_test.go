package engine_test

import (
	"fmt"
	"math"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/enginetest"
)

func newCPU(tb testing.TB, blas string, threads int) *cpu.Backend {
	tb.Helper()
	b, err := cpu.New(cpu.Options{BLAS: blas, Threads: threads})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

// Tolerances of the gradient checks, per tensor (enginetest.CompareRel:
// max|analytic−numeric| / max|numeric|). The numeric gradient is a float64
// central difference (step eps = 1e-3) of float32 forward passes: its
// truncation error is O(eps²) ≈ 1e-6 relative, and its rounding noise is
// about ε₃₂·|L|/eps ≈ 6e-8·|L|/1e-3, i.e. 1e-4 absolute for the losses of
// order 1 these tests use. The gradients checked are 0.03 to 2 in size,
// so the noise alone is up to ~3e-3 relative (measured: at most 3.1e-3,
// on the small net's first conv weight of size 0.03); 1e-2 leaves three
// times that, while a real mistake (a missing term, a wrong index) makes
// the relative error of order 1. Below gradFloor the reference is too
// small for a relative error to mean anything and the bound becomes
// gradTol·gradFloor = 1e-3 absolute, ten times the noise.
const (
	gradTol   = 1e-2
	gradFloor = 0.1
)

// unfused hides the CPU backend's optional fused kernels, so layers take
// their fallback paths.
type unfused struct{ engine.Backend }

// gradCheck compares a layer's analytic gradients with central finite
// differences computed in float64 from float32 forward passes, for the
// objective L = Σ y·r with a fixed random r. It checks the input gradient
// (unless skipInput) and every parameter, on up to 40 elements per tensor,
// and logs the largest difference per tensor as llm.c's test does.
func gradCheck(t *testing.T, b engine.Backend, l engine.Layer, xs engine.Shape, skipInput bool) {
	t.Helper()
	x, _ := enginetest.Tensor(b, 1, xs)
	y := l.Forward(x, engine.Train)
	r, rh := enginetest.Tensor(b, 2, y.Shape)
	objective := func() float64 {
		yh := engine.ToHost(b, l.Forward(x, engine.Train))
		var s float64
		for i, v := range yh {
			s += float64(v) * float64(rh[i])
		}
		return s
	}
	engine.ZeroGrad(b, l.Params())
	l.Forward(x, engine.Train)
	dx := l.Backward(r)
	type target struct {
		name     string
		value    engine.Tensor
		analytic []float32
	}
	var targets []target
	if !skipInput {
		targets = append(targets, target{"input", x, engine.ToHost(b, dx)})
	}
	for _, p := range l.Params() {
		targets = append(targets, target{p.Name, p.Value, engine.ToHost(b, p.Grad)})
	}
	const eps = 1e-3
	for _, tg := range targets {
		v := cpu.Data(tg.value)
		n := len(v)
		step := max(1, n/40)
		var got []float32
		var want []float64
		for i := 0; i < n; i += step {
			orig := v[i]
			v[i] = orig + eps
			lp := objective()
			v[i] = orig - eps
			lm := objective()
			v[i] = orig
			got = append(got, tg.analytic[i])
			want = append(want, (lp-lm)/(2*eps))
		}
		enginetest.CompareRel(t, tg.name, got, want, gradTol, gradFloor)
	}
}

func TestConv2d_Gradients(t *testing.T) {
	b := newCPU(t, "", 2)
	for _, c := range []struct {
		name         string
		cin, cout, k int
		d            engine.ConvDesc
		bias         bool
	}{
		{"3x3 same", 3, 4, 3, engine.ConvDesc{PadH: 1, PadW: 1}, true},
		{"3x3 stride 2", 4, 6, 3, engine.ConvDesc{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, false},
		{"1x1 stride 2", 4, 5, 1, engine.ConvDesc{StrideH: 2, StrideW: 2}, false},
		{"grouped", 4, 6, 3, engine.ConvDesc{PadH: 1, PadW: 1, Groups: 2}, true},
		{"depthwise", 4, 4, 3, engine.ConvDesc{PadH: 1, PadW: 1, Groups: 4}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := engine.NewConv2d(b, engine.NewRand(3), c.cin, c.cout, c.k, c.d, c.bias)
			gradCheck(t, b, l, engine.Shape{2, c.cin, 6, 6}, false)
		})
	}
}

func TestBatchNorm2d_Gradients(t *testing.T) {
	for _, fused := range []bool{true, false} {
		for _, relu := range []bool{false, true} {
			var b engine.Backend = newCPU(t, "", 2)
			if !fused {
				b = unfused{b}
			}
			t.Run(map[bool]string{true: "fused", false: "unfused"}[fused]+map[bool]string{true: "+relu", false: ""}[relu], func(t *testing.T) {
				l := engine.NewBatchNorm2d(b, 3, relu)
				b.CopyIn(l.Gamma.Value, []float32{0.5, 1.5, -1})
				b.CopyIn(l.Beta.Value, []float32{0.1, -0.2, 0.3})
				gradCheck(t, b, l, engine.Shape{4, 3, 3, 3}, false)
			})
		}
	}
}

func TestBatchNormPool_Gradients(t *testing.T) {
	for _, fused := range []bool{true, false} {
		var b engine.Backend = newCPU(t, "", 2)
		if !fused {
			b = unfused{b}
		}
		t.Run(map[bool]string{true: "fused", false: "unfused"}[fused], func(t *testing.T) {
			l := engine.NewBatchNormReLUMaxPool(b, 3, 2)
			b.CopyIn(l.Gamma.Value, []float32{0.5, 1.5, -1})
			b.CopyIn(l.Beta.Value, []float32{0.1, -0.2, 0.3})
			gradCheck(t, b, l, engine.Shape{4, 3, 4, 6}, false)
		})
	}
}

func TestLinear_Gradients(t *testing.T) {
	b := newCPU(t, "", 2)
	gradCheck(t, b, engine.NewLinear(b, engine.NewRand(4), 7, 5, true), engine.Shape{3, 7}, false)
}

func TestPools_Gradients(t *testing.T) {
	b := newCPU(t, "", 2)
	t.Run("max2x2", func(t *testing.T) { gradCheck(t, b, engine.NewMaxPool2d(b, 2, 2, 0), engine.Shape{2, 3, 6, 6}, false) })
	t.Run("max3x3s2p1", func(t *testing.T) { gradCheck(t, b, engine.NewMaxPool2d(b, 3, 2, 1), engine.Shape{2, 3, 7, 7}, false) })
	t.Run("avg2x2", func(t *testing.T) { gradCheck(t, b, engine.NewAvgPool2d(b, 2, 2, 0), engine.Shape{2, 3, 6, 6}, false) })
	t.Run("global", func(t *testing.T) { gradCheck(t, b, engine.NewGlobalAvgPool(b), engine.Shape{2, 3, 4, 4}, false) })
}

func TestActivation_Gradients(t *testing.T) {
	b := newCPU(t, "", 2)
	for _, a := range []engine.Act{engine.ReLU, engine.SiLU, engine.Sigmoid, engine.GELU} {
		t.Run(a.String(), func(t *testing.T) { gradCheck(t, b, engine.NewActivation(b, a), engine.Shape{2, 3, 4, 4}, false) })
	}
}

func TestResidual_Gradients(t *testing.T) {
	b := newCPU(t, "", 2)
	for _, fused := range []bool{true, false} {
		var be engine.Backend = b
		if !fused {
			be = unfused{b}
		}
		r := engine.NewRand(5)
		body := engine.NewSequential(
			engine.NewConv2d(be, r, 3, 4, 3, engine.ConvDesc{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, false),
			engine.NewBatchNorm2d(be, 4, true),
			engine.NewConv2d(be, r, 4, 4, 3, engine.ConvDesc{PadH: 1, PadW: 1}, false),
			engine.NewBatchNorm2d(be, 4, false),
			engine.NewSE(be, r, 4, 2),
		)
		short := engine.NewSequential(engine.NewConv2d(be, r, 3, 4, 1, engine.ConvDesc{StrideH: 2, StrideW: 2}, false), engine.NewBatchNorm2d(be, 4, false))
		res := engine.NewResidual(be, body, short, true)
		engine.Tag(res, "block", "stage1")
		t.Run(map[bool]string{true: "fused", false: "unfused"}[fused], func(t *testing.T) {
			gradCheck(t, be, res, engine.Shape{3, 3, 6, 6}, false)
		})
	}
	t.Run("identity", func(t *testing.T) {
		body := engine.NewSequential(engine.NewConv2d(b, engine.NewRand(6), 3, 3, 3, engine.ConvDesc{PadH: 1, PadW: 1}, true))
		gradCheck(t, b, engine.NewResidual(b, body, nil, true), engine.Shape{2, 3, 4, 4}, false)
	})
}

func TestSE_Gradients(t *testing.T) {
	b := newCPU(t, "", 2)
	gradCheck(t, b, engine.NewSE(b, engine.NewRand(7), 8, 4), engine.Shape{2, 8, 3, 3}, false)
}

func TestDropout_Backward(t *testing.T) {
	b := newCPU(t, "", 2)
	d := engine.NewDropout(b, 0.4, 9)
	x, xh := enginetest.Tensor(b, 1, engine.Shape{1000})
	y1 := engine.ToHost(b, d.Forward(x, engine.Train))
	dy, dyh := enginetest.Tensor(b, 2, engine.Shape{1000})
	dx := engine.ToHost(b, d.Backward(dy))
	want := make([]float64, len(xh))
	for i := range xh {
		want[i] = float64(dyh[i]) * float64(y1[i]) / float64(xh[i]) // the mask
	}
	enginetest.Compare(t, "dropout dx", dx, want, 1e-5)
	y2 := engine.ToHost(b, d.Forward(x, engine.Train))
	same := 0
	for i := range y1 {
		if y1[i] == y2[i] {
			same++
		}
	}
	if same == len(y1) {
		t.Error("two training forwards drew the same mask")
	}
	if ye := engine.ToHost(b, d.Forward(x, engine.Eval)); ye[3] != xh[3] {
		t.Errorf("eval forward changed x: %v vs %v", ye[3], xh[3])
	}
}

// TestNet_Gradients checks a small whole network ending in the loss
// against finite differences of the mean loss.
func TestNet_Gradients(t *testing.T) {
	b := newCPU(t, "", 2)
	r := engine.NewRand(8)
	net := engine.NewSequential(
		engine.NewConv2d(b, r, 3, 4, 3, engine.ConvDesc{PadH: 1, PadW: 1}, false),
		engine.NewBatchNorm2d(b, 4, true),
		engine.NewMaxPool2d(b, 2, 2, 0),
		engine.NewConv2d(b, r, 4, 6, 3, engine.ConvDesc{PadH: 1, PadW: 1}, true),
		engine.NewActivation(b, engine.SiLU),
		engine.NewAvgPool2d(b, 2, 2, 0),
		engine.NewFlatten(),
		engine.NewLinear(b, r, 6*2*2, 5, true),
	)
	loss := engine.NewSoftmaxCE(b, 0.1)
	x, _ := enginetest.Tensor(b, 3, engine.Shape{4, 3, 8, 8})
	labels := engine.New(b, engine.Int32, engine.Shape{4})
	b.CopyInInt32(labels, []int32{0, 4, 2, 2})
	lossAt := func() float64 {
		loss.Forward(net.Forward(x, engine.Train), labels, engine.Train)
		return loss.Mean()
	}
	engine.ZeroGrad(b, net.Params())
	net.Backward(loss.Forward(net.Forward(x, engine.Train), labels, engine.Train))
	const eps = 1e-3
	for i, p := range net.Params() {
		analytic := engine.ToHost(b, p.Grad)
		v := cpu.Data(p.Value)
		var got []float32
		var want []float64
		for j := 0; j < len(v); j += max(1, len(v)/30) {
			orig := v[j]
			v[j] = orig + eps
			lp := lossAt()
			v[j] = orig - eps
			lm := lossAt()
			v[j] = orig
			got = append(got, analytic[j])
			want = append(want, (lp-lm)/(2*eps))
		}
		enginetest.CompareRel(t, fmt.Sprintf("param %d %s", i, p.Name)+" "+p.Value.Shape.String(), got, want, gradTol, gradFloor)
	}
	if l := lossAt(); math.IsNaN(l) || l <= 0 {
		t.Fatalf("loss %v", l)
	}
}

// failRecorder is a testing.TB that records Errorf instead of failing.
type failRecorder struct {
	testing.TB
	failed bool
}

func (r *failRecorder) Errorf(string, ...any) { r.failed = true }
func (r *failRecorder) Logf(string, ...any)   {}
func (r *failRecorder) Helper()               {}

// A gradient 5% off on a tensor of size 0.1 — a missing term in a
// backward pass looks like this — passes the old rule, an absolute
// 1e-2·(1+max|ref|), and fails the per-tensor relative one.
func TestCompareRel_CatchesSmallGradientError(t *testing.T) {
	want := []float64{0.1, -0.05, 0.08, 0.02}
	got := make([]float32, len(want))
	for i, w := range want {
		got[i] = float32(1.05 * w)
	}
	old := &failRecorder{TB: t}
	enginetest.Compare(old, "old rule", got, want, 1e-2)
	rel := &failRecorder{TB: t}
	enginetest.CompareRel(rel, "relative", got, want, gradTol, gradFloor)
	if old.failed || !rel.failed {
		t.Errorf("5%% error: old rule failed=%v, relative failed=%v; want only the relative rule to catch it", old.failed, rel.failed)
	}
	exact := &failRecorder{TB: t}
	enginetest.CompareRel(exact, "exact", []float32{0.1, -0.05}, []float64{0.1, -0.05}, gradTol, gradFloor)
	if exact.failed {
		t.Error("relative rule failed exact gradients")
	}
}

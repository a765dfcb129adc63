package engine_test

import (
	"math"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/enginetest"
)

// A frozen scale is airbench's BatchNorm(weight=False): gamma stays exactly
// 1 through training steps, only beta is a parameter, and gamma still
// travels with the buffers into checkpoints.
func TestBatchNorm2d_FrozenScale(t *testing.T) {
	for _, relu := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "relu"}[relu], func(t *testing.T) {
			b := newCPU(t, "", 1)
			bn := engine.NewBatchNorm2dWith(b, 3, relu, engine.BatchNormOptions{FrozenScale: true})
			if ps := bn.Params(); len(ps) != 1 || ps[0] != bn.Beta {
				t.Fatalf("Params() = %d tensors, want beta alone", len(ps))
			}
			if bs := engine.Buffers(bn); len(bs) != 3 || bs[2] != bn.Gamma {
				t.Fatalf("Buffers() = %d tensors, want running mean, running var and gamma", len(bs))
			}
			s := engine.Shape{4, 3, 3, 3}
			for step := range 3 {
				x, _ := enginetest.Tensor(b, uint64(30+step), s)
				dy, _ := enginetest.Tensor(b, uint64(40+step), s)
				engine.ZeroGrad(b, bn.Params())
				bn.Forward(x, engine.Train)
				bn.Backward(dy)
				for _, p := range bn.Params() {
					b.SGDStep(engine.SGD{LR: 0.5, WeightDecay: 0.1}, p.Value, p.Grad, engine.Tensor{})
				}
			}
			for c, g := range engine.ToHost(b, bn.Gamma.Value) {
				if g != 1 {
					t.Errorf("gamma[%d] = %g after 3 steps, want exactly 1", c, g)
				}
			}
			moved := false
			for _, v := range engine.ToHost(b, bn.Beta.Value) {
				moved = moved || v != 0
			}
			if !moved {
				t.Error("beta did not move: the test does not train")
			}
		})
	}
}

func TestBatchNorm2d_FrozenScaleGradients(t *testing.T) {
	b := newCPU(t, "", 2)
	l := engine.NewBatchNorm2dWith(b, 3, false, engine.BatchNormOptions{FrozenScale: true, Eps: 1e-12})
	b.CopyIn(l.Beta.Value, []float32{0.1, -0.2, 0.3})
	gradCheck(t, b, l, engine.Shape{4, 3, 3, 3}, false)
}

// Momentum and eps reach the kernels: running statistics follow
// running = (1−m)·running + m·batch (unbiased variance) with airbench's
// m = 0.4, and evaluation divides by sqrt(var + 1e-12), all checked
// against a float64 reference. SetBatchNormMomentum's restore puts the
// configured momentum back.
func TestBatchNorm2d_Options(t *testing.T) {
	b := newCPU(t, "", 1)
	const m, eps = 0.4, 1e-12
	bn := engine.NewBatchNorm2dWith(b, 2, false, engine.BatchNormOptions{Momentum: m, Eps: eps})
	s := engine.Shape{3, 2, 2, 2}
	rm, rv := []float64{0, 0}, []float64{1, 1}
	var x engine.Tensor
	for step := range 2 {
		var h []float32
		x, h = enginetest.Tensor(b, uint64(50+step), s)
		bn.Forward(x, engine.Train)
		for c := range 2 {
			var vals []float64
			for n := range 3 {
				for _, v := range h[(n*2+c)*4 : (n*2+c+1)*4] {
					vals = append(vals, float64(v))
				}
			}
			var mu, ss float64
			for _, v := range vals {
				mu += v / float64(len(vals))
			}
			for _, v := range vals {
				ss += (v - mu) * (v - mu)
			}
			rm[c] = (1-m)*rm[c] + m*mu
			rv[c] = (1-m)*rv[c] + m*ss/float64(len(vals)-1)
		}
	}
	enginetest.Compare(t, "running mean", engine.ToHost(b, bn.RunMean.Value), rm, 1e-6)
	enginetest.Compare(t, "running var", engine.ToHost(b, bn.RunV.Value), rv, 1e-6)
	xh := engine.ToHost(b, x)
	want := make([]float64, len(xh))
	for i, v := range xh {
		c := (i / 4) % 2
		want[i] = (float64(v) - rm[c]) / math.Sqrt(rv[c]+eps)
	}
	enginetest.Compare(t, "eval output", engine.ToHost(b, bn.Forward(x, engine.Eval)), want, 1e-5)

	restore := engine.SetBatchNormMomentum(bn, 1)
	if bn.Momentum() != 1 {
		t.Fatalf("momentum %g after SetBatchNormMomentum(1)", bn.Momentum())
	}
	restore()
	if bn.Momentum() != m {
		t.Fatalf("momentum %g after restore, want %g", bn.Momentum(), m)
	}
}

package optim

import (
	"math"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
)

func newBackend(tb testing.TB) engine.Backend {
	tb.Helper()
	b, err := cpu.New(cpu.Options{Threads: 1, BLAS: "go"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

// twoParams returns a decayed weight in group stem and an exempt bias in
// group head, with fixed values and gradients.
func twoParams(b engine.Backend) []Param {
	w := engine.FromHost(b, engine.Shape{2, 2}, []float32{1, -2, 0.5, 3})
	gw := engine.FromHost(b, engine.Shape{2, 2}, []float32{0.1, 0.2, -0.3, 0.4})
	bias := engine.FromHost(b, engine.Shape{2}, []float32{0.25, -1})
	gb := engine.FromHost(b, engine.Shape{2}, []float32{-0.5, 1})
	return []Param{
		{Name: "w", Group: GroupStem, Value: w, Grad: gw, NoDecay: NoDecay(w.Shape)},
		{Name: "b", Group: GroupHead, Value: bias, Grad: gb, NoDecay: NoDecay(bias.Shape)},
	}
}

func near(tb testing.TB, name string, got []float32, want []float64) {
	tb.Helper()
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6*(1+math.Abs(want[i])) {
			tb.Fatalf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestSGD_Step(t *testing.T) {
	b := newBackend(t)
	ps := twoParams(b)
	w0 := []float64{1, -2, 0.5, 3}
	gw := []float64{0.1, 0.2, -0.3, 0.4}
	b0 := []float64{0.25, -1}
	gb := []float64{-0.5, 1}
	const lr, mu, wd = 0.1, 0.9, 0.01
	mult := Multipliers{GroupStem: 0.5}
	o := NewSGD(b, ps, SGDConfig{Momentum: mu, Nesterov: true, WeightDecay: wd, Multipliers: mult})

	// Hand computation (PyTorch SGD, nesterov): g' = g + wd·p; v = μv + g';
	// p −= lr·(g' + μv). The gradients stay fixed across the two steps.
	ref := func(p, g []float64, decay, rate float64) []float64 {
		p = append([]float64(nil), p...)
		v := make([]float64, len(p))
		for step := 0; step < 2; step++ {
			for i := range p {
				g2 := g[i] + decay*p[i]
				v[i] = mu*v[i] + g2
				p[i] -= rate * (g2 + mu*v[i])
			}
		}
		return p
	}
	o.Step(lr)
	o.Step(lr)
	near(t, "w", engine.ToHost(b, ps[0].Value), ref(w0, gw, wd, lr*0.5))
	near(t, "b (no decay, ×1)", engine.ToHost(b, ps[1].Value), ref(b0, gb, 0, lr))
}

func TestSGD_StepPlain(t *testing.T) {
	b := newBackend(t)
	ps := twoParams(b)
	o := NewSGD(b, ps[1:], SGDConfig{})
	o.Step(2)
	near(t, "b", engine.ToHost(b, ps[1].Value), []float64{0.25 + 2*0.5, -1 - 2*1})
}

func TestAdamW_Step(t *testing.T) {
	b := newBackend(t)
	ps := twoParams(b)
	w0 := []float64{1, -2, 0.5, 3}
	gw := []float64{0.1, 0.2, -0.3, 0.4}
	const lr, wd, b1, b2, eps = 0.01, 0.1, 0.9, 0.999, 1e-8
	o := NewAdamW(b, ps[:1], AdamWConfig{WeightDecay: wd, Multipliers: Multipliers{GroupStem: 2}})
	p := append([]float64(nil), w0...)
	m := make([]float64, 4)
	v := make([]float64, 4)
	rate := lr * 2
	for step := 1; step <= 3; step++ {
		o.Step(lr)
		for i := range p {
			p[i] -= rate * wd * p[i]
			m[i] = b1*m[i] + (1-b1)*gw[i]
			v[i] = b2*v[i] + (1-b2)*gw[i]*gw[i]
			mh := m[i] / (1 - math.Pow(b1, float64(step)))
			vh := v[i] / (1 - math.Pow(b2, float64(step)))
			p[i] -= rate * mh / (math.Sqrt(vh) + eps)
		}
	}
	near(t, "w", engine.ToHost(b, ps[0].Value), p)
}

func TestNoDecay(t *testing.T) {
	if !NoDecay(engine.Shape{64}) || NoDecay(engine.Shape{64, 3, 3, 3}) || NoDecay(engine.Shape{10, 64}) {
		t.Fatal("NoDecay: vectors exempt, matrices and kernels decayed")
	}
}

// airbench94's parametrisation: with Decoupled, the decay per step is
// WeightDecay·lr/PeakLR whatever the group multiplier and LRScale, while
// the gradient step scales with both. Reference: PyTorch SGD (Nesterov)
// with lr_p = lr·s and weight_decay = WeightDecay/(PeakLR·s), by hand.
func TestSGD_Decoupled(t *testing.T) {
	b := newBackend(t)
	ps := twoParams(b)
	ps[1].NoDecay, ps[1].LRScale = false, 64 // airbench decays BN shifts too
	const peak, lr, mu, wd = 2.0, 0.5, 0.85, 0.01
	mult := Multipliers{GroupStem: 0.5}
	o := NewSGD(b, ps, SGDConfig{Momentum: mu, Nesterov: true, WeightDecay: wd, Multipliers: mult, Decoupled: true, PeakLR: peak})
	ref := func(p, g []float64, s float64) []float64 {
		p = append([]float64(nil), p...)
		v := make([]float64, len(p))
		for range 2 {
			for i := range p {
				g2 := g[i] + wd/(peak*s)*p[i]
				v[i] = mu*v[i] + g2
				p[i] -= lr * s * (g2 + mu*v[i])
			}
		}
		return p
	}
	o.Step(lr)
	o.Step(lr)
	near(t, "w (×0.5)", engine.ToHost(b, ps[0].Value), ref([]float64{1, -2, 0.5, 3}, []float64{0.1, 0.2, -0.3, 0.4}, 0.5))
	near(t, "b (×64)", engine.ToHost(b, ps[1].Value), ref([]float64{0.25, -1}, []float64{-0.5, 1}, 64))

	// Zero gradient, no momentum: one step shrinks by exactly wd·lr/peak.
	z := engine.FromHost(b, engine.Shape{1}, []float32{4})
	zg := engine.FromHost(b, engine.Shape{1}, []float32{0})
	NewSGD(b, []Param{{Name: "z", Group: GroupStem, Value: z, Grad: zg, LRScale: 3}},
		SGDConfig{WeightDecay: wd, Multipliers: mult, Decoupled: true, PeakLR: peak}).Step(lr)
	near(t, "pure decay", engine.ToHost(b, z), []float64{4 * (1 - wd*lr/peak)})
}

// A frozen parameter keeps its value through later steps while the others
// still train, in both optimizers.
func TestOptimizer_Freeze(t *testing.T) {
	b := newBackend(t)
	for _, name := range []string{"sgd", "adamw"} {
		t.Run(name, func(t *testing.T) {
			ps := twoParams(b)
			var o Optimizer = NewSGD(b, ps, SGDConfig{Momentum: 0.9, WeightDecay: 0.1})
			if name == "adamw" {
				o = NewAdamW(b, ps, AdamWConfig{WeightDecay: 0.1})
			}
			o.Step(0.1)
			o.Freeze("b")
			o.Freeze("no such parameter")
			before, w := engine.ToHost(b, ps[1].Value), engine.ToHost(b, ps[0].Value)
			o.Step(0.1)
			o.Step(0.1)
			if after := engine.ToHost(b, ps[1].Value); !equalFloats(after, before) {
				t.Fatalf("frozen b moved: %v → %v", before, after)
			}
			if equalFloats(engine.ToHost(b, ps[0].Value), w) {
				t.Fatal("w stopped training too")
			}
		})
	}
}

package cuda

import (
	"math"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/enginetest"
	"sweep/trainer/models"
)

// trainStep builds the named model on b with a fixed seed, runs one
// forward (train mode), loss and backward pass on a fixed batch, and
// returns the logits, the mean loss and every parameter gradient.
func trainStep(t *testing.T, b engine.Backend, build func(testing.TB, engine.Backend) net, hw int) (logits []float32, loss float64, grads map[string][]float32) {
	t.Helper()
	m := build(t, b)
	const n = 4
	x := engine.FromHost(b, engine.Shape{n, 3, hw, hw}, enginetest.Rand(7, n*3*hw*hw))
	labels := engine.New(b, engine.Int32, engine.Shape{n})
	b.CopyInInt32(labels, []int32{3, 1, 4, 1})
	ce := engine.NewSoftmaxCE(b, 0.1)
	out := m.Forward(x, engine.Train)
	d := ce.Forward(out, labels, engine.Train)
	engine.ZeroGrad(b, m.Params())
	m.Backward(d)
	grads = map[string][]float32{}
	for _, p := range m.Params() {
		grads[p.Name] = engine.ToHost(b, p.Grad)
	}
	return engine.ToHost(b, out), ce.Mean(), grads
}

// model returns a constructor for the named model of package models.
func model(name string, o models.Options) func(testing.TB, engine.Backend) net {
	return func(tb testing.TB, b engine.Backend) net {
		m, err := models.New(name, b, o)
		if err != nil {
			tb.Fatal(err)
		}
		return m
	}
}

// fastnet returns a constructor for FastNet with options o.
func fastnet(o models.FastNetOptions) func(testing.TB, engine.Backend) net {
	return func(_ testing.TB, b engine.Backend) net { return models.NewFastNet(b, o) }
}

// TestEmulated_Models runs whole networks (their layers' real call
// sequences: views, reshapes, fused paths) on the CPU backend and on the
// emulated GPU backend and compares logits, loss and all gradients: tiny
// with cuDNN convolutions in float32 and with bfloat16 autocast, a narrow
// resnet18 with squeeze-excitation on the im2col path, and a narrow fastnet
// (trainable stem with cuDNN, in float32 and bfloat16; frozen whitening
// stem on the im2col path). A new model or model option is one more row.
func TestEmulated_Models(t *testing.T) {
	host, err := cpu.New(cpu.Options{BLAS: "go"})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	bf16 := emulated(t)
	if err := bf16.SetPrecision(engine.BFloat16); err != nil {
		t.Fatal(err)
	}
	narrow := models.FastNetOptions{Seed: 3, Width: 0.125}
	whiten := narrow
	whiten.Whiten, whiten.WhitenN = enginetest.Rand(11, 64*3*32*32), 64
	for _, c := range []struct {
		name  string
		build func(testing.TB, engine.Backend) net
		ref   engine.Backend
		g     *Backend
		tol   float64
		hw    int // image height and width
	}{
		{"tiny", model("tiny", models.Options{Seed: 1}), host, emulated(t), 1e-4, 32},
		// The reference is the float32 emulated backend rounding where the
		// 16-bit path specifies (bf16Sim): same sums, so the bfloat16
		// autocast must match it exactly. (Against the CPU backend the
		// different summation order flips some bfloat16 roundings, and
		// batch norm's cancellations amplify them to ≈1e-2 relative.)
		{"tiny-bf16", model("tiny", models.Options{Seed: 1}), bf16Sim{emulated(t)}, bf16, 1e-6, 32},
		{"resnet18-se-im2col", model("resnet18", models.Options{Seed: 2, Width: 0.125, SE: true, SEReduction: 4}),
			host, emulatedWith(t, Options{NoCuDNN: true}), 1e-4, 16},
		{"fastnet", fastnet(narrow), host, emulated(t), 1e-4, 32},
		{"fastnet-bf16", fastnet(narrow), bf16Sim{emulated(t)}, bf16, 1e-6, 32},
		{"fastnet-whiten-im2col", fastnet(whiten), host, emulatedWith(t, Options{NoCuDNN: true}), 1e-4, 32},
	} {
		t.Run(c.name, func(t *testing.T) {
			wl, wloss, wg := trainStep(t, c.ref, c.build, c.hw)
			gl, gloss, gg := trainStep(t, c.g, c.build, c.hw)
			if math.Abs(wloss-gloss) > c.tol*(1+math.Abs(wloss)) {
				t.Errorf("loss: cpu %v, emulated gpu %v", wloss, gloss)
			}
			enginetest.Compare(t, c.name+" logits", gl, f64(wl), c.tol)
			// Each gradient's relative L2 error ||gpu − cpu|| / ||cpu||.
			worst, worstName := 0.0, ""
			for name, w := range wg {
				var diff, ref float64
				for i := range w {
					d := float64(gg[name][i] - w[i])
					diff += d * d
					ref += float64(w[i]) * float64(w[i])
				}
				rel := math.Sqrt(diff / (ref + 1e-30))
				if rel > worst || math.IsNaN(rel) {
					worst, worstName = rel, name
				}
			}
			t.Logf("%s: %d gradients, worst relative L2 error %.3g (%s)", c.name, len(wg), worst, worstName)
			if !(worst <= c.tol) || len(gg) != len(wg) {
				t.Errorf("gradients differ: worst relative L2 error %.3g at %s, tolerance %g", worst, worstName, c.tol)
			}
		})
	}
}

func f64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

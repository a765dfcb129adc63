package models

import (
	"math/rand/v2"
	"strings"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/optim"
)

func cpuBackend(tb testing.TB) engine.Backend {
	tb.Helper()
	b, err := cpu.New(cpu.Options{Threads: 2})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

func randomImages(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*3*32*32)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func TestFastNet_Structure(t *testing.T) {
	b := cpuBackend(t)
	for _, whiten := range []bool{false, true} {
		o := FastNetOptions{Seed: 1, Width: 0.25}
		if whiten {
			o.Whiten, o.WhitenN = randomImages(8, 2), 8
		}
		net := NewFastNet(b, o)
		all := append(net.Params(), net.Buffers()...)
		if err := engine.CheckNames(all); err != nil {
			t.Fatalf("whiten=%v: %v", whiten, err)
		}
		groups := engine.ByGroup(net.Params())
		for _, g := range []string{optim.GroupStem, optim.GroupStage1, optim.GroupStage2, optim.GroupStage3, optim.GroupHead} {
			if len(groups[g]) == 0 {
				t.Errorf("whiten=%v: group %s has no parameters", whiten, g)
			}
		}
		for _, p := range net.Params() {
			if whiten && p.Name == "stem.whiten.weight" {
				t.Fatal("the frozen whitening weight is trainable")
			}
		}
		x := engine.FromHost(b, engine.Shape{4, 3, 32, 32}, randomImages(4, 3))
		y := net.Forward(x, engine.Eval)
		if y.Shape != (engine.Shape{4, 10}) {
			t.Fatalf("whiten=%v: output %v, want (4,10)", whiten, y.Shape)
		}
		names, outs := net.BlockOutputs()
		if len(names) != 3 || outs[2].Shape[1] != 64 {
			t.Fatalf("block outputs %v %v", names, outs)
		}
	}
}

// TestFastNet_Widths: Widths sets the three stages' channel counts and
// overrides Width (airbench95's 128/384/384 at a test-sized 8/24/40).
func TestFastNet_Widths(t *testing.T) {
	b := cpuBackend(t)
	net := NewFastNet(b, FastNetOptions{Seed: 1, Width: 0.25, Widths: [3]int{8, 24, 40}})
	x := engine.FromHost(b, engine.Shape{2, 3, 32, 32}, randomImages(2, 5))
	if y := net.Forward(x, engine.Eval); y.Shape != (engine.Shape{2, 10}) {
		t.Fatalf("output %v, want (2,10)", y.Shape)
	}
	_, outs := net.BlockOutputs()
	for i, want := range []int{8, 24, 40} {
		if got := outs[i].Shape[1]; got != want {
			t.Errorf("stage %d has %d channels, want %d", i+1, got, want)
		}
	}
}

// TestFastNet_Learns fits a fixed batch of 16 random images: the loss must
// fall by half in 30 SGD steps, which needs every layer's backward pass.
// Both variants: the default (ReLU, PyTorch batch norm) and airbench94's
// (GELU, frozen-scale batch norm, dirac init).
func TestFastNet_Learns(t *testing.T) {
	for _, airbench := range []bool{false, true} {
		t.Run(map[bool]string{false: "relu", true: "airbench"}[airbench], func(t *testing.T) {
			o := FastNetOptions{Seed: 1, Width: 0.25}
			if airbench {
				o = airbenchOptions()
			}
			fastNetLearns(t, o)
		})
	}
}

func airbenchOptions() FastNetOptions {
	return FastNetOptions{Seed: 1, Width: 0.25, Act: engine.GELU, Init: "airbench",
		BN: engine.BatchNormOptions{Eps: 1e-12, Momentum: 0.4, FrozenScale: true}}
}

func fastNetLearns(t *testing.T, o FastNetOptions) {
	b := cpuBackend(t)
	imgs := randomImages(16, 4)
	o.Whiten, o.WhitenN = imgs, 16
	net := NewFastNet(b, o)
	x := engine.FromHost(b, engine.Shape{16, 3, 32, 32}, imgs)
	labels := engine.New(b, engine.Int32, engine.Shape{16})
	ys := make([]int32, 16)
	for i := range ys {
		ys[i] = int32(i % 10)
	}
	b.CopyInInt32(labels, ys)
	losses := engine.New(b, engine.Float32, engine.Shape{16})
	dlogits := engine.New(b, engine.Float32, engine.Shape{16, 10})
	var ps []optim.Param
	for _, p := range net.Params() {
		ps = append(ps, optim.Param{Name: p.Name, Group: p.Group, Value: p.Value, Grad: p.Grad})
	}
	opt := optim.NewSGD(b, ps, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
	var first, last float64
	for step := 0; step < 30; step++ {
		logits := net.Forward(x, engine.Train)
		b.SoftmaxCrossEntropy(logits, labels, 0, 1.0/16, losses, dlogits)
		loss := b.Sum(losses) / 16
		if step == 0 {
			first = loss
		}
		last = loss
		engine.ZeroGrad(b, net.Params())
		net.Backward(dlogits)
		opt.Step(0.05)
	}
	if !(last < first/2) {
		t.Fatalf("loss %.4f → %.4f in 30 steps, want at least halved", first, last)
	}
}

// The airbench options reach every layer: batch-norm scales are buffers
// fixed at 1, the whitening bias starts at 0 and is exposed, and each 3×3
// conv's first filters are identities.
func TestFastNet_AirbenchOptions(t *testing.T) {
	b := cpuBackend(t)
	o := airbenchOptions()
	o.Whiten, o.WhitenN = randomImages(8, 2), 8
	net := NewFastNet(b, o)
	for _, p := range net.Params() {
		if strings.Contains(p.Name, ".bn") && strings.HasSuffix(p.Name, ".weight") {
			t.Fatalf("%s is trainable, want a frozen batch-norm scale", p.Name)
		}
	}
	scales := 0
	for _, p := range net.Buffers() {
		if strings.Contains(p.Name, ".bn") && strings.HasSuffix(p.Name, ".weight") {
			scales++
		}
	}
	if scales != 6 {
		t.Fatalf("%d frozen batch-norm scales among the buffers, want 6", scales)
	}
	wb := net.WhitenBias()
	if wb == nil || wb.Name != "stem.whiten.bias" {
		t.Fatalf("WhitenBias() = %v, want stem.whiten.bias", wb)
	}
	for _, v := range engine.ToHost(b, wb.Value) {
		if v != 0 {
			t.Fatalf("whitening bias starts at %g, want 0", v)
		}
	}
	for _, p := range net.Params() {
		if p.Name != "stage1.conv2.weight" {
			continue
		}
		k, c, _, _ := p.Value.Shape.NCHW()
		w := engine.ToHost(b, p.Value)
		for f := range k {
			for i, v := range w[f*c*9 : (f+1)*c*9] {
				want := float32(0)
				if i == f*9+4 {
					want = 1
				}
				if v != want {
					t.Fatalf("stage1.conv2 filter %d weight %d = %g, want the identity (dirac)", f, i, v)
				}
			}
		}
	}
	x := engine.FromHost(b, engine.Shape{4, 3, 32, 32}, randomImages(4, 3))
	if y := net.Forward(x, engine.Train); y.Shape != (engine.Shape{4, 10}) {
		t.Fatalf("output %v, want (4,10)", y.Shape)
	}
}

// FreezeStem and the frozen whitening weight skip work, never change a
// trained gradient: every parameter but the (now frozen) whitening bias
// gets the same gradient bits as a full backward pass.
func TestFastNet_FreezeStemKeepsGradients(t *testing.T) {
	b := cpuBackend(t)
	o := airbenchOptions()
	o.Whiten, o.WhitenN = randomImages(8, 2), 8
	full, frozen := NewFastNet(b, o), NewFastNet(b, o)
	frozen.FreezeStem()
	x := engine.FromHost(b, engine.Shape{4, 3, 32, 32}, randomImages(4, 3))
	dy := make([]float32, 4*10)
	for i := range dy {
		dy[i] = float32(i%7) - 3
	}
	for _, net := range []*FastNet{full, frozen} {
		net.Forward(x, engine.Train)
		net.Backward(engine.FromHost(b, engine.Shape{4, 10}, dy))
	}
	fp, zp := full.Params(), frozen.Params()
	for i, p := range fp {
		g, h := engine.ToHost(b, p.Grad), engine.ToHost(b, zp[i].Grad)
		nonzero := false
		for j := range g {
			nonzero = nonzero || h[j] != 0
			if p.Name != "stem.whiten.bias" && g[j] != h[j] {
				t.Fatalf("%s grad[%d] = %g with the stem frozen, %g without", p.Name, j, h[j], g[j])
			}
		}
		if p.Name == "stem.whiten.bias" && nonzero {
			t.Fatalf("the frozen stem's bias got a gradient")
		}
		if p.Name == "stage1.conv1.weight" && !nonzero {
			t.Fatalf("stage1.conv1.weight got no gradient with the stem frozen")
		}
	}
	for _, net := range []*FastNet{full, frozen} {
		for _, v := range engine.ToHost(b, net.frozen[0].Grad) {
			if v != 0 {
				t.Fatalf("the frozen whitening weight got a gradient %g", v)
			}
		}
	}
}

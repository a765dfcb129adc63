package models

import (
	"math/rand/v2"
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

// TestFastNet_Learns fits a fixed batch of 16 random images: the loss must
// fall by half in 30 SGD steps, which needs every layer's backward pass.
func TestFastNet_Learns(t *testing.T) {
	b := cpuBackend(t)
	imgs := randomImages(16, 4)
	net := NewFastNet(b, FastNetOptions{Seed: 1, Width: 0.25, Whiten: imgs, WhitenN: 16})
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

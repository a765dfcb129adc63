package cuda

import (
	"fmt"
	"math"
	"testing"
	"time"

	"sweep/trainer/engine"
	"sweep/trainer/engine/enginetest"
	"sweep/trainer/models"
)

// net is what trainLoop needs of a model.
type net interface {
	Forward(x engine.Tensor, mode engine.Mode) engine.Tensor
	Backward(dy engine.Tensor) engine.Tensor
	Params() []*engine.Param
}

func buildNet(tb testing.TB, b engine.Backend, name string, width float64) net {
	tb.Helper()
	if name == "fastnet" {
		return models.NewFastNet(b, models.FastNetOptions{Seed: 1, Width: width})
	}
	m, err := models.New(name, b, models.Options{Seed: 1, Width: width})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// trainer runs SGD steps of a model on one fixed batch: the llm.c loop
// (forward → zero grad → backward → update), used by the GPU benchmark and
// by the emulated overfit test.
type trainer struct {
	b      engine.Backend
	m      net
	x, y   engine.Tensor
	ce     *engine.SoftmaxCE
	params []*engine.Param
	vel    []engine.Tensor
}

func newTrainer(b engine.Backend, m net, batch, hw int) *trainer {
	t := &trainer{b: b, m: m, ce: engine.NewSoftmaxCE(b, 0.1), params: m.Params()}
	t.x = engine.FromHost(b, engine.Shape{batch, 3, hw, hw}, enginetest.Rand(3, batch*3*hw*hw))
	t.y = engine.New(b, engine.Int32, engine.Shape{batch})
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(i % 10)
	}
	b.CopyInInt32(t.y, labels)
	for _, p := range t.params {
		t.vel = append(t.vel, engine.New(b, engine.Float32, p.Value.Shape))
	}
	return t
}

func (t *trainer) step(lr float32) {
	d := t.ce.Forward(t.m.Forward(t.x, engine.Train), t.y, engine.Train)
	engine.ZeroGrad(t.b, t.params)
	t.m.Backward(d)
	for i, p := range t.params {
		t.b.SGDStep(engine.SGD{LR: lr, Momentum: 0.9, WeightDecay: 5e-4, Nesterov: true}, p.Value, p.Grad, t.vel[i])
	}
}

// TestEmulated_Overfit trains tiny on one batch through the emulated GPU
// backend: the loss must fall well below its starting value.
func TestEmulated_Overfit(t *testing.T) {
	b := emulatedWith(t, Options{NoCuDNN: true})
	tr := newTrainer(b, buildNet(t, b, "tiny", 1), 4, 8)
	tr.step(0.05)
	first := tr.ce.Mean()
	for range 11 {
		tr.step(0.05)
	}
	last := tr.ce.Mean()
	t.Logf("loss %.4f → %.4f after 12 steps", first, last)
	if !(last < 0.5*first) {
		t.Fatalf("loss %.4f → %.4f: not learning", first, last)
	}
}

// BenchmarkGPU_Train measures training throughput on the GPU (img/s) for
// each model at float32 and with bfloat16 autocast, batch 256, on a fixed
// batch (no data loading). It skips without a GPU. On the CPU emulation it
// only exercises the path (batch 4, models at 1/8 width): its img/s mean
// nothing.
func BenchmarkGPU_Train(bm *testing.B) {
	for _, name := range []string{"tiny", "resnet18", "fastnet"} {
		for _, prec := range []engine.DType{engine.Float32, engine.BFloat16} {
			bm.Run(fmt.Sprintf("%s/%v", name, prec), func(bm *testing.B) {
				b, err := New(Options{})
				if err != nil {
					bm.Skipf("no usable GPU: %s", firstLine(err))
				}
				defer b.Close()
				if err := b.SetPrecision(prec); err != nil {
					bm.Fatal(err)
				}
				batch, width := 256, 1.0
				if isEmulation(b) {
					batch, width = 4, 0.125
				}
				tr := newTrainer(b, buildNet(bm, b, name, width), batch, 32)
				for range 3 { // warm-up: plans, workspaces, allocations
					tr.step(0.01)
				}
				if err := b.Sync(); err != nil {
					bm.Fatal(err)
				}
				bm.ResetTimer()
				start := time.Now()
				for range bm.N {
					tr.step(0.01)
				}
				if err := b.Sync(); err != nil {
					bm.Fatal(err)
				}
				sec := time.Since(start).Seconds()
				if loss := tr.ce.Mean(); math.IsNaN(loss) || math.IsInf(loss, 0) {
					bm.Fatalf("loss %v after %d steps: the timing is of garbage", loss, bm.N+3)
				}
				bm.ReportMetric(float64(batch*bm.N)/sec, "img/s")
				bm.ReportMetric(float64(b.MemStats().PeakBytes)/(1<<20), "peak-MiB")
			})
		}
	}
}

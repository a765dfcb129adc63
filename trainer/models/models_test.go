package models_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/enginetest"
	"sweep/trainer/models"
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

// trainer runs SGD steps of a model on one fixed random batch.
type trainer struct {
	b        engine.Backend
	m        *models.Model
	x, y     engine.Tensor
	loss     *engine.SoftmaxCE
	params   []*engine.Param
	velocity []engine.Tensor
	h        engine.SGD
}

func newTrainer(tb testing.TB, b engine.Backend, name string, o models.Options, n, size int) *trainer {
	tb.Helper()
	m, err := models.New(name, b, o)
	if err != nil {
		tb.Fatal(err)
	}
	x, _ := enginetest.Tensor(b, 42, engine.Shape{n, 3, size, size})
	y := engine.New(b, engine.Int32, engine.Shape{n})
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32((i * 7) % 10)
	}
	b.CopyInInt32(y, labels)
	tr := &trainer{b: b, m: m, x: x, y: y, loss: engine.NewSoftmaxCE(b, 0), h: engine.SGD{LR: 0.05, Momentum: 0.9}}
	tr.params = m.Params()
	for _, p := range tr.params {
		tr.velocity = append(tr.velocity, engine.New(b, engine.Float32, p.Value.Shape))
	}
	return tr
}

func (tr *trainer) step() {
	d := tr.loss.Forward(tr.m.Forward(tr.x, engine.Train), tr.y, engine.Train)
	ps := tr.params
	engine.ZeroGrad(tr.b, ps)
	tr.m.Backward(d)
	for i, p := range ps {
		tr.b.SGDStep(tr.h, p.Value, p.Grad, tr.velocity[i])
	}
}

func (tr *trainer) losses(steps int) []float64 {
	out := make([]float64, steps)
	for i := range out {
		tr.step()
		out[i] = tr.loss.Mean()
	}
	return out
}

func TestTiny_OverfitsOneBatch(t *testing.T) {
	tr := newTrainer(t, newCPU(t, "", 0), "tiny", models.Options{Seed: 1}, 32, 16)
	var loss float64
	for i := 0; i < 300; i++ {
		tr.step()
		if loss = tr.loss.Mean(); loss < 0.05 {
			t.Logf("loss %.4f after %d steps", loss, i+1)
			return
		}
	}
	t.Fatalf("loss %.4f after 300 steps, want < 0.05", loss)
}

// TestTiny_Deterministic: the same seed gives bit-identical losses, run to
// run and across thread counts, on both SGEMM paths (work is split without
// changing any summation order; see package cpu).
func TestTiny_Deterministic(t *testing.T) {
	run := func(blas string, threads int) []float64 {
		b := newCPU(t, blas, threads)
		if blas == "" && !b.HasOpenBLAS() {
			t.Skip("OpenBLAS not installed")
		}
		return newTrainer(t, b, "tiny", models.Options{Seed: 3}, 16, 16).losses(4)
	}
	same := func(name string, a, b []float64) {
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("%s: step %d loss %v vs %v", name, i, a[i], b[i])
			}
		}
	}
	g1 := run("go", 1)
	same("pure Go, 1 thread twice", g1, run("go", 1))
	same("pure Go, 1 vs 2 threads", g1, run("go", 2))
	o1 := run("", 1)
	same("OpenBLAS, 1 thread twice", o1, run("", 1))
	same("OpenBLAS, 2 threads twice", run("", 2), run("", 2))
	same("OpenBLAS, 1 vs 2 threads", o1, run("", 2))
}

// TestTiny_PureGoMatchesOpenBLAS trains both paths from the same seed and
// compares losses and every gradient after the first step.
func TestTiny_PureGoMatchesOpenBLAS(t *testing.T) {
	ob := newCPU(t, "", 2)
	if !ob.HasOpenBLAS() {
		t.Skip("OpenBLAS not installed")
	}
	a := newTrainer(t, newCPU(t, "go", 2), "tiny", models.Options{Seed: 5}, 16, 16)
	b := newTrainer(t, ob, "tiny", models.Options{Seed: 5}, 16, 16)
	a.step()
	b.step()
	pa, pb := a.m.Params(), b.m.Params()
	for i := range pa {
		ga := engine.ToHost(a.b, pa[i].Grad)
		want := make([]float64, len(ga))
		for j, v := range engine.ToHost(b.b, pb[i].Grad) {
			want[j] = float64(v)
		}
		enginetest.Compare(t, "grad "+pa[i].Name, ga, want, 1e-3)
	}
	la, lb := a.losses(3), b.losses(3)
	for i := range la {
		if math.Abs(la[i]-lb[i]) > 1e-3*(1+math.Abs(lb[i])) {
			t.Errorf("step %d: pure-Go loss %v, OpenBLAS %v", i+2, la[i], lb[i])
		}
	}
}

func TestTiny_AllocsPerStep(t *testing.T) {
	tr := newTrainer(t, newCPU(t, "", 0), "tiny", models.Options{Seed: 1}, 8, 16)
	tr.step()
	if n := testing.AllocsPerRun(5, tr.step); n > 2 {
		t.Errorf("%.0f allocations per training step, want ≤ 2", n)
	}
}

func TestNew_Variants(t *testing.T) {
	b := newCPU(t, "", 0)
	for _, c := range []struct {
		name   string
		o      models.Options
		params int
	}{
		{"tiny", models.Options{}, 864 + 18432 + 73728 + 1290 + 2*(32+64+128)},
		{"resnet18", models.Options{}, 11173962},
		{"resnet34", models.Options{}, 21282122},
		{"resnet18", models.Options{Stem: "article", SE: true, Width: 0.25}, 0},
	} {
		m, err := models.New(c.name, b, c.o)
		if err != nil {
			t.Fatal(err)
		}
		ps := m.Params()
		if n := engine.Count(ps); c.params != 0 && n != c.params {
			t.Errorf("%s %+v: %d parameters, want %d", c.name, c.o, n, c.params)
		}
		groups := engine.ByGroup(ps)
		if len(groups["head"]) != 2 || len(groups["stem"]) == 0 || groups[""] != nil {
			t.Errorf("%s: groups %v", c.name, keys(groups))
		}
		if strings.HasPrefix(c.name, "resnet") && len(groups["stage4"]) == 0 {
			t.Errorf("%s: no stage4 parameters", c.name)
		}
	}
	// The small variant trains a step at 32x32 and gives 10 logits.
	tr := newTrainer(t, b, "resnet18", models.Options{Stem: "article", SE: true, Width: 0.125}, 4, 32)
	tr.step()
	if l := tr.loss.Mean(); math.IsNaN(l) || l <= 0 {
		t.Errorf("loss %v", l)
	}
}

func keys(m map[string][]*engine.Param) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestNew_BadOptions(t *testing.T) {
	b := newCPU(t, "", 0)
	for _, c := range []struct {
		name, want string
		o          models.Options
	}{
		{"vgg", `models: unknown model "vgg"`, models.Options{}},
		{"resnet18", `models: stem "big"`, models.Options{Stem: "big"}},
		{"tiny", "models: width -1", models.Options{Width: -1}},
	} {
		if _, err := models.New(c.name, b, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%q, %+v) = %v, want %q", c.name, c.o, err, c.want)
		}
	}
}

func TestCheckpoint_RoundTrip(t *testing.T) {
	b := newCPU(t, "", 0)
	tr := newTrainer(t, b, "tiny", models.Options{Seed: 1}, 8, 16)
	tr.step() // moves weights and running statistics away from their init
	var buf bytes.Buffer
	if err := engine.Save(&buf, b, tr.m.State()); err != nil {
		t.Fatal(err)
	}
	saved := buf.Bytes()
	fresh := newTrainer(t, b, "tiny", models.Options{Seed: 2}, 8, 16)
	if err := engine.Load(bytes.NewReader(saved), b, fresh.m.State()); err != nil {
		t.Fatal(err)
	}
	want := engine.ToHost(b, tr.m.Forward(tr.x, engine.Eval))
	got := engine.ToHost(b, fresh.m.Forward(tr.x, engine.Eval))
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("logit %d after load %v, want %v", i, got[i], want[i])
		}
	}

	other := newTrainer(t, b, "tiny", models.Options{Seed: 1, Width: 0.5}, 8, 16)
	err := engine.Load(bytes.NewReader(saved), b, other.m.State())
	if !errors.Is(err, engine.ErrCheckpoint) || !strings.Contains(err.Error(), `tensor "conv1.weight" has shape (32,3,3,3), model (16,3,3,3)`) {
		t.Errorf("load into narrower model: %v", err)
	}
	if err := engine.Load(strings.NewReader("garbage!"), b, fresh.m.State()); !errors.Is(err, engine.ErrCheckpoint) {
		t.Errorf("load garbage: %v", err)
	}
	if err := engine.Load(bytes.NewReader(saved[:len(saved)-3]), b, fresh.m.State()); err == nil {
		t.Error("load of a truncated file succeeded")
	}
}

// TestModel_SmallerBatchReusesBuffers: after a batch of 8, a batch of 5
// (the last, partial batch of an epoch) runs in the larger batch's buffers
// and gives exactly what a fresh model gives.
func TestModel_SmallerBatchReusesBuffers(t *testing.T) {
	for _, name := range []string{"tiny", "resnet18"} {
		t.Run(name, func(t *testing.T) {
			b := newCPU(t, "", 0)
			o := models.Options{Seed: 4, Width: 0.125}
			warm := newTrainer(t, b, name, o, 8, 16)
			fresh := newTrainer(t, b, name, o, 5, 16)
			x5 := warm.x.Slice(0, 5)
			b.Copy(fresh.x, x5)
			// Eval first, before any training forward moves the running
			// statistics of one model and not the other.
			for _, m := range []engine.Mode{engine.Eval, engine.Train} {
				warm.m.Forward(warm.x, m)
				got := engine.ToHost(b, warm.m.Forward(x5, m))
				want := engine.ToHost(b, fresh.m.Forward(fresh.x, m))
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%v logit %d: %v after a larger batch, %v fresh", m, i, got[i], want[i])
					}
				}
			}
			y5 := warm.y.Slice(0, 5)
			b.Copy(fresh.y, y5)
			for _, tr := range []*trainer{warm, fresh} {
				x, y := tr.x, tr.y
				if tr == warm {
					x, y = x5, y5
				}
				d := tr.loss.Forward(tr.m.Forward(x, engine.Train), y, engine.Train)
				engine.ZeroGrad(b, tr.params)
				tr.m.Backward(d)
			}
			for i, p := range warm.params {
				got, want := engine.ToHost(b, p.Grad), engine.ToHost(b, fresh.params[i].Grad)
				for j := range want {
					if got[j] != want[j] {
						t.Fatalf("%s grad %d: %v after a larger batch, %v fresh", p.Name, j, got[j], want[j])
					}
				}
			}
		})
	}
}

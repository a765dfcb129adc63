package trainer

import (
	"errors"
	"math"
	"strings"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/cuda/amp"
	"sweep/trainer/engine/cuda/devsched"
	"sweep/trainer/models"
)

// unscalingCPU is the CPU backend plus a host UnscaleCheck, standing in
// for the CUDA backend's device one so that fp16 loss scaling runs here.
type unscalingCPU struct {
	*cpu.Backend
	calls int
}

func (u *unscalingCPU) UnscaleCheck(g engine.Tensor, inv float32) bool {
	u.calls++
	h := engine.ToHost(u, g)
	finite := true
	for i := range h {
		h[i] *= inv
		if math.IsNaN(float64(h[i])) || math.IsInf(float64(h[i]), 0) {
			finite = false
		}
	}
	u.CopyIn(g, h)
	return finite
}

func newCPU(tb testing.TB) *cpu.Backend {
	tb.Helper()
	b, err := cpu.New(cpu.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

// grads runs one forward/backward of the tiny model on fixed data with
// loss scaling l and returns the host gradients and whether to step.
func grads(t *testing.T, b engine.Backend, l *lossScale) ([][]float32, bool) {
	t.Helper()
	m, err := models.New("tiny", b, models.Options{Seed: 3, Classes: numClasses})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	x := make([]float32, n*3*32*32)
	for i := range x {
		x[i] = engine.Uniform(7, uint64(i))*2 - 1
	}
	xt := engine.FromHost(b, engine.Shape{n, 3, 32, 32}, x)
	y := engine.New(b, engine.Int32, engine.Shape{n})
	b.CopyInInt32(y, []int32{0, 3, 5, 9})
	logits := m.Forward(xt, engine.Train)
	losses := engine.New(b, engine.Float32, engine.Shape{n})
	dlogits := engine.New(b, engine.Float32, engine.Shape{n, numClasses})
	b.SoftmaxCrossEntropy(logits, y, 0.1, l.gradScale(n), losses, dlogits)
	ps := m.Params()
	engine.ZeroGrad(b, ps)
	m.Backward(dlogits)
	ok := l.unscale(ps)
	out := make([][]float32, len(ps))
	for i, p := range ps {
		out[i] = engine.ToHost(b, p.Grad)
	}
	return out, ok
}

// TestLossScale_Unscale checks that scaled-then-unscaled gradients equal
// the unscaled ones (the scale is a power of two, so exactly), that an
// overflow skips the step and halves the scale, and that the scale grows
// after GrowthInterval clean steps.
func TestLossScale_Unscale(t *testing.T) {
	ub := &unscalingCPU{Backend: newCPU(t)}
	want, ok := grads(t, ub, nil)
	if !ok || ub.calls != 0 {
		t.Fatalf("fp32: step %v, %d unscale calls; want a step and none", ok, ub.calls)
	}
	l, err := newLossScale(&Config{Precision: "fp16"}, ub)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := grads(t, ub, l)
	if !ok {
		t.Fatal("clean fp16 step was skipped")
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("grad %d[%d] = %g after unscaling, want %g", i, j, got[i][j], want[i][j])
			}
		}
	}

	// An overflow: the check reports a non-finite gradient once.
	s0 := l.s.Scale()
	l.check = func(engine.Tensor, float32) bool { return false }
	if l.unscale([]*engine.Param{{Grad: engine.New(ub, engine.Float32, engine.Shape{1})}}) {
		t.Error("overflowing step was not skipped")
	}
	if l.s.Scale() != s0/2 || l.s.Skipped() != 1 {
		t.Errorf("after overflow: scale %g skipped %d, want %g and 1", l.s.Scale(), l.s.Skipped(), s0/2)
	}
	l.check = func(engine.Tensor, float32) bool { return true }
	l.s.GrowthInterval = 3
	for range 3 {
		l.unscale(nil)
	}
	if l.s.Scale() != s0 {
		t.Errorf("after 3 clean steps with growth interval 3: scale %g, want %g", l.s.Scale(), s0)
	}
	m := map[string]float64{}
	l.addMetrics(m)
	if m["loss_scale"] != float64(s0) || m["amp_skipped_steps"] != 1 {
		t.Errorf("metrics = %v", m)
	}
}

func TestNewLossScale(t *testing.T) {
	b := newCPU(t)
	for _, p := range []string{"", "fp32", "bf16"} {
		if l, err := newLossScale(&Config{Precision: p}, b); l != nil || err != nil {
			t.Errorf("precision %q: %v, %v; want no loss scaling", p, l, err)
		}
	}
	_, err := newLossScale(&Config{Precision: "fp16"}, b)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "precision" || !strings.Contains(fe.Msg, "cannot do") {
		t.Errorf("fp16 on a backend without UnscaleCheck: error %v, want a precision FieldError", err)
	}
	var nilScale *lossScale
	if nilScale.gradScale(8) != 0.125 {
		t.Errorf("no loss scaling: grad scale %g, want 1/8", nilScale.gradScale(8))
	}
	if l := (&lossScale{s: amp.NewScaler()}); l.gradScale(8) != 65536.0/8 {
		t.Errorf("fresh scaler: grad scale %g, want 65536/8", l.gradScale(8))
	}
}

func TestOpenBackend_CPUPrecision(t *testing.T) {
	c := Defaults()
	c.Precision = "bf16"
	b, closeB, err := openBackend(&c, nil)
	if err != nil {
		t.Fatalf("bf16 on cpu: %v", err)
	}
	if ps, ok := b.(interface{ Precision() engine.DType }); !ok || ps.Precision() != engine.BFloat16 || !strings.HasPrefix(b.Name(), "cpu/bf16") {
		t.Errorf("bf16 on cpu: backend %s does not run the bf16 GEMM", b.Name())
	}
	closeB()
	c.Precision = "fp16"
	_, _, err = openBackend(&c, nil)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "precision" || !strings.HasPrefix(fe.Msg, "backend cpu") || !strings.Contains(fe.Msg, "cannot compute in fp16") {
		t.Errorf("fp16 on cpu: error %v", err)
	}
}

func TestResolveDevice(t *testing.T) {
	two := func() ([]devsched.Device, error) { return []devsched.Device{{Ordinal: 1}, {Ordinal: 2}}, nil }
	none := func() ([]devsched.Device, error) { return nil, errors.New("cuda: no driver") }
	var log strings.Builder
	c := Config{Device: "auto", Precision: "bf16"}
	if d := resolveDevice(&c, &log, two); d != "cuda:1" || c.Precision != "bf16" || log.Len() != 0 {
		t.Errorf("auto with GPUs 1, 2: %q precision %s log %q; want cuda:1, bf16, silence", d, c.Precision, log.String())
	}
	if d := resolveDevice(&c, &log, none); d != "cpu" || c.Precision != "bf16" ||
		log.String() != "sweep: device auto: cuda: no driver; training on the CPU in bf16\n" {
		t.Errorf("auto without GPU, bf16: %q precision %s log %q", d, c.Precision, log.String())
	}
	log.Reset()
	c = Config{Device: "auto", Precision: "fp16"}
	if d := resolveDevice(&c, &log, none); d != "cpu" || c.Precision != "fp32" ||
		log.String() != "sweep: device auto: cuda: no driver; training on the CPU in fp32 (precision fp16 ignored)\n" {
		t.Errorf("auto without GPU, fp16: %q precision %s log %q", d, c.Precision, log.String())
	}
	log.Reset()
	c = Config{Device: "auto"}
	multi := func() ([]devsched.Device, error) {
		return nil, errors.New("dynlib: CUDA driver not found (libcuda.so.1); searched:\n  dynamic loader  libcuda.so.1: no such file")
	}
	if d := resolveDevice(&c, &log, multi); d != "cpu" ||
		log.String() != "sweep: device auto: dynlib: CUDA driver not found (libcuda.so.1) (sweep doctor -v shows where); training on the CPU in fp32\n" {
		t.Errorf("auto, driver search report: %q log %q", d, log.String())
	}
	c = Config{Device: "cuda:3"}
	if d := resolveDevice(&c, &log, none); d != "cuda:3" {
		t.Errorf("explicit device: %q, want cuda:3", d)
	}
}

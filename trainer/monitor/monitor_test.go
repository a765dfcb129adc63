package monitor

import (
	"math"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
)

func TestMonitor_Measure(t *testing.T) {
	b, err := cpu.New(cpu.Options{Threads: 1, BLAS: "go"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m := &Monitor{B: b, Every: 10}
	grads := []Named{
		{"stem.conv.weight", engine.FromHost(b, engine.Shape{2, 2}, []float32{3, 0, 0, 0})},
		{"stem.conv.bias", engine.FromHost(b, engine.Shape{1}, []float32{4})},
		{"head.weight", engine.FromHost(b, engine.Shape{2}, []float32{0, 12})},
	}
	acts := []Named{{"stage1", engine.FromHost(b, engine.Shape{4}, []float32{0, 0, 2, 6})}}
	got := m.Measure(grads, acts, []float32{1, 1, 1, 5})
	want := map[string]float64{
		GradNorm:                13, // sqrt(9+16+144)
		GradNorm + "/stem.conv": 5,
		GradNorm + "/head":      12,
		ActMean + "/stage1":     2,
		ActStd + "/stage1":      math.Sqrt(6), // E[x²]=10, mean²=4
		ReLUZero + "/stage1":    0.5,
		LossMean:                2,
		LossStd:                 math.Sqrt(3), // E[l²]=7
		LossMax:                 5,
		LossP90:                 5,
		LossRatio:               2.5,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-6 {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d metrics %v, want %d", len(got), got, len(want))
	}
}

func TestMonitor_Due(t *testing.T) {
	m := &Monitor{Every: 50}
	if !m.Due(0) || m.Due(1) || !m.Due(100) {
		t.Fatal("Due: want steps 0, 50, 100...")
	}
	if (&Monitor{}).Due(0) {
		t.Fatal("Every 0 must never measure")
	}
}

func TestLossSpread_Percentile(t *testing.T) {
	l := make([]float32, 100)
	for i := range l {
		l[i] = float32(i + 1)
	}
	if got := LossSpread(l)[LossP90]; got != 90 {
		t.Fatalf("p90 of 1..100 = %g, want 90", got)
	}
}

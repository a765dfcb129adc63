package cputime

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/models"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestCPUTime(t *testing.T) {
	runtime.LockOSThread()
	b, _ := cpu.New(cpu.Options{Threads: 1})
	model := "tiny"
	m, _ := models.New(model, b, models.Options{Seed: 1})
	n := 128
	x := engine.New(b, engine.Float32, engine.Shape{n, 3, 32, 32})
	b.Fill(x, 0.3)
	lab := engine.New(b, engine.Int32, engine.Shape{n})
	loss := engine.NewSoftmaxCE(b, 0)
	ps := m.Params()
	fw := make([]time.Duration, len(m.Layers))
	bw := make([]time.Duration, len(m.Layers))
	steps := 10
	var total time.Duration
	for s := 0; s < steps+1; s++ {
		if s == 1 {
			for i := range fw {
				fw[i], bw[i] = 0, 0
			}
			total = 0
		}
		t0 := threadCPU()
		h := x
		for i, l := range m.Layers {
			c := threadCPU()
			h = l.Forward(h, engine.Train)
			fw[i] += threadCPU() - c
		}
		d := loss.Forward(h, lab, engine.Train)
		engine.ZeroGrad(b, ps)
		for i := len(m.Layers) - 1; i >= 0; i-- {
			c := threadCPU()
			d = m.Layers[i].Backward(d)
			bw[i] += threadCPU() - c
		}
		total += threadCPU() - t0
	}
	for i := range fw {
		t.Logf("%-14T fwd %7.2f ms  bwd %7.2f ms", m.Layers[i], float64(fw[i].Microseconds())/1000/float64(steps), float64(bw[i].Microseconds())/1000/float64(steps))
	}
	step := total / time.Duration(steps)
	gf := 3 * float64(engine.ForwardFLOPs(m)) * float64(n) / step.Seconds() / 1e9
	a, bm, c := engine.New(b, engine.Float32, engine.Shape{1024, 1024}), engine.New(b, engine.Float32, engine.Shape{1024, 1024}), engine.New(b, engine.Float32, engine.Shape{1024, 1024})
	b.Gemm(false, false, 1, a, bm, 0, c)
	c0 := threadCPU()
	for i := 0; i < 3; i++ {
		b.Gemm(false, false, 1, a, bm, 0, c)
	}
	sg := 3 * 2 * 1e9 / (threadCPU() - c0).Seconds() / 1e9
	t.Logf("step cpu %v → %.0f img/s/core, %.1f GFLOP/s; sgemm 1 thread %.1f GFLOP/s; ratio %.3f", step, float64(n)/step.Seconds(), gf, sg, gf/sg)
}

package cputime

import (
	"syscall"
	"testing"
	"time"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/models"
)

func procCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(0, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestTwoThreads(t *testing.T) {
	for _, blas := range []string{"", "go"} {
		b, _ := cpu.New(cpu.Options{Threads: 2, BLAS: blas})
		m, _ := models.New("tiny", b, models.Options{Seed: 1})
		n := 128
		x := engine.New(b, engine.Float32, engine.Shape{n, 3, 32, 32})
		b.Fill(x, 0.3)
		lab := engine.New(b, engine.Int32, engine.Shape{n})
		loss := engine.NewSoftmaxCE(b, 0)
		ps := m.Params()
		step := func() {
			d := loss.Forward(m.Forward(x, engine.Train), lab, engine.Train)
			engine.ZeroGrad(b, ps)
			m.Backward(d)
		}
		step()
		steps := 5
		if blas == "go" {
			steps = 2
		}
		c0, w0 := procCPU(), time.Now()
		for i := 0; i < steps; i++ {
			step()
		}
		c, w := (procCPU()-c0)/time.Duration(steps), time.Since(w0)/time.Duration(steps)
		t.Logf("blas=%q 2 threads: step wall %v, process cpu %v → %.0f img/s per cpu-second", blas, w, c, float64(n)/c.Seconds())
		b.Close()
	}
}

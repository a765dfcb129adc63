package cpu_test

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/enginetest"
)

// The kernel benchmarks run one thread on tiny's shapes (batch 128), so
// that ns/op is CPU time and comparable on a loaded machine:
//
//	go test -run '^$' -bench 'Kernel' -count 5 ./trainer/engine/cpu/

var tinyStages = []struct{ c, k, hw int }{{3, 32, 32}, {32, 64, 16}, {64, 128, 8}}

// cpuTime reports the process CPU time per op as "cpu-ns/op" when f
// returns: with one backend thread it is the kernel's CPU time, which
// other processes on a shared machine do not inflate.
func cpuTime(b *testing.B, f func()) {
	start := rusage()
	b.ResetTimer()
	for range b.N {
		f()
	}
	b.ReportMetric(float64((rusage()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func rusage() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func randTensor(b *cpu.Backend, r *rand.Rand, s engine.Shape) engine.Tensor {
	t := engine.New(b, engine.Float32, s)
	for i, d := 0, cpu.Data(t); i < len(d); i++ {
		d[i] = float32(r.NormFloat64())
	}
	return t
}

func BenchmarkKernel_BatchNormPool(b *testing.B) {
	be := newBackend(b, "", 1)
	r := rand.New(rand.NewPCG(1, 2))
	for _, st := range tinyStages {
		s := engine.Shape{128, st.k, st.hw, st.hw}
		ps := engine.Shape{128, st.k, st.hw / 2, st.hw / 2}
		cs := engine.Shape{st.k}
		x, pdy := randTensor(be, r, s), randTensor(be, r, ps)
		gamma, beta := randTensor(be, r, cs), randTensor(be, r, cs)
		rm, rv, mean, inv := randTensor(be, r, cs), randTensor(be, r, cs), randTensor(be, r, cs), randTensor(be, r, cs)
		py, idx := engine.New(be, engine.Float32, ps), engine.New(be, engine.Int32, ps)
		dx, dg, db := engine.New(be, engine.Float32, s), randTensor(be, r, cs), randTensor(be, r, cs)
		bn := engine.BatchNormDesc{Eps: 1e-5, Momentum: 0.1}
		d := engine.PoolDesc{KH: 2, KW: 2}
		b.Run(fmt.Sprintf("fwd/c%d", st.k), func(b *testing.B) {
			cpuTime(b, func() { be.BatchNormReLUMaxPoolTrain(d, x, gamma, beta, bn, rm, rv, mean, inv, py, idx) })
		})
		b.Run(fmt.Sprintf("bwd/c%d", st.k), func(b *testing.B) {
			cpuTime(b, func() { be.BatchNormReLUMaxPoolBackward(d, x, py, idx, pdy, gamma, mean, inv, dx, dg, db) })
		})
	}
}

func BenchmarkKernel_Conv(b *testing.B) {
	be := newBackend(b, "", 1)
	r := rand.New(rand.NewPCG(1, 2))
	same := engine.ConvDesc{PadH: 1, PadW: 1}
	for _, st := range tinyStages {
		xs, ys := engine.Shape{128, st.c, st.hw, st.hw}, engine.Shape{128, st.k, st.hw, st.hw}
		x, w, dy := randTensor(be, r, xs), randTensor(be, r, engine.Shape{st.k, st.c, 3, 3}), randTensor(be, r, ys)
		y, dx, dw := engine.New(be, engine.Float32, ys), engine.New(be, engine.Float32, xs), engine.New(be, engine.Float32, w.Shape)
		b.Run(fmt.Sprintf("fwd/c%d", st.k), func(b *testing.B) {
			cpuTime(b, func() { be.ConvForward(same, x, w, y) })
		})
		b.Run(fmt.Sprintf("bwd/c%d", st.k), func(b *testing.B) {
			cpuTime(b, func() {
				be.ConvBackwardFilter(same, x, dy, dw)
				if st.c != 3 {
					be.ConvBackwardData(same, dy, w, dx)
				}
			})
		})
	}
}

// TestBackend_ConvNarrowPlanes runs convolutions whose padding is wider than
// the plane (a 5x5 filter on 1x1 and 2x1 maps): every filter column but the
// centre misses the plane. Forward must match the reference; the backward
// passes must not index outside the plane, and their adjoint identity
// <dy, conv(x)> = <conv_dx(dy), x> must hold.
func TestBackend_ConvNarrowPlanes(t *testing.T) {
	b := newBackend(t, "go", 2)
	for _, s := range []engine.Shape{{2, 2, 1, 1}, {2, 3, 2, 1}} {
		d := engine.ConvDesc{PadH: 2, PadW: 2}
		ws := engine.Shape{3, s[1], 5, 5}
		x, xh := enginetest.Tensor(b, 31, s)
		w, wh := enginetest.Tensor(b, 32, ws)
		ys := engine.Shape{s[0], 3, s[2], s[3]}
		y := engine.New(b, engine.Float32, ys)
		b.ConvForward(d, x, w, y)
		enginetest.Compare(t, "narrow conv fwd", enginetest.Host(b, y), enginetest.ConvRef(d, xh, s, wh, ws), enginetest.Tol)
		dy, dyh := enginetest.Tensor(b, 33, ys)
		dx := engine.New(b, engine.Float32, s)
		b.ConvBackwardData(d, dy, w, dx)
		b.ConvBackwardFilter(d, x, dy, engine.New(b, engine.Float32, ws))
		var lhs, rhs float64
		for i, v := range enginetest.Host(b, y) {
			lhs += float64(v) * float64(dyh[i])
		}
		for i, v := range enginetest.Host(b, dx) {
			rhs += float64(v) * float64(xh[i])
		}
		if diff := lhs - rhs; diff > 1e-4 || diff < -1e-4 {
			t.Errorf("%v: <dy, conv(x)> = %v, <dx, x> = %v", s, lhs, rhs)
		}
	}
}

// BenchmarkKernel_BatchNormReLU measures the unpooled fused batch norm +
// ReLU of resnet18 and fastnet at a 64-channel 32x32 stage.
func BenchmarkKernel_BatchNormReLU(b *testing.B) {
	be := newBackend(b, "", 1)
	r := rand.New(rand.NewPCG(1, 2))
	s, cs := engine.Shape{128, 64, 32, 32}, engine.Shape{64}
	x, dy := randTensor(be, r, s), randTensor(be, r, s)
	gamma, beta := randTensor(be, r, cs), randTensor(be, r, cs)
	rm, rv, mean, inv := randTensor(be, r, cs), randTensor(be, r, cs), randTensor(be, r, cs), randTensor(be, r, cs)
	y, dx, dg, db := engine.New(be, engine.Float32, s), engine.New(be, engine.Float32, s), randTensor(be, r, cs), randTensor(be, r, cs)
	bn := engine.BatchNormDesc{Eps: 1e-5, Momentum: 0.1}
	b.Run("fwd", func(b *testing.B) {
		cpuTime(b, func() { be.BatchNormReLUTrain(x, gamma, beta, bn, rm, rv, mean, inv, y) })
	})
	b.Run("bwd", func(b *testing.B) {
		cpuTime(b, func() { be.BatchNormReLUBackward(x, y, dy, gamma, mean, inv, dx, dg, db) })
	})
}

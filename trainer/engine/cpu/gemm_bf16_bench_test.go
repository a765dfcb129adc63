package cpu

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"sweep/trainer/engine"
)

// threadCPU is the calling thread's CPU time: on a machine shared with
// other processes it counts only the time this thread ran, where wall
// time also counts the time it waited for a core.
func threadCPU(tb testing.TB) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// fastnetGEMMs are the GEMMs of fastnet's 3×3 convolutions (whitened stem,
// widths 64/256/256) for one chunk of images, as conv.go issues them:
// forward C(K, nb·PQ) = W·col, backward data col = Wᵀ·dy, backward filter
// dW = dy·colᵀ. The stem's 2×2 convolution is too small to matter.
func fastnetGEMMs() []struct {
	name string
	c    gemmCase
} {
	type conv struct {
		name       string
		cin, k, pq int
	}
	var out []struct {
		name string
		c    gemmCase
	}
	for _, cv := range []conv{
		{"s1c1_31x31", 24, 64, 961}, {"s1c2_15x15", 64, 64, 225},
		{"s2c1_15x15", 64, 256, 225}, {"s2c2_7x7", 256, 256, 49},
		{"s3c1_7x7", 256, 256, 49}, {"s3c2_3x3", 256, 256, 9},
	} {
		n := max(1, colsPerGEMM/cv.pq) * cv.pq
		crs := cv.cin * 9
		for _, op := range []struct {
			name string
			c    gemmCase
		}{
			{"fwd", gemmCase{m: cv.k, n: n, k: crs}},
			{"bwdData", gemmCase{m: crs, n: n, k: cv.k, transA: true}},
			{"bwdFilter", gemmCase{m: cv.k, n: crs, k: n, transB: true, beta: 1}},
		} {
			op.c.alpha = 1
			out = append(out, struct {
				name string
				c    gemmCase
			}{cv.name + "/" + op.name, op.c})
		}
	}
	return out
}

// BenchmarkGEMM_BF16vsSGEMM times the bf16 GEMM and the backend's SGEMM
// (OpenBLAS when it loads, else pure Go) alternately on one thread at
// fastnet's shapes and reports both rates and their ratio from the same
// run: bf16/sgemm > 1 means the bf16 path is faster. Rates are per second
// of the thread's CPU time, so other processes' load inflates neither.
// OpenBLAS picks its kernel from OPENBLAS_CORETYPE when set.
func BenchmarkGEMM_BF16vsSGEMM(b *testing.B) {
	if !hasBF16 {
		b.Skip("no AVX512-BF16: the Go fallback is not a speed path")
	}
	be, err := New(Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	b.Logf("sgemm: %s", be.Name())
	for _, s := range fastnetGEMMs() {
		b.Run(s.name, func(b *testing.B) {
			runtime.LockOSThread() // each sub-benchmark runs on its own goroutine
			defer runtime.UnlockOSThread()
			c := s.c
			r := rand.New(rand.NewPCG(1, 2))
			a, lda, bm, ldb, cm, ldc := gemmOperands(r, c)
			c1 := append([]float32(nil), cm...)
			g := bf16GEMM{asm: true}
			p := be.part(0)
			var tS, tB time.Duration
			b.ResetTimer()
			for range b.N {
				t0 := threadCPU(b)
				be.gemmSerial(p, c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, bm, ldb, c.beta, cm, ldc)
				t1 := threadCPU(b)
				g.gemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, bm, ldb, c.beta, c1, ldc)
				tB += threadCPU(b) - t1
				tS += t1 - t0
			}
			flops := 2 * float64(c.m) * float64(c.n) * float64(c.k) * float64(b.N)
			b.ReportMetric(flops/tS.Seconds()/1e9, "sgemm_GFLOP/s")
			b.ReportMetric(flops/tB.Seconds()/1e9, "bf16_GFLOP/s")
			b.ReportMetric(tS.Seconds()/tB.Seconds(), "bf16/sgemm")
		})
	}
}

// BenchmarkBF16Kernel times the 8×48 kernel alone on L1-resident panels
// (per second of thread CPU time): the ceiling the packed GEMM approaches.
func BenchmarkBF16Kernel(b *testing.B) {
	if !hasBF16 {
		b.Skip("no AVX512-BF16")
	}
	const kp = 128
	a, bp := make([]uint32, kp*bf16MR), make([]uint32, kp*bf16NR)
	for i := range a {
		a[i] = 0x3f803f80
	}
	for i := range bp {
		bp[i] = 0x3f803f80
	}
	c := make([]float32, bf16MR*bf16NR)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	t0 := threadCPU(b)
	for range b.N {
		bf16Kernel8x48(kp, &a[0], &bp[0], &c[0], bf16NR, 1, true, bf16MR, 1<<bf16NR-1)
	}
	b.ReportMetric(float64(b.N)*2*2*kp*bf16MR*bf16NR/(threadCPU(b)-t0).Seconds()/1e9, "GFLOP/s")
}

// BenchmarkConv_BF16vsFP32 runs fastnet's 3×3 convolutions (batch 64,
// one thread) on an SGEMM backend and a bf16 one alternately and reports
// the ratio of their thread CPU times per pass: what bf16 gains once
// im2col, col2im and the permutes around each GEMM are counted.
func BenchmarkConv_BF16vsFP32(b *testing.B) {
	if !hasBF16 {
		b.Skip("no AVX512-BF16")
	}
	fp, err := New(Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer fp.Close()
	bf, err := New(Options{Threads: 1, GEMM: BF16})
	if err != nil {
		b.Fatal(err)
	}
	defer bf.Close()
	same := engine.ConvDesc{PadH: 1, PadW: 1}
	r := rand.New(rand.NewPCG(1, 2))
	for _, cv := range []struct {
		name       string
		cin, k, hw int
	}{{"s1c1_32x32", 24, 64, 32}, {"s1c2_16x16", 64, 64, 16}, {"s2c1_16x16", 64, 256, 16},
		{"s2c2_8x8", 256, 256, 8}, {"s3c2_4x4", 256, 256, 4}} {
		xs, ws, ys := engine.Shape{64, cv.cin, cv.hw, cv.hw}, engine.Shape{cv.k, cv.cin, 3, 3}, engine.Shape{64, cv.k, cv.hw, cv.hw}
		host := func(s engine.Shape) []float32 { return randMatrix(r, 1, s.Numel()) }
		xh, wh, dyh := host(xs), host(ws), host(ys)
		type ops struct{ x, w, dy, y, dx, dw engine.Tensor }
		mk := func(be *Backend) ops {
			return ops{engine.FromHost(be, xs, xh), engine.FromHost(be, ws, wh), engine.FromHost(be, ys, dyh),
				engine.New(be, engine.Float32, ys), engine.New(be, engine.Float32, xs), engine.New(be, engine.Float32, ws)}
		}
		of, ob := mk(fp), mk(bf)
		for _, phase := range []struct {
			name string
			run  func(be *Backend, o ops)
		}{
			{"fwd", func(be *Backend, o ops) { be.ConvForward(same, o.x, o.w, o.y) }},
			{"bwdData", func(be *Backend, o ops) { be.ConvBackwardData(same, o.dy, o.w, o.dx) }},
			{"bwdFilter", func(be *Backend, o ops) { be.ConvBackwardFilter(same, o.x, o.dy, o.dw) }},
		} {
			b.Run(cv.name+"/"+phase.name, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var tF, tB time.Duration
				for range b.N {
					t0 := threadCPU(b)
					phase.run(fp, of)
					t1 := threadCPU(b)
					phase.run(bf, ob)
					tB += threadCPU(b) - t1
					tF += t1 - t0
				}
				b.ReportMetric(float64(tF.Microseconds())/float64(b.N), "fp32_us")
				b.ReportMetric(float64(tB.Microseconds())/float64(b.N), "bf16_us")
				b.ReportMetric(tF.Seconds()/tB.Seconds(), "fp32/bf16")
			})
		}
	}
}

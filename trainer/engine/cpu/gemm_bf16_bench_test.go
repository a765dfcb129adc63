package cpu

import (
	"math/rand/v2"
	"testing"
	"time"
)

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
// fastnet's shapes, and reports both rates and their ratio from the same
// run: bf16/sgemm > 1 means the bf16 path is faster. OpenBLAS picks its
// kernel from OPENBLAS_CORETYPE when set.
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
			c := s.c
			r := rand.New(rand.NewPCG(1, 2))
			a, lda, bm, ldb, cm, ldc := gemmOperands(r, c)
			c1 := append([]float32(nil), cm...)
			g := bf16GEMM{asm: true}
			p := be.part(0)
			var tS, tB time.Duration
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				be.gemmSerial(p, c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, bm, ldb, c.beta, cm, ldc)
				t1 := time.Now()
				g.gemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, bm, ldb, c.beta, c1, ldc)
				tB += time.Since(t1)
				tS += t1.Sub(t0)
			}
			flops := 2 * float64(c.m) * float64(c.n) * float64(c.k) * float64(b.N)
			b.ReportMetric(flops/tS.Seconds()/1e9, "sgemm_GFLOP/s")
			b.ReportMetric(flops/tB.Seconds()/1e9, "bf16_GFLOP/s")
			b.ReportMetric(tS.Seconds()/tB.Seconds(), "bf16/sgemm")
		})
	}
}

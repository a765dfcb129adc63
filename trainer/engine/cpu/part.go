package cpu

// A part is the scratch state of one slice of a split op. Convolutions
// split their batch into at most convParts parts and large GEMMs split their
// output into one part per thread; part i runs on one goroutine at a time,
// so its buffers and foreign-call arguments need no locks. The number of
// convolution parts depends only on the tensor sizes, never on the thread
// count, so partial weight gradients add up in the same order everywhere.
type part struct {
	call  gemmCall
	gemm  gemmTask  // pure-Go SGEMM state
	packB []float32 // pure-Go SGEMM packed B block
	bf16  bf16GEMM  // bf16 GEMM state (Options.GEMM = BF16)
	rows  im2colRows
	sink  col2imSink

	col, colT, dw []float32
	shifts        []shift // im2colSamePlanes' filter taps
}

const convParts = 4

// part returns part i, allocating it on first use.
func (b *Backend) part(i int) *part {
	for len(b.parts) <= i {
		b.parts = append(b.parts, new(part))
	}
	return b.parts[i]
}

// grow returns (*buf)[:n], reallocating when the capacity is short.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// gemmSerial runs one SGEMM on the calling goroutine with part p's state.
func (b *Backend) gemmSerial(p *part, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	bm []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if b.mode == BF16 {
		p.bf16.asm = b.bf16Asm
		p.bf16.gemm(transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
		return
	}
	if b.blas != nil && k > 0 {
		b.blas.gemm(&p.call, transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
		return
	}
	b.gemmGo(p, false, transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
}

// gemmMinSplit is the m·n·k below which a GEMM runs on one thread.
const gemmMinSplit = 1 << 21

// gemm runs one GEMM split across the backend's threads: OpenBLAS or bf16
// calls on blocks of rows (or of columns, when there are few rows), or the
// pure-Go SGEMM's own parallel loop. Every element of C is computed by one
// call, so the split never changes results.
func (b *Backend) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	bm []float32, ldb int, beta float32, c []float32, ldc int) {
	if b.threads == 1 || m*n*k < gemmMinSplit {
		b.gemmSerial(b.part(0), transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
		return
	}
	if b.blas == nil && b.mode == FP32 {
		b.gemmGo(b.part(0), true, transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
		return
	}
	t := &b.k.split
	*t = gemmSplit{b: b, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
		bm: bm, ldb: ldb, beta: beta, c: c, ldc: ldc, parts: b.threads}
	for i := 0; i < t.parts; i++ {
		b.part(i)
	}
	b.pool.For(t.parts, 1, t)
}

// gemmSplit is one part of a split GEMM per item.
type gemmSplit struct {
	b              *Backend
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, bm, c       []float32
	lda, ldb, ldc  int
	parts          int
}

func (t *gemmSplit) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		p := t.b.parts[i]
		if t.m >= t.n {
			r0, r1 := blockRange(t.m, t.parts, i)
			a := t.a[r0*t.lda:]
			if t.transA {
				a = t.a[r0:]
			}
			t.b.gemmSerial(p, t.transA, t.transB, r1-r0, t.n, t.k, t.alpha, a, t.lda, t.bm, t.ldb, t.beta, t.c[r0*t.ldc:], t.ldc)
			continue
		}
		c0, c1 := blockRange(t.n, t.parts, i)
		bm := t.bm[c0:]
		if t.transB {
			bm = t.bm[c0*t.ldb:]
		}
		t.b.gemmSerial(p, t.transA, t.transB, t.m, c1-c0, t.k, t.alpha, t.a, t.lda, bm, t.ldb, t.beta, t.c[c0:], t.ldc)
	}
}

// blockRange returns part i of n items split into parts nearly equal
// blocks, rounded to multiples of 16 so that GEMM blocks stay aligned.
func blockRange(n, parts, i int) (lo, hi int) {
	step := (n + parts - 1) / parts
	step = (step + 15) &^ 15
	lo, hi = min(i*step, n), min((i+1)*step, n)
	return lo, hi
}

package cpu

// Pure-Go SGEMM, the fallback when no OpenBLAS loads. It is the classic
// Goto/BLIS structure without assembly: C is updated one kc-deep slice of
// the k dimension at a time; a kc×nc block of op(B) is packed into
// 4-column panels, each worker packs 4-row panels of alpha·op(A) and runs a
// 4x4 register-blocked kernel over the B panels. Work is split over row
// panels of C only, and k is always summed in the same order, so results
// do not depend on the number of threads.

const (
	gemmMR = 4   // rows of the register block
	gemmNR = 4   // columns of the register block
	gemmKC = 256 // depth of a packed slice: A panel 4 KiB, fits L1
	gemmNC = 512 // columns of a packed B block: 512 KiB, fits L2
)

// gemmGo computes row-major C = alpha·op(A)·op(B) + beta·C with part p's
// buffers, over the worker pool when parallel is true.
func (b *Backend) gemmGo(p *part, parallel bool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	bm []float32, ldb int, beta float32, c []float32, ldc int) {
	scaleRows(c, m, n, ldc, beta)
	if k == 0 || alpha == 0 {
		return
	}
	t := &p.gemm
	*t = gemmTask{transA: transA, m: m, alpha: alpha, a: a, lda: lda, c: c, ldc: ldc}
	for j0 := 0; j0 < n; j0 += gemmNC {
		nc := min(gemmNC, n-j0)
		for p0 := 0; p0 < k; p0 += gemmKC {
			kc := min(gemmKC, k-p0)
			t.bp = packB(&p.packB, transB, bm, ldb, p0, kc, j0, nc)
			t.j0, t.nc, t.p0, t.kc = j0, nc, p0, kc
			panels := (m + gemmMR - 1) / gemmMR
			if parallel {
				b.pool.For(panels, 4, t)
			} else {
				t.run(0, panels)
			}
		}
	}
}

// scaleRows applies beta to the m×n block of c: 0 clears it (NaN too).
func scaleRows(c []float32, m, n, ldc int, beta float32) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packB copies op(B)[p0:p0+kc, j0:j0+nc] into 4-column panels, zero padded:
// panel q holds, for each depth p, columns 4q..4q+3.
func packB(buf *[]float32, transB bool, bm []float32, ldb, p0, kc, j0, nc int) []float32 {
	panels := (nc + gemmNR - 1) / gemmNR
	bp := grow(buf, panels*gemmNR*kc)
	for q := 0; q < panels; q++ {
		dst := bp[q*gemmNR*kc : (q+1)*gemmNR*kc]
		for jj := 0; jj < gemmNR; jj++ {
			j := j0 + q*gemmNR + jj
			if j >= j0+nc {
				for p := 0; p < kc; p++ {
					dst[p*gemmNR+jj] = 0
				}
				continue
			}
			for p := 0; p < kc; p++ {
				var v float32
				if transB {
					v = bm[j*ldb+p0+p]
				} else {
					v = bm[(p0+p)*ldb+j]
				}
				dst[p*gemmNR+jj] = v
			}
		}
	}
	return bp
}

// gemmTask multiplies row panels [lo, hi) of the current block.
type gemmTask struct {
	transA         bool
	m              int
	alpha          float32
	a              []float32
	lda            int
	c              []float32
	ldc            int
	bp             []float32
	j0, nc, p0, kc int
}

func (t *gemmTask) run(lo, hi int) {
	var ap [gemmMR * gemmKC]float32
	var acc [gemmMR * gemmNR]float32
	for panel := lo; panel < hi; panel++ {
		i0 := panel * gemmMR
		t.packA(ap[:gemmMR*t.kc], i0)
		for q := 0; q*gemmNR < t.nc; q++ {
			kern4x4(t.kc, ap[:gemmMR*t.kc], t.bp[q*gemmNR*t.kc:(q+1)*gemmNR*t.kc], &acc)
			j := t.j0 + q*gemmNR
			for ii := 0; ii < gemmMR && i0+ii < t.m; ii++ {
				row := t.c[(i0+ii)*t.ldc:]
				for jj := 0; jj < gemmNR && j+jj < t.j0+t.nc; jj++ {
					row[j+jj] += acc[ii*gemmNR+jj]
				}
			}
		}
	}
}

// packA copies alpha·op(A)[i0:i0+4, p0:p0+kc] so that depth p holds the
// panel's four rows, zero padded past m.
func (t *gemmTask) packA(ap []float32, i0 int) {
	for ii := 0; ii < gemmMR; ii++ {
		i := i0 + ii
		if i >= t.m {
			for p := 0; p < t.kc; p++ {
				ap[p*gemmMR+ii] = 0
			}
			continue
		}
		for p := 0; p < t.kc; p++ {
			var v float32
			if t.transA {
				v = t.a[(t.p0+p)*t.lda+i]
			} else {
				v = t.a[i*t.lda+t.p0+p]
			}
			ap[p*gemmMR+ii] = t.alpha * v
		}
	}
}

// kern4x4 sets acc to the 4x4 product of a packed A panel and B panel.
func kern4x4(kc int, a, b []float32, acc *[gemmMR * gemmNR]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	a = a[:kc*gemmMR]
	b = b[:kc*gemmNR]
	for p := 0; p+3 < len(a) && p+3 < len(b); p += 4 {
		aa := a[p : p+4 : p+4]
		bb := b[p : p+4 : p+4]
		a0, a1, a2, a3 := aa[0], aa[1], aa[2], aa[3]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	*acc = [16]float32{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
}

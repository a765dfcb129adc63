package cpu

import (
	"fmt"
	"math"
)

// The bf16 GEMM (Options.GEMM = BF16): row-major C = alpha·op(A)·op(B) +
// beta·C with op(A) and op(B) rounded to bfloat16 (nearest even) and the
// products summed in float32. A bf16 product is exact in float32, so the
// only roundings are the operands' and the float32 sums'; the error
// against float64 is about 2⁻⁸ relative per operand plus float32
// summation error, as the trainer's mixed precision on CUDA.
//
// Structure (Goto/BLIS): the k dimension is cut into slices of at most
// bf16KC (even) depths, the columns into blocks of bf16NC. Per slice and
// block, op(B) is packed into 48-column panels and op(A), in blocks of
// bf16MC rows, into 8-row panels, both as bf16 pairs: one uint32 holds
// the values at depths 2t (low half) and 2t+1 (high half), zero padded
// past k, m and n. An 8×48 tile of C takes kp = ⌈kc/2⌉ steps of
// VDPBF16PS, each adding two depths' products to 24 zmm accumulators,
// and is added to C as C += alpha·acc (stored, C = alpha·acc, for the
// first slice when beta is 0). A B panel (kp·192 bytes, 24 KiB
// at bf16KC) stays in L1 while the A panels of the row block stream from
// L2.
//
// On CPUs without AVX512-BF16 the same packing and tile loops run in Go
// with the instruction's arithmetic (per pair, the odd depth's product is
// added first, then the even one's, each sum rounded to float32): slower
// than SGEMM, but the numbers a run sees do not depend on the CPU beyond
// the rounding of denormals, which VDPBF16PS flushes to zero.
//
// The GEMM runs on the calling goroutine; the backend splits convolutions
// and large GEMMs over its workers exactly as for SGEMM (gemm.go), each
// part with its own bf16GEMM. Every element is summed over the same depth
// slices in the same order wherever the split puts it, and tiles cut by
// the edges of C run the same kernel with masked loads and stores, so
// results are bit-identical across thread counts
// (TestBackend_BF16Deterministic).

const (
	bf16MR = 8   // rows of a tile
	bf16NR = 48  // columns of a tile: three zmm of float32
	bf16KC = 256 // most depths per packed slice (128 pairs)
	bf16MC = 256 // rows per packed A block: 128 KiB at bf16KC
	bf16NC = 768 // columns per packed B block: 384 KiB at bf16KC
)

// bf16GEMM is one goroutine's bf16 GEMM: its packed operands, reused
// from call to call, and whether the assembly kernels run.
type bf16GEMM struct {
	asm  bool // AVX512-BF16 assembly (hasBF16); false runs the Go loops
	a, b []uint32
	rows []float32 // two rows of op(B) from a rowSource
	c    []float32 // a block of C for a blockSink
}

// rowSource produces op(B) one row at a time: row(p, dst) fills dst, n
// long, with op(B)[p, 0:n]. A convolution passes its im2col this way, so
// that each pair of col rows goes from L1 straight into the packed panels
// instead of through a col matrix of megabytes written and read back.
type rowSource interface {
	row(p int, dst []float32)
}

// gemm computes row-major C = alpha·op(A)·op(B) + beta·C in bf16 with
// float32 accumulation. With beta 0, C's old values (NaN included) are
// never read, as in SGEMM.
func (g *bf16GEMM) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	bm []float32, ldb int, beta float32, c []float32, ldc int) {
	g.run(transA, transB, m, n, k, alpha, a, lda, bm, ldb, nil, beta, c, ldc)
}

// gemmRows is gemm with op(B) (k×n) produced by src.
func (g *bf16GEMM) gemmRows(transA bool, m, n, k int, alpha float32, a []float32, lda int,
	src rowSource, beta float32, c []float32, ldc int) {
	g.run(transA, false, m, n, k, alpha, a, lda, nil, 0, src, beta, c, ldc)
}

// blockSink takes C a block of rows at a time: rows [i0, i0+mc), mc×n,
// final, in a buffer reused for the next block.
type blockSink interface {
	rows(i0, mc int, c []float32)
}

// gemmSink computes C = alpha·op(A)·op(B) in blocks of mc rows, each
// handed to sink and never stored whole: a convolution's col2im takes col
// while it is in L2. One depth slice and one column block only: k ≤
// bf16KC, n ≤ bf16NC.
func (g *bf16GEMM) gemmSink(transA, transB bool, m, n, k, mc int, alpha float32, a []float32, lda int,
	bm []float32, ldb int, sink blockSink) {
	if k > bf16KC || n > bf16NC {
		panic(fmt.Sprintf("cpu: bf16 gemmSink: k %d n %d beyond one block", k, n))
	}
	bp := g.packB(transB, bm, ldb, 0, k, 0, n)
	cb := grow(&g.c, mc*n)
	for i0 := 0; i0 < m; i0 += mc {
		rows := min(mc, m-i0)
		ap := g.packA(transA, a, lda, i0, rows, 0, k)
		g.block((k+1)/2, ap, bp, rows, n, alpha, cb, n, false)
		sink.rows(i0, rows, cb[:rows*n])
	}
}

// run is gemm with op(B) from bm or, when src is not nil, from src.
func (g *bf16GEMM) run(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	bm []float32, ldb int, src rowSource, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 || beta != 0 {
		scaleRows(c, m, n, ldc, beta)
		if k == 0 || alpha == 0 {
			return
		}
	}
	slices := (k + bf16KC - 1) / bf16KC
	kcStep := ((k+slices-1)/slices + 1) &^ 1 // even, near k/slices
	for j0 := 0; j0 < n; j0 += bf16NC {
		nc := min(bf16NC, n-j0)
		for p0 := 0; p0 < k; p0 += kcStep {
			kc := min(kcStep, k-p0)
			var bp []uint32
			if src != nil {
				bp = g.packRows(src, n, p0, kc, j0, nc)
			} else {
				bp = g.packB(transB, bm, ldb, p0, kc, j0, nc)
			}
			for i0 := 0; i0 < m; i0 += bf16MC {
				mc := min(bf16MC, m-i0)
				ap := g.packA(transA, a, lda, i0, mc, p0, kc)
				// With beta 0 the first slice overwrites C: no clearing pass,
				// and NaNs in C never reach the sums.
				g.block((kc+1)/2, ap, bp, mc, nc, alpha, c[i0*ldc+j0:], ldc, beta != 0 || p0 > 0)
			}
		}
	}
}

// block adds alpha·A·B to the mc×nc block at c (stores it when !add),
// tile by tile: all row tiles of one B panel before the next panel.
func (g *bf16GEMM) block(kp int, ap, bp []uint32, mc, nc int, alpha float32, c []float32, ldc int, add bool) {
	for q := 0; q*bf16NR < nc; q++ {
		bq := bp[q*kp*bf16NR : (q+1)*kp*bf16NR]
		cols := min(bf16NR, nc-q*bf16NR)
		for r := 0; r*bf16MR < mc; r++ {
			ar := ap[r*kp*bf16MR : (r+1)*kp*bf16MR]
			g.kernel(kp, ar, bq, c[r*bf16MR*ldc+q*bf16NR:], ldc, alpha, add, min(bf16MR, mc-r*bf16MR), cols)
		}
	}
}

// kernel adds alpha times the product of an A panel and a B panel, kp
// pairs deep, to rows×cols of the 8×48 tile at c (row stride ldc), or
// stores it there when !add.
func (g *bf16GEMM) kernel(kp int, a, b []uint32, c []float32, ldc int, alpha float32, add bool, rows, cols int) {
	a, b, c = a[:kp*bf16MR], b[:kp*bf16NR], c[:(rows-1)*ldc+cols] // bounds for the assembly
	if g.asm {
		bf16Kernel8x48(kp, &a[0], &b[0], &c[0], ldc, alpha, add, rows, 1<<cols-1)
		return
	}
	var acc [bf16MR * bf16NR]float32
	for p := 0; p < kp; p++ {
		bp := b[p*bf16NR : (p+1)*bf16NR]
		for i, av := range a[p*bf16MR : (p+1)*bf16MR] {
			alo, ahi := bf16Lo(av), bf16Hi(av)
			row := acc[i*bf16NR : (i+1)*bf16NR]
			for j, bv := range bp {
				s := row[j] + ahi*bf16Hi(bv) // VDPBF16PS: odd depth first
				row[j] = s + alo*bf16Lo(bv)
			}
		}
	}
	for i := 0; i < rows; i++ {
		dst := c[i*ldc : i*ldc+cols]
		for j, v := range acc[i*bf16NR : i*bf16NR+cols] {
			if add {
				dst[j] += alpha * v
			} else {
				dst[j] = alpha * v
			}
		}
	}
}

// packA packs op(A)[i0:i0+mc, p0:p0+kc] into 8-row panels: panel r holds
// at t·8+ii the pair of row i0+8r+ii at depths p0+2t and p0+2t+1.
func (g *bf16GEMM) packA(transA bool, a []float32, lda, i0, mc, p0, kc int) []uint32 {
	kp := (kc + 1) / 2
	ap := growU32(&g.a, (mc+bf16MR-1)/bf16MR*kp*bf16MR)
	for r := 0; r*bf16MR < mc; r++ {
		dst := ap[r*kp*bf16MR : (r+1)*kp*bf16MR]
		ib, rows := i0+r*bf16MR, min(bf16MR, mc-r*bf16MR)
		if transA { // op(A)[i,p] = a[p·lda+i]: a depth pair is two rows of a
			done := 0
			if g.asm && rows == bf16MR && kc >= 2 {
				done = kc / 2
				src := span(a[p0*lda+ib:], (2*done-1)*lda+bf16MR)
				bf16PairRows8(&dst[0], &src[0], lda, done)
			}
			for t := done; t < kp; t++ {
				for ii := 0; ii < bf16MR; ii++ {
					dst[t*bf16MR+ii] = pairAt(a, (p0+2*t)*lda+ib+ii, lda, ii < rows, p0+2*t+1 < p0+kc)
				}
			}
			continue
		}
		// op(A)[i,p] = a[i·lda+p]: a depth pair is adjacent in a row of a.
		done := 0
		if g.asm {
			done = kp
			pairCols(dst, a[ib*lda+p0:], lda, rows, kc, bf16MR)
		}
		for ii := 0; ii < bf16MR; ii++ {
			t0 := done
			if ii >= rows {
				t0 = 0
			}
			for t := t0; t < kp; t++ {
				dst[t*bf16MR+ii] = pairAt(a, (ib+ii)*lda+p0+2*t, 1, ii < rows, 2*t+1 < kc)
			}
		}
	}
	return ap
}

// packB packs op(B)[p0:p0+kc, j0:j0+nc] into 48-column panels: panel q
// holds at t·48+jj the pair of column j0+48q+jj at depths p0+2t and
// p0+2t+1.
func (g *bf16GEMM) packB(transB bool, b []float32, ldb, p0, kc, j0, nc int) []uint32 {
	kp := (kc + 1) / 2
	bp := growU32(&g.b, (nc+bf16NR-1)/bf16NR*kp*bf16NR)
	for q := 0; q*bf16NR < nc; q++ {
		dst := bp[q*kp*bf16NR : (q+1)*kp*bf16NR]
		jb, cols := j0+q*bf16NR, min(bf16NR, nc-q*bf16NR)
		if !transB { // op(B)[p,j] = b[p·ldb+j]: a depth pair is two rows of b
			pairs, done := 0, 0
			if g.asm && kc >= 2 {
				pairs, done = kc/2, cols
				src := span(b[p0*ldb+jb:], (2*pairs-1)*ldb+cols)
				bf16PairRows(&dst[0], &src[0], ldb, pairs, cols/16, cols%16, bf16NR)
			}
			for t := 0; t < kp; t++ {
				j := 0
				if t < pairs {
					j = done
				}
				for jj := j; jj < bf16NR; jj++ {
					dst[t*bf16NR+jj] = pairAt(b, (p0+2*t)*ldb+jb+jj, ldb, jj < cols, 2*t+1 < kc)
				}
			}
			continue
		}
		// op(B)[p,j] = b[j·ldb+p]: a depth pair is adjacent in a row of b.
		done := 0
		if g.asm {
			done = kp
			pairCols(dst, b[jb*ldb+p0:], ldb, cols, kc, bf16NR)
		}
		for jj := 0; jj < bf16NR; jj++ {
			t0 := done
			if jj >= cols {
				t0 = 0
			}
			for t := t0; t < kp; t++ {
				dst[t*bf16NR+jj] = pairAt(b, (jb+jj)*ldb+p0+2*t, 1, jj < cols, 2*t+1 < kc)
			}
		}
	}
	return bp
}

// packRows is packB for op(B) from src: per depth pair, the two rows are
// produced into g.rows (n floats each) and packed into every panel.
func (g *bf16GEMM) packRows(src rowSource, n, p0, kc, j0, nc int) []uint32 {
	kp := (kc + 1) / 2
	stride := kp * bf16NR // one panel
	bp := growU32(&g.b, (nc+bf16NR-1)/bf16NR*stride)
	rows := grow(&g.rows, 2*n)
	r0, r1 := rows[:n], rows[n:]
	full, rem := nc/bf16NR, nc%bf16NR
	for t := 0; t < kp; t++ {
		src.row(p0+2*t, r0)
		if 2*t+1 < kc {
			src.row(p0+2*t+1, r1)
		} else {
			clear(r1)
		}
		if !g.asm {
			for j := 0; j < full*bf16NR+rem; j++ {
				bp[j/bf16NR*stride+t*bf16NR+j%bf16NR] = pairAt(rows, j0+j, n, true, true)
			}
		} else if full > 0 {
			bf16PairRowPanels(&bp[t*bf16NR], &r0[j0], &r1[j0], full, stride)
		}
		if rem == 0 {
			continue
		}
		dst := bp[full*stride+t*bf16NR : full*stride+(t+1)*bf16NR]
		if g.asm {
			bf16PairRows(&dst[0], &span(rows[j0+full*bf16NR:], n+rem)[0], n, 1, rem/16, rem%16, bf16NR)
		}
		clear(dst[rem:])
	}
	return bp
}

// pairCols runs bf16PairCols16 over groups of 16 rows of src: for j <
// cols and p < ⌈depth/2⌉, dst[p·stride+j] = pair(src[j·ld+2p],
// src[j·ld+2p+1]), the depth past depth read as zero.
func pairCols(dst []uint32, src []float32, ld, cols, depth, stride int) {
	src = span(src, (cols-1)*ld+depth)
	for j := 0; j < cols; j += 16 {
		bf16PairCols16(&dst[j], &src[j*ld], ld, min(16, cols-j), depth/32, depth%32, stride)
	}
}

// pairAt returns the bf16 pair (x[i], x[i+step]); zero when !valid, and
// the high half zero when !second (an odd k's last depth).
func pairAt(x []float32, i, step int, valid, second bool) uint32 {
	if !valid {
		return 0
	}
	lo, hi := x[i], float32(0)
	if second {
		hi = x[i+step]
	}
	return bf16Bits(lo) | bf16Bits(hi)<<16
}

// span returns x[:n], panicking with both lengths when x is shorter: the
// assembly reads n elements and must never run past the slice.
func span(x []float32, n int) []float32 {
	if n > len(x) {
		panic(fmt.Sprintf("cpu: bf16 gemm: operand holds %d elements, packing reads %d", len(x), n))
	}
	return x[:n]
}

// bf16Bits rounds f to bfloat16 as VCVTNE2PS2BF16 does: to nearest even,
// NaNs quieted, denormals (and zeros) to a zero of the same sign.
func bf16Bits(f float32) uint32 {
	u := math.Float32bits(f)
	switch {
	case u&0x7fffffff > 0x7f800000:
		return u>>16 | 0x40
	case u&0x7f800000 == 0:
		return u >> 16 & 0x8000
	}
	return (u + 0x7fff + (u>>16)&1) >> 16
}

// bf16Round returns f rounded to bfloat16, as a float32.
func bf16Round(f float32) float32 { return math.Float32frombits(bf16Bits(f) << 16) }

func bf16Lo(p uint32) float32 { return math.Float32frombits(p << 16) }
func bf16Hi(p uint32) float32 { return math.Float32frombits(p &^ 0xffff) }

// growU32 is grow for packed bf16 pairs.
func growU32(buf *[]uint32, n int) []uint32 {
	if cap(*buf) < n {
		*buf = make([]uint32, n)
	}
	return (*buf)[:n]
}

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestBF16Bits(t *testing.T) {
	denorm := math.Float32frombits(0x00400000)
	for _, c := range []struct {
		in   float32
		want uint32
	}{
		{1, 0x3f80},
		{-2, 0xc000},
		{0, 0},
		{float32(math.Copysign(0, -1)), 0x8000},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, even stays
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, odd rounds up
		{math.Float32frombits(0x3f808001), 0x3f81}, // above the tie
		{math.Float32frombits(0x3f807fff), 0x3f80}, // below the tie
		{math.MaxFloat32, 0x7f80},                  // rounds to +Inf
		{float32(math.Inf(-1)), 0xff80},
		{denorm, 0},
		{-denorm, 0x8000},
		{math.Float32frombits(0x7f800001), 0x7fc0}, // signalling NaN is quieted
		{math.Float32frombits(0xffc12345), 0xffc1},
	} {
		if got := bf16Bits(c.in); got != c.want {
			t.Errorf("bf16Bits(%g = %#08x) = %#04x, want %#04x", c.in, math.Float32bits(c.in), got, c.want)
		}
	}
}

// bf16Paths are the kernels to test: Go always, assembly where it runs.
func bf16Paths(t *testing.T) []bool {
	if hasBF16 {
		return []bool{false, true}
	}
	t.Log("no AVX512-BF16 here: the assembly path is not tested")
	return []bool{false}
}

func pathName(asm bool) string {
	if asm {
		return "asm"
	}
	return "go"
}

// randMatrix returns rows×ld values in [-1, 1) with some wide exponents,
// so that bf16 rounding and float32 sums both matter.
func randMatrix(r *rand.Rand, rows, ld int) []float32 {
	x := make([]float32, rows*ld)
	for i := range x {
		x[i] = float32(r.Float64()*2-1) * float32(math.Exp2(float64(r.IntN(9)-4)))
	}
	return x
}

// TestBF16GEMM_Pack checks that the assembly packing routines round and
// place every pair exactly as the Go packing does, at every transpose,
// with ragged edges and special values (NaN, ±Inf, denormals, ties).
func TestBF16GEMM_Pack(t *testing.T) {
	if !hasBF16 {
		t.Skip("no AVX512-BF16")
	}
	r := rand.New(rand.NewPCG(1, 2))
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x00400000), math.Float32frombits(0x3f808000), math.Float32frombits(0x3f818000), math.MaxFloat32}
	for _, sz := range [][2]int{{37, 100}, {8, 64}, {61, 33}, {16, 2}, {5, 257}} {
		rows, cols := sz[0], sz[1]
		ld := cols + 5
		x := randMatrix(r, rows, ld)
		for i, v := range specials {
			x[(i*7919)%len(x)] = v
		}
		for _, trans := range []bool{false, true} {
			// As B: op(B) is k×n; untransposed x is k=rows × n=cols.
			k, n := rows, cols
			if trans {
				k, n = cols, rows
			}
			for _, p0 := range []int{0, 1} {
				kc := k - p0
				var g, a bf16GEMM
				a.asm = true
				want := g.packB(trans, x, ld, p0, kc, 0, n)
				got := a.packB(trans, x, ld, p0, kc, 0, n)
				comparePacked(t, fmt.Sprintf("packB %dx%d trans=%v p0=%d", rows, cols, trans, p0), got, want)
				// As A: op(A) is m×k; untransposed x is m=rows × k=cols.
				m, ka := rows, cols-p0
				if trans {
					m, ka = cols, rows-p0
				}
				want = g.packA(trans, x, ld, 0, m, p0, ka)
				got = a.packA(trans, x, ld, 0, m, p0, ka)
				comparePacked(t, fmt.Sprintf("packA %dx%d trans=%v p0=%d", rows, cols, trans, p0), got, want)
			}
		}
	}
}

// matrixRows is a rowSource over a row-major matrix.
type matrixRows struct {
	x  []float32
	ld int
}

func (m matrixRows) row(p int, dst []float32) { copy(dst, m.x[p*m.ld:p*m.ld+len(dst)]) }

// TestBF16GEMM_PackRows checks that packing op(B) from a row source gives
// the pairs packB gives from the matrix, on both paths, for column blocks
// that start inside the rows, odd depths and ragged panels.
func TestBF16GEMM_PackRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, asm := range bf16Paths(t) {
		for _, c := range []struct{ k, n, p0, kc, j0, nc int }{
			{9, 100, 0, 9, 0, 100}, {40, 61, 3, 30, 5, 56}, {3, 48, 1, 2, 0, 48}, {64, 500, 0, 64, 17, 483}, {5, 7, 0, 5, 0, 7},
		} {
			x := randMatrix(r, c.k, c.n)
			x[3] = float32(math.NaN())
			var g, h bf16GEMM
			g.asm, h.asm = asm, asm
			want := g.packB(false, x, c.n, c.p0, c.kc, c.j0, c.nc)
			got := h.packRows(matrixRows{x, c.n}, c.n, c.p0, c.kc, c.j0, c.nc)
			comparePacked(t, fmt.Sprintf("%s %+v", pathName(asm), c), got, want)
		}
	}
}

func comparePacked(t *testing.T, name string, got, want []uint32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d pairs, want %d", name, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: pair %d = %#08x, want %#08x", name, i, got[i], want[i])
		}
	}
}

type gemmCase struct {
	m, n, k        int
	transA, transB bool
	alpha, beta    float32
}

func (c gemmCase) String() string {
	return fmt.Sprintf("%dx%dx%d_tA=%v_tB=%v_a=%g_b=%g", c.m, c.n, c.k, c.transA, c.transB, c.alpha, c.beta)
}

func bf16Cases() []gemmCase {
	var cs []gemmCase
	shapes := [][3]int{{1, 1, 1}, {3, 5, 1}, {8, 48, 2}, {9, 49, 3}, {7, 47, 33}, {16, 96, 64},
		{24, 130, 216}, {17, 100, 257}, {64, 61, 600}, {300, 800, 40}, {24, 50, 2304}}
	for i, s := range shapes {
		for tr := 0; tr < 4; tr++ {
			c := gemmCase{m: s[0], n: s[1], k: s[2], transA: tr&1 != 0, transB: tr&2 != 0, alpha: 1}
			switch (i + tr) % 3 {
			case 1:
				c.beta = 1
			case 2:
				c.alpha, c.beta = -0.5, 0.25
			}
			cs = append(cs, c)
		}
	}
	// alpha 0 only scales C (beta 0 clears it, NaN included).
	cs = append(cs, gemmCase{m: 9, n: 50, k: 7, alpha: 0, beta: 0.5}, gemmCase{m: 9, n: 50, k: 7, transB: true})
	return cs
}

// gemmOperands returns op(A), op(B) and C for c with padded leading
// dimensions, C holding NaN where beta is 0 (which must clear it).
func gemmOperands(r *rand.Rand, c gemmCase) (a []float32, lda int, b []float32, ldb int, cm []float32, ldc int) {
	ar, ac := c.m, c.k
	if c.transA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.transB {
		br, bc = c.n, c.k
	}
	lda, ldb, ldc = ac+3, bc+1, c.n+2
	a, b, cm = randMatrix(r, ar, lda), randMatrix(r, br, ldb), randMatrix(r, c.m, ldc)
	if c.beta == 0 {
		for i := range cm {
			cm[i] = float32(math.NaN())
		}
	}
	return a, lda, b, ldb, cm, ldc
}

// reference returns C = alpha·op(A)·op(B) + beta·C in float64 with round
// applied to the operands, and Σ|alpha·a·b| + |beta·c| per element (the
// scale of the summation error).
func reference(c gemmCase, a []float32, lda int, b []float32, ldb int, cm []float32, ldc int, round func(float32) float32) (ref, mag []float64) {
	ref, mag = make([]float64, c.m*c.n), make([]float64, c.m*c.n)
	for i := 0; i < c.m; i++ {
		for j := 0; j < c.n; j++ {
			var s, abs float64
			for p := 0; p < c.k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if c.transA {
					ai = p*lda + i
				}
				if c.transB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				prod := float64(round(av)) * float64(round(bv))
				s += prod
				abs += math.Abs(prod)
			}
			s *= float64(c.alpha)
			abs *= math.Abs(float64(c.alpha))
			if c.beta != 0 {
				s += float64(c.beta) * float64(cm[i*ldc+j])
				abs += math.Abs(float64(c.beta) * float64(cm[i*ldc+j]))
			}
			ref[i*c.n+j], mag[i*c.n+j] = s, abs
		}
	}
	return ref, mag
}

// TestBF16GEMM_Reference checks the bf16 GEMM on both paths against float64
// references: with the operands rounded to bf16 the only error left is
// float32 summation, bounded by (k+2)·2⁻²⁴·Σ|terms|; against the exact
// float32 operands the error stays within the bf16 bound 2⁻⁷·Σ|a·b| and
// exceeds what float32 alone would give (the operands really are rounded).
func TestBF16GEMM_Reference(t *testing.T) {
	for _, asm := range bf16Paths(t) {
		for _, c := range bf16Cases() {
			t.Run(pathName(asm)+"/"+c.String(), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(c.m*1000+c.n), uint64(c.k)))
				a, lda, b, ldb, cm, ldc := gemmOperands(r, c)
				refBF, mag := reference(c, a, lda, b, ldb, cm, ldc, bf16Round)
				refF, _ := reference(c, a, lda, b, ldb, cm, ldc, func(v float32) float32 { return v })
				g := bf16GEMM{asm: asm}
				g.gemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, cm, ldc)
				var worstBF, worstF, worstFRel float64
				sumBound := float64(c.k+2) * 0x1p-24
				for i := 0; i < c.m; i++ {
					for j := 0; j < c.n; j++ {
						got := float64(cm[i*ldc+j])
						e := math.Abs(got - refBF[i*c.n+j])
						worstBF = max(worstBF, e/mag[i*c.n+j])
						if !(e <= sumBound*mag[i*c.n+j]) {
							t.Fatalf("C[%d,%d] = %g, bf16-rounded reference %.9g: error %.3g > %.3g", i, j, got, refBF[i*c.n+j], e, sumBound*mag[i*c.n+j])
						}
						eF := math.Abs(got - refF[i*c.n+j])
						worstF = max(worstF, eF)
						worstFRel = max(worstFRel, eF/mag[i*c.n+j])
						if eF > (0x1p-7+sumBound)*mag[i*c.n+j] {
							t.Fatalf("C[%d,%d] = %g, float32 reference %.9g: error %.3g beyond the bf16 bound", i, j, got, refF[i*c.n+j], eF)
						}
					}
				}
				if c.alpha != 0 && worstFRel < 1e-5 {
					t.Fatalf("largest error against the float32 operands is %.3g relative: operands not rounded to bf16", worstFRel)
				}
				t.Logf("max rel error vs bf16 reference %.3g, vs float32 %.3g (abs %.3g)", worstBF, worstFRel, worstF)
			})
		}
	}
}

// TestBF16GEMM_PathsAgree runs the Go and assembly kernels on the same
// operands: both implement VDPBF16PS's arithmetic, so they may differ only
// where the final alpha·acc + C rounds differently (fused in assembly).
func TestBF16GEMM_PathsAgree(t *testing.T) {
	if !hasBF16 {
		t.Skip("no AVX512-BF16")
	}
	r := rand.New(rand.NewPCG(3, 4))
	c := gemmCase{m: 40, n: 150, k: 300, transB: true, alpha: 1, beta: 1}
	a, lda, b, ldb, cm, ldc := gemmOperands(r, c)
	c2 := append([]float32(nil), cm...)
	(&bf16GEMM{}).gemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, cm, ldc)
	(&bf16GEMM{asm: true}).gemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, c2, ldc)
	same := 0
	for i := 0; i < c.m; i++ {
		for j := 0; j < c.n; j++ {
			x, y := cm[i*ldc+j], c2[i*ldc+j]
			if x == y {
				same++
			}
			if d := math.Abs(float64(x - y)); d > 2*0x1p-23*math.Abs(float64(x)) {
				t.Fatalf("C[%d,%d]: go %g, asm %g", i, j, x, y)
			}
		}
	}
	t.Logf("%d of %d elements bit-identical", same, c.m*c.n)
}

package cublas

import (
	"errors"
	"testing"
)

// TestGemm_colMajor checks the row-major → column-major mapping against a
// reference column-major GEMM on the host, for all four transposes.
func TestGemm_colMajor(t *testing.T) {
	const m, n, k = 3, 4, 5
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			a := make([]float32, m*k)
			b := make([]float32, k*n)
			for i := range a {
				a[i] = float32(i%7) - 3
			}
			for i := range b {
				b[i] = float32(i%5) - 2
			}
			g := Gemm{TransA: ta, TransB: tb, M: m, N: n, K: k}
			opB, opA, ldb, lda, ldc := g.colMajor()
			got := make([]float32, m*n)
			// Column-major reference: C' (n×m) = op(B') op(A'), where X' is
			// the row-major buffer read column-major with its ld.
			colGemm(opB == 1, opA == 1, n, m, k, b, ldb, a, lda, got, ldc)
			want := rowGemm(ta, tb, m, n, k, a, b)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("transA=%v transB=%v: C[%d] = %v, want %v", ta, tb, i, got[i], want[i])
				}
			}
		}
	}
}

func rowGemm(ta, tb bool, m, n, k int, a, b []float32) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if ta {
					av = a[p*m+i]
				} else {
					av = a[i*k+p]
				}
				if tb {
					bv = b[j*k+p]
				} else {
					bv = b[p*n+j]
				}
				s += av * bv
			}
			c[i*n+j] = s
		}
	}
	return c
}

// colGemm is BLAS's column-major C (m×n) = op(A) (m×k) · op(B) (k×n).
func colGemm(ta, tb bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for j := 0; j < n; j++ {
		for i := 0; i < m; i++ {
			var s float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if ta {
					av = a[p+i*lda]
				} else {
					av = a[i+p*lda]
				}
				if tb {
					bv = b[j+p*ldb]
				} else {
					bv = b[p+j*ldb]
				}
				s += av * bv
			}
			c[i+j*ldc] = s
		}
	}
}

func TestError(t *testing.T) {
	err := check("cublasSgemm_v2", 7)
	var e *Error
	if !errors.As(err, &e) || err.Error() != "cublas: cublasSgemm_v2: CUBLAS_STATUS_INVALID_VALUE (7)" {
		t.Fatalf("err = %v", err)
	}
	if check("x", 0) != nil {
		t.Fatal("status 0 is an error")
	}
}

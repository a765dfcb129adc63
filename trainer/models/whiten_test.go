package models

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSymEigen(t *testing.T) {
	// A = Q diag(5, 2, 0.5) Qᵀ for a rotation Q; eigenvalues come back sorted.
	a := []float64{
		3, 1, 0.5,
		1, 2.5, 0.2,
		0.5, 0.2, 2,
	}
	orig := append([]float64(nil), a...)
	vals, vecs := symEigen(a, 3)
	for r := 0; r < 3; r++ {
		if r > 0 && vals[r] > vals[r-1] {
			t.Fatalf("eigenvalues not decreasing: %v", vals)
		}
		for i := 0; i < 3; i++ { // (A v)_i = λ v_i
			var av float64
			for j := 0; j < 3; j++ {
				av += orig[i*3+j] * vecs[j*3+r]
			}
			if math.Abs(av-vals[r]*vecs[i*3+r]) > 1e-9 {
				t.Fatalf("eigenpair %d wrong: A·v = %g, λ·v = %g", r, av, vals[r]*vecs[i*3+r])
			}
		}
	}
	if tr := vals[0] + vals[1] + vals[2]; math.Abs(tr-7.5) > 1e-9 {
		t.Fatalf("trace %g, want 7.5", tr)
	}
}

func TestWhiteningFilters_Whitens(t *testing.T) {
	// Correlated random images: each pixel mixes a shared value and noise,
	// so raw 2×2 patches are strongly correlated.
	const n, c, h, w, k = 20, 3, 8, 8, 2
	rng := rand.New(rand.NewPCG(3, 4))
	img := make([]float32, n*c*h*w)
	for i := range img {
		img[i] = float32(rng.NormFloat64()*0.3 + float64(i%7)*0.2)
	}
	f := WhiteningFilters(img, n, c, h, w, k, 0)
	d := c * k * k
	if len(f) != 2*d*d {
		t.Fatalf("%d filter values, want %d", len(f), 2*d*d)
	}
	// The first d filters map patches to outputs with identity second moment.
	cov := make([]float64, d*d)
	var count float64
	z := make([]float64, d)
	for i := 0; i < n; i++ {
		for y := 0; y+k <= h; y++ {
			for x := 0; x+k <= w; x++ {
				for r := 0; r < d; r++ {
					z[r] = 0
					for ch := 0; ch < c; ch++ {
						for dy := 0; dy < k; dy++ {
							for dx := 0; dx < k; dx++ {
								z[r] += float64(f[r*d+(ch*k+dy)*k+dx]) * float64(img[((i*c+ch)*h+y+dy)*w+x+dx])
							}
						}
					}
				}
				for a := 0; a < d; a++ {
					for b := 0; b < d; b++ {
						cov[a*d+b] += z[a] * z[b]
					}
				}
				count++
			}
		}
	}
	for a := 0; a < d; a++ {
		for b := 0; b < d; b++ {
			want := 0.0
			if a == b {
				want = 1
			}
			if got := cov[a*d+b] / count; math.Abs(got-want) > 1e-3 {
				t.Fatalf("whitened second moment [%d,%d] = %g, want %g", a, b, got, want)
			}
		}
	}
	if f[d*d] != -f[0] {
		t.Fatal("second half must be the negated first half")
	}
}

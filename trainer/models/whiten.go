package models

import (
	"fmt"
	"math"
	"sort"
)

// WhiteningFilters computes fastnet's frozen first layer the way airbench
// does (Keller Jordan, airbench94.py, init_whitening_conv): the k×k patches
// of the given images (NCHW, c channels) have second-moment matrix Σ =
// E[p pᵀ] of size d = c·k·k; with Σ = V Λ Vᵀ the filters are the rows of
// Λ^(-1/2) Vᵀ (eps added to Λ), largest eigenvalue first, followed by their
// negatives, so that the ReLU after the layer keeps both signs of every
// whitened direction. The result is 2d filters of shape (c, k, k): a
// (2d, c, k, k) weight tensor, row-major.
func WhiteningFilters(images []float32, n, c, h, w, k int, eps float64) []float32 {
	if len(images) != n*c*h*w || k <= 0 || k > h || k > w {
		panic(fmt.Sprintf("models: whitening of %d values as (%d,%d,%d,%d) with %d×%d patches", len(images), n, c, h, w, k, k))
	}
	d := c * k * k
	cov := make([]float64, d*d)
	p := make([]float64, d)
	var count float64
	for i := 0; i < n; i++ {
		img := images[i*c*h*w : (i+1)*c*h*w]
		for y := 0; y+k <= h; y++ {
			for x := 0; x+k <= w; x++ {
				for ch := 0; ch < c; ch++ {
					for dy := 0; dy < k; dy++ {
						for dx := 0; dx < k; dx++ {
							p[(ch*k+dy)*k+dx] = float64(img[(ch*h+y+dy)*w+x+dx])
						}
					}
				}
				for a := 0; a < d; a++ {
					for b := a; b < d; b++ {
						cov[a*d+b] += p[a] * p[b]
					}
				}
				count++
			}
		}
	}
	for a := 0; a < d; a++ {
		for b := a; b < d; b++ {
			cov[a*d+b] /= count
			cov[b*d+a] = cov[a*d+b]
		}
	}
	vals, vecs := symEigen(cov, d)
	out := make([]float32, 2*d*d)
	for r := 0; r < d; r++ {
		s := 1 / math.Sqrt(vals[r]+eps)
		for j := 0; j < d; j++ {
			out[r*d+j] = float32(vecs[j*d+r] * s) // column r of V is eigenvector r
			out[(d+r)*d+j] = -out[r*d+j]
		}
	}
	return out
}

// symEigen diagonalises the symmetric d×d matrix a (row-major, destroyed)
// with cyclic Jacobi rotations. It returns the eigenvalues in decreasing
// order and the matching eigenvectors as the columns of a d×d matrix.
// Jacobi is slow for large d but exact to rounding, and d is 12 here.
func symEigen(a []float64, d int) ([]float64, []float64) {
	v := make([]float64, d*d)
	for i := 0; i < d; i++ {
		v[i*d+i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		var off float64
		for p := 0; p < d; p++ {
			for q := p + 1; q < d; q++ {
				off += a[p*d+q] * a[p*d+q]
			}
		}
		if off < 1e-30 {
			break
		}
		for p := 0; p < d; p++ {
			for q := p + 1; q < d; q++ {
				if math.Abs(a[p*d+q]) < 1e-300 {
					continue
				}
				theta := (a[q*d+q] - a[p*d+p]) / (2 * a[p*d+q])
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				cs := 1 / math.Sqrt(t*t+1)
				sn := t * cs
				for k := 0; k < d; k++ { // rotate columns p, q
					akp, akq := a[k*d+p], a[k*d+q]
					a[k*d+p], a[k*d+q] = cs*akp-sn*akq, sn*akp+cs*akq
				}
				for k := 0; k < d; k++ { // rotate rows p, q
					apk, aqk := a[p*d+k], a[q*d+k]
					a[p*d+k], a[q*d+k] = cs*apk-sn*aqk, sn*apk+cs*aqk
				}
				for k := 0; k < d; k++ {
					vkp, vkq := v[k*d+p], v[k*d+q]
					v[k*d+p], v[k*d+q] = cs*vkp-sn*vkq, sn*vkp+cs*vkq
				}
			}
		}
	}
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return a[order[i]*d+order[i]] > a[order[j]*d+order[j]] })
	vals := make([]float64, d)
	vecs := make([]float64, d*d)
	for r, i := range order {
		vals[r] = a[i*d+i]
		for k := 0; k < d; k++ {
			vecs[k*d+r] = v[k*d+i]
		}
	}
	return vals, vecs
}

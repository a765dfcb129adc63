package cpu

// Vector kernels. Go does not vectorise loops, and the batch-norm and
// col2im loops below ran at 2-7 cycles per element in scalar Go, a third
// of a training step of tiny beside SGEMM. On amd64 with AVX2 and FMA
// (hasAVX2) assembly kernels (simd_amd64.s) handle the multiple-of-8 part
// and the scalar loops the rest. All but moments do the same float32
// operations in the same order as their scalar loops, so results do not
// depend on which path runs; moments sums in float64 in a different order,
// which changes the statistics by float64 rounding only, far below what
// survives their conversion to float32.

// moments returns Σ(x−k) and Σ(x−k)² over x in float64.
func moments(x []float32, k float64) (s, ss float64) {
	n := 0
	if hasAVX2 && len(x) >= 8 {
		n = len(x) &^ 7
		s, ss = momentsAVX2(&x[0], n, k)
	}
	ts, tss := planeMoments(x[n:], k)
	return s + ts, ss + tss
}

// addTo writes dst += src; src is at least as long as dst.
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	n := 0
	if hasAVX2 && len(dst) >= 8 {
		n = len(dst) &^ 7
		addAVX2(&dst[0], &src[0], n)
	}
	for i := n; i < len(dst); i++ {
		dst[i] += src[i]
	}
}

// bnBackAffine writes dx = −a − (x−mu)·bb, the batch-norm gradient of
// elements whose output gradient is zero.
func bnBackAffine(xs, dxs []float32, mu, a, bb float32) {
	dxs = dxs[:len(xs)]
	n := 0
	if hasAVX2 && len(xs) >= 8 {
		n = len(xs) &^ 7
		bnBackDXAVX2(&xs[0], &dxs[0], n, mu, bb, -a)
	}
	for j := n; j < len(xs); j++ {
		dxs[j] = -a - (xs[j]-mu)*bb
	}
}

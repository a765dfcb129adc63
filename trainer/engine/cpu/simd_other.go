//go:build !amd64

package cpu

// Without assembly kernels every loop runs in Go (simd.go).
var hasAVX2 = false

func momentsAVX2(x *float32, n int, k float64) (s, ss float64) { panic("cpu: no AVX2 kernels") }

func bnPoolRowAVX2(r0, r1, out *float32, idx *int32, n int, scale, shift float32, w, base int32) {
	panic("cpu: no AVX2 kernels")
}

func bnBackDXAVX2(x, dx *float32, n int, mu, bb, negA float32) { panic("cpu: no AVX2 kernels") }

func addAVX2(dst, src *float32, n int) { panic("cpu: no AVX2 kernels") }

func poolSumsAVX2(x, py, pdy *float32, idx *int32, n int, mu float32, last int32) (s1, s2 float32) {
	panic("cpu: no AVX2 kernels")
}

func bnPoolGradRowAVX2(x0, x1, dx0, dx1, py, pdy *float32, idx *int32, n int, mu, bb, negA, km float32, w, base int32) {
	panic("cpu: no AVX2 kernels")
}

func bnPoolQ4AVX2(x, out *float32, idx *int32, n int, scale, shift float32) {
	panic("cpu: no AVX2 kernels")
}

func bnApplyAVX2(x, y *float32, n int, scale, shift float32, relu int) { panic("cpu: no AVX2 kernels") }

func bnBackSumsAVX2(x, dy, y *float32, n int, mu float32, masked int) (s1, s2 float32) {
	panic("cpu: no AVX2 kernels")
}

func bnBackDXMaskAVX2(x, dy, y, dx *float32, n int, mu, km, a, bb float32, masked int) {
	panic("cpu: no AVX2 kernels")
}

package cpu

import "golang.org/x/sys/cpu"

// hasAVX2 selects the assembly kernels of simd_amd64.s. They need AVX2 and,
// for the statistics, FMA; without them the scalar Go loops run.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func momentsAVX2(x *float32, n int, k float64) (s, ss float64)

//go:noescape
func bnPoolRowAVX2(r0, r1, out *float32, idx *int32, n int, scale, shift float32, w, base int32)

//go:noescape
func bnBackDXAVX2(x, dx *float32, n int, mu, bb, negA float32)

//go:noescape
func addAVX2(dst, src *float32, n int)

//go:noescape
func poolSumsAVX2(x, py, pdy *float32, idx *int32, n int, mu float32, last int32) (s1, s2 float32)

//go:noescape
func bnPoolGradRowAVX2(x0, x1, dx0, dx1, py, pdy *float32, idx *int32, n int, mu, bb, negA, km float32, w, base int32)

//go:noescape
func bnPoolQ4AVX2(x, out *float32, idx *int32, n int, scale, shift float32)

//go:noescape
func bnApplyAVX2(x, y *float32, n int, scale, shift float32, relu int)

//go:noescape
func bnBackSumsAVX2(x, dy, y *float32, n int, mu float32, masked int) (s1, s2 float32)

//go:noescape
func bnBackDXMaskAVX2(x, dy, y, dx *float32, n int, mu, km, a, bb float32, masked int)

//go:build !amd64

package cpu

func maxBack2x2AVX512(r0, r1, y, dy, d0, d1 *float32, q int) { panic("cpu: no AVX-512 kernels") }

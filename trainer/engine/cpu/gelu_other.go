//go:build !amd64

package cpu

// Without assembly kernels GELU runs in Go (gelu.go).
var hasAVX512 = false

func geluForwardAVX512(x, y *float32, n int) { panic("cpu: no AVX-512 kernels") }

func geluBackwardAVX512(x, dy, dx *float32, n int) { panic("cpu: no AVX-512 kernels") }

func geluForwardAVX2(x, y *float32, n int) { panic("cpu: no AVX2 kernels") }

func geluBackwardAVX2(x, dy, dx *float32, n int) { panic("cpu: no AVX2 kernels") }

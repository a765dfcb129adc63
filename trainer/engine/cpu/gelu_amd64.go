package cpu

import "golang.org/x/sys/cpu"

// hasAVX512 selects the 16-lane GELU kernels of gelu_amd64.s (hasAVX2 the
// 8-lane ones). x/sys/cpu sets the flag only when the OS saves the AVX-512
// registers.
var hasAVX512 = cpu.X86.HasAVX512F

//go:noescape
func geluForwardAVX512(x, y *float32, n int)

//go:noescape
func geluBackwardAVX512(x, dy, dx *float32, n int)

//go:noescape
func geluForwardAVX2(x, y *float32, n int)

//go:noescape
func geluBackwardAVX2(x, dy, dx *float32, n int)

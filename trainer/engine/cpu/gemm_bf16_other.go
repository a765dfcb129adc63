//go:build !amd64

package cpu

// Without AVX512-BF16 assembly the bf16 GEMM runs in Go (gemm_bf16.go).
var hasBF16 = false

func bf16Kernel8x48(kp int, a, b *uint32, c *float32, ldc int, alpha float32, add bool, rows int, mask uint64) {
	panic("cpu: no bf16 kernels")
}

func bf16PairRows(dst *uint32, src *float32, ld, kp, chunks, tail, stride int) {
	panic("cpu: no bf16 kernels")
}

func bf16PairRows8(dst *uint32, src *float32, ld, kp int) { panic("cpu: no bf16 kernels") }

func bf16PairCols16(dst *uint32, src *float32, ld, rows, k32, tail, stride int) {
	panic("cpu: no bf16 kernels")
}

func bf16PairRowPanels(dst *uint32, r0, r1 *float32, panels, stride int) {
	panic("cpu: no bf16 kernels")
}

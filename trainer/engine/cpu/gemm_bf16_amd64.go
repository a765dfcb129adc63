package cpu

import "golang.org/x/sys/cpu"

// hasBF16 selects the AVX512-BF16 kernels of gemm_bf16_amd64.s (Zen 4 and
// later, Intel Cooper Lake and Sapphire Rapids and later). x/sys/cpu sets
// the flag only when the OS saves the AVX-512 registers.
var hasBF16 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512BF16

//go:noescape
func bf16Kernel8x48(kp int, a, b *uint32, c *float32, ldc int, alpha float32, add bool, rows int, mask uint64)

//go:noescape
func bf16PairRows(dst *uint32, src *float32, ld, kp, chunks, tail, stride int)

//go:noescape
func bf16PairRows8(dst *uint32, src *float32, ld, kp int)

//go:noescape
func bf16PairCols16(dst *uint32, src *float32, ld, rows, k32, tail, stride int)

//go:noescape
func bf16PairRowPanels(dst *uint32, r0, r1 *float32, panels, stride int)

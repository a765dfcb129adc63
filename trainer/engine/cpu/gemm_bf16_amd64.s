#include "textflag.h"

// AVX512-BF16 kernels of the bf16 GEMM (gemm_bf16.go). Go's assembler has no
// AVX512_BF16 mnemonics, so VDPBF16PS and VCVTNE2PS2BF16 are spelled as
// bytes (encoded by GNU as; each line's comment gives the Intel form).
// A bf16 pair is one dword: low word the even k, high word the odd k.

// CVT2 is vcvtne2ps2bf16 zmm2, zmm1, zmm0: words 0-15 of Z2 are Z0 rounded
// to bf16 (nearest even), words 16-31 are Z1 rounded.
#define CVT2 BYTE $0x62; BYTE $0xf2; BYTE $0x77; BYTE $0x48; BYTE $0x72; BYTE $0xd0

// func bf16Kernel8x48(kp int, a, b *uint32, c *float32, ldc int, alpha float32)
// C[i][j] += alpha·Σ_p dot(a[p·8+i], b[p·48+j]) for the 8×48 tile at c
// (row stride ldc floats), a and b packed as gemm_bf16.go describes.
// Accumulators are Z8-Z31 (row i in Z8+3i..Z10+3i), op(B) in Z0-Z2.
TEXT ·bf16Kernel8x48(SB), NOSPLIT, $0-44
	MOVQ kp+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), BX
	SHLQ $2, BX
	VBROADCASTSS alpha+40(FP), Z3
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	TESTQ CX, CX
	JZ kstore

kloop:
	VMOVDQU32 (DX), Z0
	VMOVDQU32 64(DX), Z1
	VMOVDQU32 128(DX), Z2
	BYTE $0x62; BYTE $0x72; BYTE $0x7e; BYTE $0x58; BYTE $0x52; BYTE $0x06 // vdpbf16ps zmm8, zmm0, [rsi+0].bcst
	BYTE $0x62; BYTE $0x72; BYTE $0x76; BYTE $0x58; BYTE $0x52; BYTE $0x0e // vdpbf16ps zmm9, zmm1, [rsi+0].bcst
	BYTE $0x62; BYTE $0x72; BYTE $0x6e; BYTE $0x58; BYTE $0x52; BYTE $0x16 // vdpbf16ps zmm10, zmm2, [rsi+0].bcst
	BYTE $0x62; BYTE $0x72; BYTE $0x7e; BYTE $0x58; BYTE $0x52; BYTE $0x5e; BYTE $0x01 // vdpbf16ps zmm11, zmm0, [rsi+4].bcst
	BYTE $0x62; BYTE $0x72; BYTE $0x76; BYTE $0x58; BYTE $0x52; BYTE $0x66; BYTE $0x01 // vdpbf16ps zmm12, zmm1, [rsi+4].bcst
	BYTE $0x62; BYTE $0x72; BYTE $0x6e; BYTE $0x58; BYTE $0x52; BYTE $0x6e; BYTE $0x01 // vdpbf16ps zmm13, zmm2, [rsi+4].bcst
	BYTE $0x62; BYTE $0x72; BYTE $0x7e; BYTE $0x58; BYTE $0x52; BYTE $0x76; BYTE $0x02 // vdpbf16ps zmm14, zmm0, [rsi+8].bcst
	BYTE $0x62; BYTE $0x72; BYTE $0x76; BYTE $0x58; BYTE $0x52; BYTE $0x7e; BYTE $0x02 // vdpbf16ps zmm15, zmm1, [rsi+8].bcst
	BYTE $0x62; BYTE $0xe2; BYTE $0x6e; BYTE $0x58; BYTE $0x52; BYTE $0x46; BYTE $0x02 // vdpbf16ps zmm16, zmm2, [rsi+8].bcst
	BYTE $0x62; BYTE $0xe2; BYTE $0x7e; BYTE $0x58; BYTE $0x52; BYTE $0x4e; BYTE $0x03 // vdpbf16ps zmm17, zmm0, [rsi+12].bcst
	BYTE $0x62; BYTE $0xe2; BYTE $0x76; BYTE $0x58; BYTE $0x52; BYTE $0x56; BYTE $0x03 // vdpbf16ps zmm18, zmm1, [rsi+12].bcst
	BYTE $0x62; BYTE $0xe2; BYTE $0x6e; BYTE $0x58; BYTE $0x52; BYTE $0x5e; BYTE $0x03 // vdpbf16ps zmm19, zmm2, [rsi+12].bcst
	BYTE $0x62; BYTE $0xe2; BYTE $0x7e; BYTE $0x58; BYTE $0x52; BYTE $0x66; BYTE $0x04 // vdpbf16ps zmm20, zmm0, [rsi+16].bcst
	BYTE $0x62; BYTE $0xe2; BYTE $0x76; BYTE $0x58; BYTE $0x52; BYTE $0x6e; BYTE $0x04 // vdpbf16ps zmm21, zmm1, [rsi+16].bcst
	BYTE $0x62; BYTE $0xe2; BYTE $0x6e; BYTE $0x58; BYTE $0x52; BYTE $0x76; BYTE $0x04 // vdpbf16ps zmm22, zmm2, [rsi+16].bcst
	BYTE $0x62; BYTE $0xe2; BYTE $0x7e; BYTE $0x58; BYTE $0x52; BYTE $0x7e; BYTE $0x05 // vdpbf16ps zmm23, zmm0, [rsi+20].bcst
	BYTE $0x62; BYTE $0x62; BYTE $0x76; BYTE $0x58; BYTE $0x52; BYTE $0x46; BYTE $0x05 // vdpbf16ps zmm24, zmm1, [rsi+20].bcst
	BYTE $0x62; BYTE $0x62; BYTE $0x6e; BYTE $0x58; BYTE $0x52; BYTE $0x4e; BYTE $0x05 // vdpbf16ps zmm25, zmm2, [rsi+20].bcst
	BYTE $0x62; BYTE $0x62; BYTE $0x7e; BYTE $0x58; BYTE $0x52; BYTE $0x56; BYTE $0x06 // vdpbf16ps zmm26, zmm0, [rsi+24].bcst
	BYTE $0x62; BYTE $0x62; BYTE $0x76; BYTE $0x58; BYTE $0x52; BYTE $0x5e; BYTE $0x06 // vdpbf16ps zmm27, zmm1, [rsi+24].bcst
	BYTE $0x62; BYTE $0x62; BYTE $0x6e; BYTE $0x58; BYTE $0x52; BYTE $0x66; BYTE $0x06 // vdpbf16ps zmm28, zmm2, [rsi+24].bcst
	BYTE $0x62; BYTE $0x62; BYTE $0x7e; BYTE $0x58; BYTE $0x52; BYTE $0x6e; BYTE $0x07 // vdpbf16ps zmm29, zmm0, [rsi+28].bcst
	BYTE $0x62; BYTE $0x62; BYTE $0x76; BYTE $0x58; BYTE $0x52; BYTE $0x76; BYTE $0x07 // vdpbf16ps zmm30, zmm1, [rsi+28].bcst
	BYTE $0x62; BYTE $0x62; BYTE $0x6e; BYTE $0x58; BYTE $0x52; BYTE $0x7e; BYTE $0x07 // vdpbf16ps zmm31, zmm2, [rsi+28].bcst
	ADDQ $32, SI
	ADDQ $192, DX
	DECQ CX
	JNZ kloop

kstore:
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VFMADD231PS Z3, Z8, Z0
	VFMADD231PS Z3, Z9, Z1
	VFMADD231PS Z3, Z10, Z2
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	ADDQ BX, DI
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VFMADD231PS Z3, Z11, Z0
	VFMADD231PS Z3, Z12, Z1
	VFMADD231PS Z3, Z13, Z2
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	ADDQ BX, DI
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VFMADD231PS Z3, Z14, Z0
	VFMADD231PS Z3, Z15, Z1
	VFMADD231PS Z3, Z16, Z2
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	ADDQ BX, DI
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VFMADD231PS Z3, Z17, Z0
	VFMADD231PS Z3, Z18, Z1
	VFMADD231PS Z3, Z19, Z2
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	ADDQ BX, DI
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VFMADD231PS Z3, Z20, Z0
	VFMADD231PS Z3, Z21, Z1
	VFMADD231PS Z3, Z22, Z2
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	ADDQ BX, DI
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VFMADD231PS Z3, Z23, Z0
	VFMADD231PS Z3, Z24, Z1
	VFMADD231PS Z3, Z25, Z2
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	ADDQ BX, DI
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VFMADD231PS Z3, Z26, Z0
	VFMADD231PS Z3, Z27, Z1
	VFMADD231PS Z3, Z28, Z2
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	ADDQ BX, DI
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VFMADD231PS Z3, Z29, Z0
	VFMADD231PS Z3, Z30, Z1
	VFMADD231PS Z3, Z31, Z2
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VZEROUPPER
	RET

// interleave16 takes words 0-15 and 16-31 of a register alternately, so
// dword t of the result is the pair (word t, word 16+t).
DATA interleave16<>+0(SB)/8, $0x0011000100100000
DATA interleave16<>+8(SB)/8, $0x0013000300120002
DATA interleave16<>+16(SB)/8, $0x0015000500140004
DATA interleave16<>+24(SB)/8, $0x0017000700160006
DATA interleave16<>+32(SB)/8, $0x0019000900180008
DATA interleave16<>+40(SB)/8, $0x001b000b001a000a
DATA interleave16<>+48(SB)/8, $0x001d000d001c000c
DATA interleave16<>+56(SB)/8, $0x001f000f001e000e
GLOBL interleave16<>(SB), RODATA|NOPTR, $64

// func bf16PairRows(dst *uint32, src *float32, ld, kp, chunks, stride int)
// For p < kp and t < 16·chunks: dst[p·stride+t] = pair(src[2p·ld+t],
// src[(2p+1)·ld+t]): two rows of a k-major matrix become one row of pairs.
TEXT ·bf16PairRows(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), BX
	SHLQ $2, BX
	MOVQ kp+24(FP), CX
	MOVQ chunks+32(FP), R8
	MOVQ stride+40(FP), R12
	SHLQ $2, R12
	VMOVDQU16 interleave16<>(SB), Z7
	TESTQ CX, CX
	JZ rdone
	TESTQ R8, R8
	JZ rdone

rrow:
	MOVQ SI, R9
	MOVQ DI, R10
	MOVQ R8, R11

rchunk:
	VMOVUPS (R9), Z0
	VMOVUPS (R9)(BX*1), Z1
	CVT2
	VPERMW Z2, Z7, Z2
	VMOVDQU32 Z2, (R10)
	ADDQ $64, R9
	ADDQ $64, R10
	DECQ R11
	JNZ rchunk
	LEAQ (SI)(BX*2), SI
	ADDQ R12, DI
	DECQ CX
	JNZ rrow

rdone:
	VZEROUPPER
	RET

// interleave8 is interleave16 for the low 8 words of each half: dword t
// of the result (t < 8) is the pair (word t, word 16+t).
DATA interleave8<>+0(SB)/8, $0x0011000100100000
DATA interleave8<>+8(SB)/8, $0x0013000300120002
DATA interleave8<>+16(SB)/8, $0x0015000500140004
DATA interleave8<>+24(SB)/8, $0x0017000700160006
DATA interleave8<>+32(SB)/8, $0
DATA interleave8<>+40(SB)/8, $0
DATA interleave8<>+48(SB)/8, $0
DATA interleave8<>+56(SB)/8, $0
GLOBL interleave8<>(SB), RODATA|NOPTR, $64

// func bf16PairRows8(dst *uint32, src *float32, ld, kp int)
// bf16PairRows for 8 columns and stride 8: an A panel of a transposed A.
TEXT ·bf16PairRows8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), BX
	SHLQ $2, BX
	MOVQ kp+24(FP), CX
	VMOVDQU16 interleave8<>(SB), Z7
	TESTQ CX, CX
	JZ r8done

r8row:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(BX*1), Y1
	CVT2
	VPERMW Z2, Z7, Z2
	VMOVDQU32 Y2, (DI)
	LEAQ (SI)(BX*2), SI
	ADDQ $32, DI
	DECQ CX
	JNZ r8row

r8done:
	VZEROUPPER
	RET

// scatter16 is 0, 1, ..., 15: dword offsets scaled by the stride.
DATA scatter16<>+0(SB)/8, $0x0000000100000000
DATA scatter16<>+8(SB)/8, $0x0000000300000002
DATA scatter16<>+16(SB)/8, $0x0000000500000004
DATA scatter16<>+24(SB)/8, $0x0000000700000006
DATA scatter16<>+32(SB)/8, $0x0000000900000008
DATA scatter16<>+40(SB)/8, $0x0000000b0000000a
DATA scatter16<>+48(SB)/8, $0x0000000d0000000c
DATA scatter16<>+56(SB)/8, $0x0000000f0000000e
GLOBL scatter16<>(SB), RODATA|NOPTR, $64

// func bf16PairCols(dst *uint32, src *float32, ld, cols, k32, stride int)
// For j < cols and p < 16·k32: dst[p·stride+j] = pair(src[j·ld+2p],
// src[j·ld+2p+1]): rows of an n-major (transposed) matrix become columns
// of pairs, 16 pairs per scatter.
TEXT ·bf16PairCols(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), BX
	SHLQ $2, BX
	MOVQ cols+24(FP), CX
	MOVQ k32+32(FP), R8
	MOVQ stride+40(FP), R12
	VPBROADCASTD R12, Z6
	VPMULLD scatter16<>(SB), Z6, Z6
	SHLQ $6, R12 // 16 pairs of dst rows, in bytes
	TESTQ CX, CX
	JZ cdone
	TESTQ R8, R8
	JZ cdone

ccol:
	MOVQ SI, R9
	MOVQ DI, R10
	MOVQ R8, R11

cblock:
	VMOVUPS (R9), Z0
	VMOVUPS 64(R9), Z1
	CVT2
	KXNORW K1, K1, K1
	VPSCATTERDD Z2, K1, (R10)(Z6*4)
	ADDQ $128, R9
	ADDQ R12, R10
	DECQ R11
	JNZ cblock
	ADDQ BX, SI
	ADDQ $4, DI
	DECQ CX
	JNZ ccol

cdone:
	VZEROUPPER
	RET

#include "textflag.h"

// AVX512-BF16 kernels of the bf16 GEMM (gemm_bf16.go). Go's assembler has no
// AVX512_BF16 mnemonics, so VDPBF16PS and VCVTNE2PS2BF16 are spelled as
// bytes (encoded by GNU as; each line's comment gives the Intel form).
// A bf16 pair is one dword: low word the even k, high word the odd k.

// CVT2 is vcvtne2ps2bf16 zmm2, zmm1, zmm0: words 0-15 of Z2 are Z0 rounded
// to bf16 (nearest even), words 16-31 are Z1 rounded.
#define CVT2 BYTE $0x62; BYTE $0xf2; BYTE $0x77; BYTE $0x48; BYTE $0x72; BYTE $0xd0

// func bf16Kernel8x48(kp int, a, b *uint32, c *float32, ldc int, alpha float32, add bool, rows int, mask uint64)
// C[i][j] (+)= alpha·Σ_p dot(a[p·8+i], b[p·48+j]) for i < rows (1..8) and
// the columns j whose bit is set in mask (low 48 bits) of the 8×48 tile at
// c (row stride ldc floats), a and b packed as gemm_bf16.go describes; add
// false overwrites C without reading it (beta 0, first depth slice). Edge
// tiles take the same path as full ones, with masked loads and stores, so
// an element's arithmetic never depends on where the tiles fall.
// Accumulators are Z8-Z31 (row i in Z8+3i..Z10+3i), op(B) in Z0-Z2, A's
// pairs broadcast into Z3-Z6 four rows at a time: explicit broadcasts (11
// loads per 24 VDPBF16PS) ran 1.3x faster than the instruction's own
// m32bcst operand (27 loads), measured alternately in one run.
TEXT ·bf16Kernel8x48(SB), NOSPLIT, $0-64
	MOVQ kp+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), BX
	SHLQ $2, BX
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
	VPBROADCASTD 0(SI), Z3
	VPBROADCASTD 4(SI), Z4
	VPBROADCASTD 8(SI), Z5
	VPBROADCASTD 12(SI), Z6
	BYTE $0x62; BYTE $0x72; BYTE $0x7e; BYTE $0x48; BYTE $0x52; BYTE $0xc3 // vdpbf16ps zmm8, zmm0, zmm3
	BYTE $0x62; BYTE $0x72; BYTE $0x76; BYTE $0x48; BYTE $0x52; BYTE $0xcb // vdpbf16ps zmm9, zmm1, zmm3
	BYTE $0x62; BYTE $0x72; BYTE $0x6e; BYTE $0x48; BYTE $0x52; BYTE $0xd3 // vdpbf16ps zmm10, zmm2, zmm3
	BYTE $0x62; BYTE $0x72; BYTE $0x7e; BYTE $0x48; BYTE $0x52; BYTE $0xdc // vdpbf16ps zmm11, zmm0, zmm4
	BYTE $0x62; BYTE $0x72; BYTE $0x76; BYTE $0x48; BYTE $0x52; BYTE $0xe4 // vdpbf16ps zmm12, zmm1, zmm4
	BYTE $0x62; BYTE $0x72; BYTE $0x6e; BYTE $0x48; BYTE $0x52; BYTE $0xec // vdpbf16ps zmm13, zmm2, zmm4
	BYTE $0x62; BYTE $0x72; BYTE $0x7e; BYTE $0x48; BYTE $0x52; BYTE $0xf5 // vdpbf16ps zmm14, zmm0, zmm5
	BYTE $0x62; BYTE $0x72; BYTE $0x76; BYTE $0x48; BYTE $0x52; BYTE $0xfd // vdpbf16ps zmm15, zmm1, zmm5
	BYTE $0x62; BYTE $0xe2; BYTE $0x6e; BYTE $0x48; BYTE $0x52; BYTE $0xc5 // vdpbf16ps zmm16, zmm2, zmm5
	BYTE $0x62; BYTE $0xe2; BYTE $0x7e; BYTE $0x48; BYTE $0x52; BYTE $0xce // vdpbf16ps zmm17, zmm0, zmm6
	BYTE $0x62; BYTE $0xe2; BYTE $0x76; BYTE $0x48; BYTE $0x52; BYTE $0xd6 // vdpbf16ps zmm18, zmm1, zmm6
	BYTE $0x62; BYTE $0xe2; BYTE $0x6e; BYTE $0x48; BYTE $0x52; BYTE $0xde // vdpbf16ps zmm19, zmm2, zmm6
	VPBROADCASTD 16(SI), Z3
	VPBROADCASTD 20(SI), Z4
	VPBROADCASTD 24(SI), Z5
	VPBROADCASTD 28(SI), Z6
	BYTE $0x62; BYTE $0xe2; BYTE $0x7e; BYTE $0x48; BYTE $0x52; BYTE $0xe3 // vdpbf16ps zmm20, zmm0, zmm3
	BYTE $0x62; BYTE $0xe2; BYTE $0x76; BYTE $0x48; BYTE $0x52; BYTE $0xeb // vdpbf16ps zmm21, zmm1, zmm3
	BYTE $0x62; BYTE $0xe2; BYTE $0x6e; BYTE $0x48; BYTE $0x52; BYTE $0xf3 // vdpbf16ps zmm22, zmm2, zmm3
	BYTE $0x62; BYTE $0xe2; BYTE $0x7e; BYTE $0x48; BYTE $0x52; BYTE $0xfc // vdpbf16ps zmm23, zmm0, zmm4
	BYTE $0x62; BYTE $0x62; BYTE $0x76; BYTE $0x48; BYTE $0x52; BYTE $0xc4 // vdpbf16ps zmm24, zmm1, zmm4
	BYTE $0x62; BYTE $0x62; BYTE $0x6e; BYTE $0x48; BYTE $0x52; BYTE $0xcc // vdpbf16ps zmm25, zmm2, zmm4
	BYTE $0x62; BYTE $0x62; BYTE $0x7e; BYTE $0x48; BYTE $0x52; BYTE $0xd5 // vdpbf16ps zmm26, zmm0, zmm5
	BYTE $0x62; BYTE $0x62; BYTE $0x76; BYTE $0x48; BYTE $0x52; BYTE $0xdd // vdpbf16ps zmm27, zmm1, zmm5
	BYTE $0x62; BYTE $0x62; BYTE $0x6e; BYTE $0x48; BYTE $0x52; BYTE $0xe5 // vdpbf16ps zmm28, zmm2, zmm5
	BYTE $0x62; BYTE $0x62; BYTE $0x7e; BYTE $0x48; BYTE $0x52; BYTE $0xee // vdpbf16ps zmm29, zmm0, zmm6
	BYTE $0x62; BYTE $0x62; BYTE $0x76; BYTE $0x48; BYTE $0x52; BYTE $0xf6 // vdpbf16ps zmm30, zmm1, zmm6
	BYTE $0x62; BYTE $0x62; BYTE $0x6e; BYTE $0x48; BYTE $0x52; BYTE $0xfe // vdpbf16ps zmm31, zmm2, zmm6
	ADDQ $32, SI
	ADDQ $192, DX
	DECQ CX
	JNZ kloop

kstore:
	VBROADCASTSS alpha+40(FP), Z3
	MOVQ rows+48(FP), R8
	MOVQ mask+56(FP), AX
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	SHRQ $16, AX
	KMOVW AX, K3
	MOVBQZX add+44(FP), AX
	TESTQ AX, AX
	JZ kset
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z 64(DI), K2, Z1
	VMOVUPS.Z 128(DI), K3, Z2
	VFMADD231PS Z3, Z8, Z0
	VFMADD231PS Z3, Z9, Z1
	VFMADD231PS Z3, Z10, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ kdone
	ADDQ BX, DI
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z 64(DI), K2, Z1
	VMOVUPS.Z 128(DI), K3, Z2
	VFMADD231PS Z3, Z11, Z0
	VFMADD231PS Z3, Z12, Z1
	VFMADD231PS Z3, Z13, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ kdone
	ADDQ BX, DI
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z 64(DI), K2, Z1
	VMOVUPS.Z 128(DI), K3, Z2
	VFMADD231PS Z3, Z14, Z0
	VFMADD231PS Z3, Z15, Z1
	VFMADD231PS Z3, Z16, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ kdone
	ADDQ BX, DI
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z 64(DI), K2, Z1
	VMOVUPS.Z 128(DI), K3, Z2
	VFMADD231PS Z3, Z17, Z0
	VFMADD231PS Z3, Z18, Z1
	VFMADD231PS Z3, Z19, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ kdone
	ADDQ BX, DI
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z 64(DI), K2, Z1
	VMOVUPS.Z 128(DI), K3, Z2
	VFMADD231PS Z3, Z20, Z0
	VFMADD231PS Z3, Z21, Z1
	VFMADD231PS Z3, Z22, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ kdone
	ADDQ BX, DI
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z 64(DI), K2, Z1
	VMOVUPS.Z 128(DI), K3, Z2
	VFMADD231PS Z3, Z23, Z0
	VFMADD231PS Z3, Z24, Z1
	VFMADD231PS Z3, Z25, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ kdone
	ADDQ BX, DI
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z 64(DI), K2, Z1
	VMOVUPS.Z 128(DI), K3, Z2
	VFMADD231PS Z3, Z26, Z0
	VFMADD231PS Z3, Z27, Z1
	VFMADD231PS Z3, Z28, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ kdone
	ADDQ BX, DI
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z 64(DI), K2, Z1
	VMOVUPS.Z 128(DI), K3, Z2
	VFMADD231PS Z3, Z29, Z0
	VFMADD231PS Z3, Z30, Z1
	VFMADD231PS Z3, Z31, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)

kdone:
	VZEROUPPER
	RET

kset:
	VMULPS Z3, Z8, Z0
	VMULPS Z3, Z9, Z1
	VMULPS Z3, Z10, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ sdone
	ADDQ BX, DI
	VMULPS Z3, Z11, Z0
	VMULPS Z3, Z12, Z1
	VMULPS Z3, Z13, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ sdone
	ADDQ BX, DI
	VMULPS Z3, Z14, Z0
	VMULPS Z3, Z15, Z1
	VMULPS Z3, Z16, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ sdone
	ADDQ BX, DI
	VMULPS Z3, Z17, Z0
	VMULPS Z3, Z18, Z1
	VMULPS Z3, Z19, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ sdone
	ADDQ BX, DI
	VMULPS Z3, Z20, Z0
	VMULPS Z3, Z21, Z1
	VMULPS Z3, Z22, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ sdone
	ADDQ BX, DI
	VMULPS Z3, Z23, Z0
	VMULPS Z3, Z24, Z1
	VMULPS Z3, Z25, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ sdone
	ADDQ BX, DI
	VMULPS Z3, Z26, Z0
	VMULPS Z3, Z27, Z1
	VMULPS Z3, Z28, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	DECQ R8
	JZ sdone
	ADDQ BX, DI
	VMULPS Z3, Z29, Z0
	VMULPS Z3, Z30, Z1
	VMULPS Z3, Z31, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)

sdone:
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

// func bf16PairCols16(dst *uint32, src *float32, ld, rows, k32, stride int)
// For j < rows (1..16) and p < 16·k32: dst[p·stride+j] = pair(src[j·ld+2p],
// src[j·ld+2p+1]): rows of an n-major (transposed) matrix become columns
// of pairs. Per 32 depths, the rows are rounded into Z0-Z15 (rows past
// rows repeat the last one), transposed as a 16×16 dword matrix in four
// shuffle stages and stored 16 pairs (rows bits of K1) per dst row.
TEXT ·bf16PairCols16(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), BX
	SHLQ $2, BX
	MOVQ rows+24(FP), R8
	MOVQ k32+32(FP), R11
	MOVQ stride+40(FP), R12
	SHLQ $2, R12
	MOVQ $1, AX
	MOVQ R8, CX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	TESTQ R11, R11
	JZ tdone

tblock:
	MOVQ SI, R9
	MOVQ DI, R10
	XORQ AX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0xb2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xc0 // vcvtne2ps2bf16 zmm0, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $1
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0xb2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xc8 // vcvtne2ps2bf16 zmm1, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $2
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0xb2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xd0 // vcvtne2ps2bf16 zmm2, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $3
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0xb2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xd8 // vcvtne2ps2bf16 zmm3, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $4
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0xb2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xe0 // vcvtne2ps2bf16 zmm4, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $5
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0xb2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xe8 // vcvtne2ps2bf16 zmm5, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $6
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0xb2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xf0 // vcvtne2ps2bf16 zmm6, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $7
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0xb2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xf8 // vcvtne2ps2bf16 zmm7, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $8
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0x32; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xc0 // vcvtne2ps2bf16 zmm8, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $9
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0x32; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xc8 // vcvtne2ps2bf16 zmm9, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $10
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0x32; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xd0 // vcvtne2ps2bf16 zmm10, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $11
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0x32; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xd8 // vcvtne2ps2bf16 zmm11, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $12
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0x32; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xe0 // vcvtne2ps2bf16 zmm12, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $13
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0x32; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xe8 // vcvtne2ps2bf16 zmm13, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $14
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0x32; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xf0 // vcvtne2ps2bf16 zmm14, zmm17, zmm16
	LEAQ (AX)(BX*1), DX
	CMPQ R8, $15
	CMOVQGT DX, AX
	VMOVUPS (R9)(AX*1), Z16
	VMOVUPS 64(R9)(AX*1), Z17
	BYTE $0x62; BYTE $0x32; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xf8 // vcvtne2ps2bf16 zmm15, zmm17, zmm16
	VPUNPCKLDQ Z1, Z0, Z16
	VPUNPCKHDQ Z1, Z0, Z17
	VPUNPCKLDQ Z3, Z2, Z18
	VPUNPCKHDQ Z3, Z2, Z19
	VPUNPCKLDQ Z5, Z4, Z20
	VPUNPCKHDQ Z5, Z4, Z21
	VPUNPCKLDQ Z7, Z6, Z22
	VPUNPCKHDQ Z7, Z6, Z23
	VPUNPCKLDQ Z9, Z8, Z24
	VPUNPCKHDQ Z9, Z8, Z25
	VPUNPCKLDQ Z11, Z10, Z26
	VPUNPCKHDQ Z11, Z10, Z27
	VPUNPCKLDQ Z13, Z12, Z28
	VPUNPCKHDQ Z13, Z12, Z29
	VPUNPCKLDQ Z15, Z14, Z30
	VPUNPCKHDQ Z15, Z14, Z31
	VPUNPCKLQDQ Z18, Z16, Z0
	VPUNPCKHQDQ Z18, Z16, Z1
	VPUNPCKLQDQ Z19, Z17, Z2
	VPUNPCKHQDQ Z19, Z17, Z3
	VPUNPCKLQDQ Z22, Z20, Z4
	VPUNPCKHQDQ Z22, Z20, Z5
	VPUNPCKLQDQ Z23, Z21, Z6
	VPUNPCKHQDQ Z23, Z21, Z7
	VPUNPCKLQDQ Z26, Z24, Z8
	VPUNPCKHQDQ Z26, Z24, Z9
	VPUNPCKLQDQ Z27, Z25, Z10
	VPUNPCKHQDQ Z27, Z25, Z11
	VPUNPCKLQDQ Z30, Z28, Z12
	VPUNPCKHQDQ Z30, Z28, Z13
	VPUNPCKLQDQ Z31, Z29, Z14
	VPUNPCKHQDQ Z31, Z29, Z15
	VSHUFI32X4 $0x88, Z4, Z0, Z16
	VSHUFI32X4 $0xdd, Z4, Z0, Z20
	VSHUFI32X4 $0x88, Z12, Z8, Z24
	VSHUFI32X4 $0xdd, Z12, Z8, Z28
	VSHUFI32X4 $0x88, Z5, Z1, Z17
	VSHUFI32X4 $0xdd, Z5, Z1, Z21
	VSHUFI32X4 $0x88, Z13, Z9, Z25
	VSHUFI32X4 $0xdd, Z13, Z9, Z29
	VSHUFI32X4 $0x88, Z6, Z2, Z18
	VSHUFI32X4 $0xdd, Z6, Z2, Z22
	VSHUFI32X4 $0x88, Z14, Z10, Z26
	VSHUFI32X4 $0xdd, Z14, Z10, Z30
	VSHUFI32X4 $0x88, Z7, Z3, Z19
	VSHUFI32X4 $0xdd, Z7, Z3, Z23
	VSHUFI32X4 $0x88, Z15, Z11, Z27
	VSHUFI32X4 $0xdd, Z15, Z11, Z31
	VSHUFI32X4 $0x88, Z24, Z16, Z0
	VSHUFI32X4 $0xdd, Z24, Z16, Z8
	VSHUFI32X4 $0x88, Z25, Z17, Z1
	VSHUFI32X4 $0xdd, Z25, Z17, Z9
	VSHUFI32X4 $0x88, Z26, Z18, Z2
	VSHUFI32X4 $0xdd, Z26, Z18, Z10
	VSHUFI32X4 $0x88, Z27, Z19, Z3
	VSHUFI32X4 $0xdd, Z27, Z19, Z11
	VSHUFI32X4 $0x88, Z28, Z20, Z4
	VSHUFI32X4 $0xdd, Z28, Z20, Z12
	VSHUFI32X4 $0x88, Z29, Z21, Z5
	VSHUFI32X4 $0xdd, Z29, Z21, Z13
	VSHUFI32X4 $0x88, Z30, Z22, Z6
	VSHUFI32X4 $0xdd, Z30, Z22, Z14
	VSHUFI32X4 $0x88, Z31, Z23, Z7
	VSHUFI32X4 $0xdd, Z31, Z23, Z15
	VMOVDQU32 Z0, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z1, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z2, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z3, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z4, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z5, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z6, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z7, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z8, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z9, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z10, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z11, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z12, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z13, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z14, K1, (R10)
	ADDQ R12, R10
	VMOVDQU32 Z15, K1, (R10)
	ADDQ R12, R10
	ADDQ $128, SI
	MOVQ R10, DI
	DECQ R11
	JNZ tblock

tdone:
	VZEROUPPER
	RET

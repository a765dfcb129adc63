#include "textflag.h"

// The AVX512-BF16 kernel of the bf16 GEMM (gemm_bf16.go); the packing
// routines are in gemm_bf16_pack_amd64.s. Go's assembler has no
// AVX512_BF16 mnemonics, so VDPBF16PS is spelled as bytes (encoded by GNU
// as; each line's comment gives the Intel form). A bf16 pair is one dword:
// low word the even k, high word the odd k.

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

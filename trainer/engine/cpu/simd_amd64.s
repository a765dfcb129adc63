#include "textflag.h"

// AVX2 kernels for the hot loops of batch norm and col2im; simd.go says
// which scalar loop each one replaces and which are bit-identical to it.
// Each handles a multiple of 8 elements (windows); the Go callers do the
// rest. Operands are in Go assembler order (sources first, destination
// last).

// func momentsAVX2(x *float32, n int, k float64) (s, ss float64)
TEXT ·momentsAVX2(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD k+16(FP), Y15
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2
	VXORPD       Y3, Y3, Y3
	SHRQ         $3, CX
	JZ           mdone

mloop:
	VCVTPS2PD   (SI), Y4
	VCVTPS2PD   16(SI), Y5
	VSUBPD      Y15, Y4, Y4
	VSUBPD      Y15, Y5, Y5
	VADDPD      Y4, Y0, Y0
	VADDPD      Y5, Y1, Y1
	VFMADD231PD Y4, Y4, Y2
	VFMADD231PD Y5, Y5, Y3
	ADDQ        $32, SI
	DECQ        CX
	JNZ         mloop

mdone:
	VADDPD       Y1, Y0, Y0
	VADDPD       Y3, Y2, Y2
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0
	VEXTRACTF128 $1, Y2, X3
	VADDPD       X3, X2, X2
	VPERMILPD    $1, X2, X3
	VADDSD       X3, X2, X2
	VMOVSD       X0, s+24(FP)
	VMOVSD       X2, ss+32(FP)
	VZEROUPPER
	RET

// evens holds 0, 2, ..., 14: the first column of each of 8 windows.
DATA evens<>+0(SB)/4, $0
DATA evens<>+4(SB)/4, $2
DATA evens<>+8(SB)/4, $4
DATA evens<>+12(SB)/4, $6
DATA evens<>+16(SB)/4, $8
DATA evens<>+20(SB)/4, $10
DATA evens<>+24(SB)/4, $12
DATA evens<>+28(SB)/4, $14
GLOBL evens<>(SB), RODATA|NOPTR, $32

DATA sixteen<>+0(SB)/4, $16
GLOBL sixteen<>(SB), RODATA|NOPTR, $4

// func bnPoolRowAVX2(r0, r1, out *float32, idx *int32, n int, scale, shift float32, w, base int32)
//
// For n windows (a multiple of 8) of two input rows: v = reluBits(x·scale +
// shift), out = the window's maximum, idx = base + 2q + its first position
// (0, 1, w, w+1), exactly as bnPool2x2's scalar loop.
TEXT ·bnPoolRowAVX2(SB), NOSPLIT, $0-56
	MOVQ         r0+0(FP), SI
	MOVQ         r1+8(FP), DI
	MOVQ         out+16(FP), DX
	MOVQ         idx+24(FP), BX
	MOVQ         n+32(FP), CX
	VBROADCASTSS scale+40(FP), Y15
	VBROADCASTSS shift+44(FP), Y14
	VBROADCASTSS w+48(FP), Y13
	VBROADCASTSS base+52(FP), Y12
	VPADDD       evens<>(SB), Y12, Y12
	VPBROADCASTD sixteen<>(SB), Y11
	SHRQ         $3, CX
	JZ           pdone

ploop:
	VMULPS (SI), Y15, Y0
	VMULPS 32(SI), Y15, Y1
	VMULPS (DI), Y15, Y2
	VMULPS 32(DI), Y15, Y3
	VADDPS Y14, Y0, Y0
	VADDPS Y14, Y1, Y1
	VADDPS Y14, Y2, Y2
	VADDPS Y14, Y3, Y3

	// ReLU on the bits: clear values whose sign bit is set.
	VPSRAD $31, Y0, Y4
	VPANDN Y0, Y4, Y0
	VPSRAD $31, Y1, Y4
	VPANDN Y1, Y4, Y1
	VPSRAD $31, Y2, Y4
	VPANDN Y2, Y4, Y2
	VPSRAD $31, Y3, Y4
	VPANDN Y3, Y4, Y3

	// Split even and odd columns: a, b from row 0, c, d from row 1, in
	// window order 0 1 4 5 2 3 6 7.
	VSHUFPS $0x88, Y1, Y0, Y4
	VSHUFPS $0xDD, Y1, Y0, Y5
	VSHUFPS $0x88, Y3, Y2, Y6
	VSHUFPS $0xDD, Y3, Y2, Y7

	// m01, i01 = b > a ? (b, 1) : (a, 0)
	VPCMPGTD  Y4, Y5, Y8
	VPBLENDVB Y8, Y5, Y4, Y4
	VPSRLD    $31, Y8, Y8

	// m23, i23 = d > c ? (d, w+1) : (c, w)
	VPCMPGTD  Y6, Y7, Y9
	VPBLENDVB Y9, Y7, Y6, Y6
	VPSRLD    $31, Y9, Y9
	VPADDD    Y13, Y9, Y9

	// m, i = m23 > m01 ? (m23, i23) : (m01, i01)
	VPCMPGTD  Y4, Y6, Y10
	VPBLENDVB Y10, Y6, Y4, Y4
	VPBLENDVB Y10, Y9, Y8, Y8

	// Back to window order 0..7.
	VPERMQ  $0xD8, Y4, Y4
	VPERMQ  $0xD8, Y8, Y8
	VPADDD  Y12, Y8, Y8
	VMOVDQU Y4, (DX)
	VMOVDQU Y8, (BX)

	VPADDD Y11, Y12, Y12
	ADDQ   $64, SI
	ADDQ   $64, DI
	ADDQ   $32, DX
	ADDQ   $32, BX
	DECQ   CX
	JNZ    ploop

pdone:
	VZEROUPPER
	RET

// func bnBackDXAVX2(x, dx *float32, n int, mu, bb, negA float32)
//
// dx = negA − (x − mu)·bb for n elements (a multiple of 8), the same
// operations in the same order as the scalar loop.
TEXT ·bnBackDXAVX2(SB), NOSPLIT, $0-36
	MOVQ         x+0(FP), SI
	MOVQ         dx+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS mu+24(FP), Y15
	VBROADCASTSS bb+28(FP), Y14
	VBROADCASTSS negA+32(FP), Y13
	SHRQ         $3, CX
	JZ           ddone

dloop:
	VMOVUPS (SI), Y0
	VSUBPS  Y15, Y0, Y0
	VMULPS  Y14, Y0, Y0
	VSUBPS  Y0, Y13, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     dloop

ddone:
	VZEROUPPER
	RET

// func addAVX2(dst, src *float32, n int)
//
// dst += src for n elements (a multiple of 8).
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   adone

aloop:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     aloop

adone:
	VZEROUPPER
	RET

// func poolSumsAVX2(x, py, pdy *float32, idx *int32, n int, mu float32, last int32) (s1, s2 float32)
//
// Over n windows (a multiple of 8): g = pdy where py ≠ 0, else 0;
// s1 = Σ g, s2 = Σ g·(x[idx] − mu), in 8 lanes added at the end. Indices
// are clamped to last (unsigned), so a bad idx reads wrong values, never
// outside x.
TEXT ·poolSumsAVX2(SB), NOSPLIT, $0-56
	MOVQ         x+0(FP), SI
	MOVQ         py+8(FP), DI
	MOVQ         pdy+16(FP), DX
	MOVQ         idx+24(FP), BX
	MOVQ         n+32(FP), CX
	VBROADCASTSS mu+40(FP), Y15
	VBROADCASTSS last+44(FP), Y13
	VXORPS       Y14, Y14, Y14
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	SHRQ         $3, CX
	JZ           sdone

sloop:
	VMOVDQU    (BX), Y2
	VPMINUD    Y13, Y2, Y2
	VPCMPEQD   Y3, Y3, Y3
	VGATHERDPS Y3, (SI)(Y2*4), Y4
	VMOVDQU    (DI), Y5
	VPCMPEQD   Y14, Y5, Y5
	VPANDN     (DX), Y5, Y5
	VADDPS     Y5, Y0, Y0
	VSUBPS     Y15, Y4, Y4
	VMULPS     Y5, Y4, Y4
	VADDPS     Y4, Y1, Y1
	ADDQ       $32, DI
	ADDQ       $32, DX
	ADDQ       $32, BX
	DECQ       CX
	JNZ        sloop

sdone:
	VEXTRACTF128 $1, Y0, X2
	VADDPS       X2, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VEXTRACTF128 $1, Y1, X3
	VADDPS       X3, X1, X1
	VHADDPS      X1, X1, X1
	VHADDPS      X1, X1, X1
	VMOVSS       X0, s1+48(FP)
	VMOVSS       X1, s2+52(FP)
	VZEROUPPER
	RET

// dupLo and dupHi spread windows 0-3 and 4-7 over their two columns.
DATA dupLo<>+0(SB)/4, $0
DATA dupLo<>+4(SB)/4, $0
DATA dupLo<>+8(SB)/4, $1
DATA dupLo<>+12(SB)/4, $1
DATA dupLo<>+16(SB)/4, $2
DATA dupLo<>+20(SB)/4, $2
DATA dupLo<>+24(SB)/4, $3
DATA dupLo<>+28(SB)/4, $3
GLOBL dupLo<>(SB), RODATA|NOPTR, $32

DATA dupHi<>+0(SB)/4, $4
DATA dupHi<>+4(SB)/4, $4
DATA dupHi<>+8(SB)/4, $5
DATA dupHi<>+12(SB)/4, $5
DATA dupHi<>+16(SB)/4, $6
DATA dupHi<>+20(SB)/4, $6
DATA dupHi<>+24(SB)/4, $7
DATA dupHi<>+28(SB)/4, $7
GLOBL dupHi<>(SB), RODATA|NOPTR, $32

// zeroOne is each column's position in its window's first row.
DATA zeroOne<>+0(SB)/4, $0
DATA zeroOne<>+4(SB)/4, $1
DATA zeroOne<>+8(SB)/4, $0
DATA zeroOne<>+12(SB)/4, $1
DATA zeroOne<>+16(SB)/4, $0
DATA zeroOne<>+20(SB)/4, $1
DATA zeroOne<>+24(SB)/4, $0
DATA zeroOne<>+28(SB)/4, $1
GLOBL zeroOne<>(SB), RODATA|NOPTR, $32

DATA sixteen8<>+0(SB)/4, $16
DATA sixteen8<>+4(SB)/4, $16
DATA sixteen8<>+8(SB)/4, $16
DATA sixteen8<>+12(SB)/4, $16
DATA sixteen8<>+16(SB)/4, $16
DATA sixteen8<>+20(SB)/4, $16
DATA sixteen8<>+24(SB)/4, $16
DATA sixteen8<>+28(SB)/4, $16
GLOBL sixteen8<>(SB), RODATA|NOPTR, $32

// func bnPoolGradRowAVX2(x0, x1, dx0, dx1, py, pdy *float32, idx *int32, n int, mu, bb, negA, km float32, w, base int32)
//
// For n windows (a multiple of 8) of two rows: dx = negA − (x − mu)·bb,
// plus km·g at each window's recorded maximum, g = pdy where py ≠ 0, else
// 0; the same operations as the scalar affine loop and scatter.
TEXT ·bnPoolGradRowAVX2(SB), NOSPLIT, $0-88
	MOVQ         x0+0(FP), SI
	MOVQ         x1+8(FP), DI
	MOVQ         dx0+16(FP), R8
	MOVQ         dx1+24(FP), R9
	MOVQ         py+32(FP), R10
	MOVQ         pdy+40(FP), R11
	MOVQ         idx+48(FP), BX
	MOVQ         n+56(FP), CX
	VBROADCASTSS mu+64(FP), Y15
	VBROADCASTSS bb+68(FP), Y14
	VBROADCASTSS negA+72(FP), Y13
	VBROADCASTSS km+76(FP), Y12
	VBROADCASTSS w+80(FP), Y6
	VBROADCASTSS base+84(FP), Y11
	VPADDD       evens<>(SB), Y11, Y11
	VMOVDQU      dupLo<>(SB), Y9
	VMOVDQU      dupHi<>(SB), Y8
	VMOVDQU      zeroOne<>(SB), Y7
	VPADDD       Y7, Y6, Y6
	SHRQ         $3, CX
	JZ           gdone

gloop:
	// Window order: pos = idx − (base + 2q), gk = km·g.
	VMOVDQU  (BX), Y0
	VPSUBD   Y11, Y0, Y0
	VPXOR    Y1, Y1, Y1
	VPCMPEQD (R10), Y1, Y1
	VPANDN   (R11), Y1, Y1
	VMULPS   Y12, Y1, Y1
	VPERMD   Y0, Y9, Y2
	VPERMD   Y0, Y8, Y3
	VPERMPS  Y1, Y9, Y4
	VPERMPS  Y1, Y8, Y5

	// Row 0, windows 0-3 then 4-7.
	VMOVUPS   (SI), Y0
	VSUBPS    Y15, Y0, Y0
	VMULPS    Y14, Y0, Y0
	VSUBPS    Y0, Y13, Y0
	VADDPS    Y4, Y0, Y1
	VPCMPEQD  Y7, Y2, Y10
	VBLENDVPS Y10, Y1, Y0, Y0
	VMOVUPS   Y0, (R8)
	VMOVUPS   32(SI), Y0
	VSUBPS    Y15, Y0, Y0
	VMULPS    Y14, Y0, Y0
	VSUBPS    Y0, Y13, Y0
	VADDPS    Y5, Y0, Y1
	VPCMPEQD  Y7, Y3, Y10
	VBLENDVPS Y10, Y1, Y0, Y0
	VMOVUPS   Y0, 32(R8)

	// Row 1.
	VMOVUPS   (DI), Y0
	VSUBPS    Y15, Y0, Y0
	VMULPS    Y14, Y0, Y0
	VSUBPS    Y0, Y13, Y0
	VADDPS    Y4, Y0, Y1
	VPCMPEQD  Y6, Y2, Y10
	VBLENDVPS Y10, Y1, Y0, Y0
	VMOVUPS   Y0, (R9)
	VMOVUPS   32(DI), Y0
	VSUBPS    Y15, Y0, Y0
	VMULPS    Y14, Y0, Y0
	VSUBPS    Y0, Y13, Y0
	VADDPS    Y5, Y0, Y1
	VPCMPEQD  Y6, Y3, Y10
	VBLENDVPS Y10, Y1, Y0, Y0
	VMOVUPS   Y0, 32(R9)

	VPADDD sixteen8<>(SB), Y11, Y11
	ADDQ   $64, SI
	ADDQ   $64, DI
	ADDQ   $64, R8
	ADDQ   $64, R9
	ADDQ   $32, R10
	ADDQ   $32, R11
	ADDQ   $32, BX
	DECQ   CX
	JNZ    gloop

gdone:
	VZEROUPPER
	RET

// q4off is the first column of each of 8 windows of an 8-wide plane: two
// output rows of 4, the second two input rows further on.
DATA q4off<>+0(SB)/4, $0
DATA q4off<>+4(SB)/4, $2
DATA q4off<>+8(SB)/4, $4
DATA q4off<>+12(SB)/4, $6
DATA q4off<>+16(SB)/4, $16
DATA q4off<>+20(SB)/4, $18
DATA q4off<>+24(SB)/4, $20
DATA q4off<>+28(SB)/4, $22
GLOBL q4off<>(SB), RODATA|NOPTR, $32

DATA eight<>+0(SB)/4, $8
GLOBL eight<>(SB), RODATA|NOPTR, $4

DATA thirtytwo<>+0(SB)/4, $32
GLOBL thirtytwo<>(SB), RODATA|NOPTR, $4

// func bnPoolQ4AVX2(x, out *float32, idx *int32, n int, scale, shift float32)
//
// bnPoolRowAVX2 for planes 8 wide (4 windows a row): each step reads four
// input rows (32 floats) and writes two output rows, n/8 steps.
TEXT ·bnPoolQ4AVX2(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         out+8(FP), DX
	MOVQ         idx+16(FP), BX
	MOVQ         n+24(FP), CX
	VBROADCASTSS scale+32(FP), Y15
	VBROADCASTSS shift+36(FP), Y14
	VPBROADCASTD eight<>(SB), Y13
	VMOVDQU      q4off<>(SB), Y12
	VPBROADCASTD thirtytwo<>(SB), Y11
	SHRQ         $3, CX
	JZ           qdone

qloop:
	VMULPS (SI), Y15, Y0
	VMULPS 64(SI), Y15, Y1
	VMULPS 32(SI), Y15, Y2
	VMULPS 96(SI), Y15, Y3
	VADDPS Y14, Y0, Y0
	VADDPS Y14, Y1, Y1
	VADDPS Y14, Y2, Y2
	VADDPS Y14, Y3, Y3

	VPSRAD $31, Y0, Y4
	VPANDN Y0, Y4, Y0
	VPSRAD $31, Y1, Y4
	VPANDN Y1, Y4, Y1
	VPSRAD $31, Y2, Y4
	VPANDN Y2, Y4, Y2
	VPSRAD $31, Y3, Y4
	VPANDN Y3, Y4, Y3

	VSHUFPS $0x88, Y1, Y0, Y4
	VSHUFPS $0xDD, Y1, Y0, Y5
	VSHUFPS $0x88, Y3, Y2, Y6
	VSHUFPS $0xDD, Y3, Y2, Y7

	VPCMPGTD  Y4, Y5, Y8
	VPBLENDVB Y8, Y5, Y4, Y4
	VPSRLD    $31, Y8, Y8

	VPCMPGTD  Y6, Y7, Y9
	VPBLENDVB Y9, Y7, Y6, Y6
	VPSRLD    $31, Y9, Y9
	VPADDD    Y13, Y9, Y9

	VPCMPGTD  Y4, Y6, Y10
	VPBLENDVB Y10, Y6, Y4, Y4
	VPBLENDVB Y10, Y9, Y8, Y8

	VPERMQ  $0xD8, Y4, Y4
	VPERMQ  $0xD8, Y8, Y8
	VPADDD  Y12, Y8, Y8
	VMOVDQU Y4, (DX)
	VMOVDQU Y8, (BX)

	VPADDD Y11, Y12, Y12
	ADDQ   $128, SI
	ADDQ   $32, DX
	ADDQ   $32, BX
	DECQ   CX
	JNZ    qloop

qdone:
	VZEROUPPER
	RET

// func bnApplyAVX2(x, y *float32, n int, scale, shift float32, relu int)
//
// y = x·scale + shift, then max(y, 0) when relu ≠ 0, for n elements (a
// multiple of 8). max(0, v) + 0 is Go's max(v, 0) bit for bit: NaN stays,
// −0 becomes +0.
TEXT ·bnApplyAVX2(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y15
	VBROADCASTSS shift+28(FP), Y14
	MOVQ         relu+32(FP), AX
	VXORPS       Y13, Y13, Y13
	SHRQ         $3, CX
	JZ           bdone
	TESTQ        AX, AX
	JZ           bplain

brelu:
	VMULPS  (SI), Y15, Y0
	VADDPS  Y14, Y0, Y0
	VMAXPS  Y0, Y13, Y0
	VADDPS  Y13, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     brelu
	JMP     bdone

bplain:
	VMULPS  (SI), Y15, Y0
	VADDPS  Y14, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     bplain

bdone:
	VZEROUPPER
	RET

// func bnBackSumsAVX2(x, dy, y *float32, n int, mu float32, masked int) (s1, s2 float32)
//
// s1 = Σ d, s2 = Σ d·(x − mu) over n elements (a multiple of 8), d = dy,
// or dy where y ≠ 0 when masked ≠ 0; 8 lanes added at the end.
TEXT ·bnBackSumsAVX2(SB), NOSPLIT, $0-56
	MOVQ         x+0(FP), SI
	MOVQ         dy+8(FP), DX
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX
	VBROADCASTSS mu+32(FP), Y15
	MOVQ         masked+40(FP), AX
	VXORPS       Y14, Y14, Y14
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	SHRQ         $3, CX
	JZ           edone

eloop:
	VMOVUPS (DX), Y2
	TESTQ   AX, AX
	JZ      enomask
	VPCMPEQD (DI), Y14, Y3
	VPANDN   Y2, Y3, Y2
	ADDQ     $32, DI

enomask:
	VADDPS  Y2, Y0, Y0
	VMOVUPS (SI), Y4
	VSUBPS  Y15, Y4, Y4
	VMULPS  Y2, Y4, Y4
	VADDPS  Y4, Y1, Y1
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     eloop

edone:
	VEXTRACTF128 $1, Y0, X2
	VADDPS       X2, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VEXTRACTF128 $1, Y1, X3
	VADDPS       X3, X1, X1
	VHADDPS      X1, X1, X1
	VHADDPS      X1, X1, X1
	VMOVSS       X0, s1+48(FP)
	VMOVSS       X1, s2+52(FP)
	VZEROUPPER
	RET

// func bnBackDXMaskAVX2(x, dy, y, dx *float32, n int, mu, km, a, bb float32, masked int)
//
// dx = km·d − a − (x − mu)·bb for n elements (a multiple of 8), d as in
// bnBackSumsAVX2; the scalar loop's operations in its order.
TEXT ·bnBackDXMaskAVX2(SB), NOSPLIT, $0-64
	MOVQ         x+0(FP), SI
	MOVQ         dy+8(FP), DX
	MOVQ         y+16(FP), DI
	MOVQ         dx+24(FP), R8
	MOVQ         n+32(FP), CX
	VBROADCASTSS mu+40(FP), Y15
	VBROADCASTSS km+44(FP), Y13
	VBROADCASTSS a+48(FP), Y12
	VBROADCASTSS bb+52(FP), Y11
	MOVQ         masked+56(FP), AX
	VXORPS       Y14, Y14, Y14
	SHRQ         $3, CX
	JZ           fdone

floop:
	VMOVUPS (DX), Y2
	TESTQ   AX, AX
	JZ      fnomask
	VPCMPEQD (DI), Y14, Y3
	VPANDN   Y2, Y3, Y2
	ADDQ     $32, DI

fnomask:
	VMULPS  Y13, Y2, Y2
	VSUBPS  Y12, Y2, Y2
	VMOVUPS (SI), Y4
	VSUBPS  Y15, Y4, Y4
	VMULPS  Y11, Y4, Y4
	VSUBPS  Y4, Y2, Y2
	VMOVUPS Y2, (R8)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	DECQ    CX
	JNZ     floop

fdone:
	VZEROUPPER
	RET

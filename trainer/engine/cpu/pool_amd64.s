#include "textflag.h"

// maxBack2x2AVX512 is maxBack2x2's inner loop (pool.go) for one output row
// on 16 windows at a time: it splits each pair of input rows into the
// windows' four elements, finds the first that equals the window's maximum
// by bit pattern (as eqMask does), and writes dy there and 0 at the other
// three. A last, partial chunk runs under lane masks. Operands are in Go
// assembler order (sources first, destination last).

// mbEven and mbOdd pick the even and odd elements of 32 inputs (two ZMM
// registers); mbLo and mbHi interleave two registers' low and high halves.
DATA mbEven<>+0(SB)/4, $0
DATA mbEven<>+4(SB)/4, $2
DATA mbEven<>+8(SB)/4, $4
DATA mbEven<>+12(SB)/4, $6
DATA mbEven<>+16(SB)/4, $8
DATA mbEven<>+20(SB)/4, $10
DATA mbEven<>+24(SB)/4, $12
DATA mbEven<>+28(SB)/4, $14
DATA mbEven<>+32(SB)/4, $16
DATA mbEven<>+36(SB)/4, $18
DATA mbEven<>+40(SB)/4, $20
DATA mbEven<>+44(SB)/4, $22
DATA mbEven<>+48(SB)/4, $24
DATA mbEven<>+52(SB)/4, $26
DATA mbEven<>+56(SB)/4, $28
DATA mbEven<>+60(SB)/4, $30
GLOBL mbEven<>(SB), RODATA|NOPTR, $64

DATA mbOdd<>+0(SB)/4, $1
DATA mbOdd<>+4(SB)/4, $3
DATA mbOdd<>+8(SB)/4, $5
DATA mbOdd<>+12(SB)/4, $7
DATA mbOdd<>+16(SB)/4, $9
DATA mbOdd<>+20(SB)/4, $11
DATA mbOdd<>+24(SB)/4, $13
DATA mbOdd<>+28(SB)/4, $15
DATA mbOdd<>+32(SB)/4, $17
DATA mbOdd<>+36(SB)/4, $19
DATA mbOdd<>+40(SB)/4, $21
DATA mbOdd<>+44(SB)/4, $23
DATA mbOdd<>+48(SB)/4, $25
DATA mbOdd<>+52(SB)/4, $27
DATA mbOdd<>+56(SB)/4, $29
DATA mbOdd<>+60(SB)/4, $31
GLOBL mbOdd<>(SB), RODATA|NOPTR, $64

DATA mbLo<>+0(SB)/4, $0
DATA mbLo<>+4(SB)/4, $16
DATA mbLo<>+8(SB)/4, $1
DATA mbLo<>+12(SB)/4, $17
DATA mbLo<>+16(SB)/4, $2
DATA mbLo<>+20(SB)/4, $18
DATA mbLo<>+24(SB)/4, $3
DATA mbLo<>+28(SB)/4, $19
DATA mbLo<>+32(SB)/4, $4
DATA mbLo<>+36(SB)/4, $20
DATA mbLo<>+40(SB)/4, $5
DATA mbLo<>+44(SB)/4, $21
DATA mbLo<>+48(SB)/4, $6
DATA mbLo<>+52(SB)/4, $22
DATA mbLo<>+56(SB)/4, $7
DATA mbLo<>+60(SB)/4, $23
GLOBL mbLo<>(SB), RODATA|NOPTR, $64

DATA mbHi<>+0(SB)/4, $8
DATA mbHi<>+4(SB)/4, $24
DATA mbHi<>+8(SB)/4, $9
DATA mbHi<>+12(SB)/4, $25
DATA mbHi<>+16(SB)/4, $10
DATA mbHi<>+20(SB)/4, $26
DATA mbHi<>+24(SB)/4, $11
DATA mbHi<>+28(SB)/4, $27
DATA mbHi<>+32(SB)/4, $12
DATA mbHi<>+36(SB)/4, $28
DATA mbHi<>+40(SB)/4, $13
DATA mbHi<>+44(SB)/4, $29
DATA mbHi<>+48(SB)/4, $14
DATA mbHi<>+52(SB)/4, $30
DATA mbHi<>+56(SB)/4, $15
DATA mbHi<>+60(SB)/4, $31
GLOBL mbHi<>(SB), RODATA|NOPTR, $64

// func maxBack2x2AVX512(r0, r1, y, dy, d0, d1 *float32, q int)
TEXT ·maxBack2x2AVX512(SB), NOSPLIT, $0-56
	MOVQ    r0+0(FP), SI
	MOVQ    r1+8(FP), DI
	MOVQ    y+16(FP), R8
	MOVQ    dy+24(FP), R9
	MOVQ    d0+32(FP), R10
	MOVQ    d1+40(FP), R11
	MOVQ    q+48(FP), DX
	VMOVDQU32 mbEven<>(SB), Z28
	VMOVDQU32 mbOdd<>(SB), Z29
	VMOVDQU32 mbLo<>(SB), Z30
	VMOVDQU32 mbHi<>(SB), Z31
	TESTQ   DX, DX
	JLE     mbdone

mbloop:
	// Lane masks: K1 for min(16, q) windows, K2 and K3 for their 2·min(16, q)
	// inputs in each row, split over two registers.
	MOVQ    DX, CX
	CMPQ    CX, $16
	JLE     mbmask
	MOVQ    $16, CX

mbmask:
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K1
	ADDQ  CX, CX
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K2
	SHRQ  $16, AX
	KMOVW AX, K3

	VMOVDQU32.Z (SI), K2, Z0
	VMOVDQU32.Z 64(SI), K3, Z1
	VMOVDQU32.Z (DI), K2, Z2
	VMOVDQU32.Z 64(DI), K3, Z3
	VMOVDQA32   Z0, Z4
	VPERMT2D    Z1, Z28, Z4 // a: r0 even
	VMOVDQA32   Z0, Z5
	VPERMT2D    Z1, Z29, Z5 // b: r0 odd
	VMOVDQA32   Z2, Z6
	VPERMT2D    Z3, Z28, Z6 // c: r1 even
	VMOVDQA32   Z2, Z7
	VPERMT2D    Z3, Z29, Z7 // d: r1 odd
	VMOVDQU32.Z (R8), K1, Z8
	VMOVDQU32.Z (R9), K1, Z9

	VPCMPEQD Z8, Z4, K4 // ea
	VPCMPEQD Z8, Z5, K5
	KANDNW   K5, K4, K5 // eb = b == m and not ea
	VPCMPEQD Z8, Z6, K6
	KORW     K4, K5, K7
	KANDNW   K6, K7, K6 // ec
	KORW     K6, K7, K7
	KNOTW    K7, K7     // ed: none of the first three

	VMOVDQU32.Z Z9, K4, Z4
	VMOVDQU32.Z Z9, K5, Z5
	VMOVDQU32.Z Z9, K6, Z6
	VMOVDQU32.Z Z9, K7, Z7
	VMOVDQA32   Z4, Z10
	VPERMT2D    Z5, Z30, Z10
	VMOVDQA32   Z4, Z11
	VPERMT2D    Z5, Z31, Z11
	VMOVDQA32   Z6, Z12
	VPERMT2D    Z7, Z30, Z12
	VMOVDQA32   Z6, Z13
	VPERMT2D    Z7, Z31, Z13
	VMOVDQU32   Z10, K2, (R10)
	VMOVDQU32   Z11, K3, 64(R10)
	VMOVDQU32   Z12, K2, (R11)
	VMOVDQU32   Z13, K3, 64(R11)

	ADDQ $128, SI
	ADDQ $128, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $128, R10
	ADDQ $128, R11
	SUBQ $16, DX
	JG   mbloop

mbdone:
	VZEROUPPER
	RET

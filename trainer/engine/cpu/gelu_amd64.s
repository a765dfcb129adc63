#include "textflag.h"

// GELU kernels (gelu.go): the scalar normCDF/expNeg arithmetic of gelu.go,
// the same float32 operations in the same order (no FMA, a true division),
// on 16 (AVX-512) or 8 (AVX2) lanes, so each lane's result is bit-identical
// to the scalar path's. Each handles a multiple of the vector width; the Go
// callers do the rest. Operands are in Go assembler order (sources first,
// destination last).

// geluc holds each constant of gelu.go eight times (one YMM row, 32 bytes
// apart) so the AVX2 kernels use rows as memory operands and the AVX-512
// kernels broadcast their first element.
// sign bit
#define GSIGN 0
// 1/√2
#define GINVSQRT2 32
// −0.5
#define GMHALF 64
// 0.5
#define GHALF 96
// log2(e)
#define GLOG2E 128
// ln2, high part
#define GLN2HI 160
// ln2, low part
#define GLN2LO 192
// 1/720
#define GC720 224
// 1/120
#define GC120 256
// 1/24
#define GC24 288
// 1/6
#define GC6 320
// 1
#define GONE 352
// −87, where e^v leaves the normal range
#define GM87 384
// float32 exponent bias (int32)
#define GBIAS 416
// A&S p
#define GP 448
// a1
#define GA1 480
// a2
#define GA2 512
// a3
#define GA3 544
// a4
#define GA4 576
// a5
#define GA5 608
// 1/√(2π)
#define GINVSQRT2PI 640

DATA geluc<>+0(SB)/4, $0x80000000
DATA geluc<>+4(SB)/4, $0x80000000
DATA geluc<>+8(SB)/4, $0x80000000
DATA geluc<>+12(SB)/4, $0x80000000
DATA geluc<>+16(SB)/4, $0x80000000
DATA geluc<>+20(SB)/4, $0x80000000
DATA geluc<>+24(SB)/4, $0x80000000
DATA geluc<>+28(SB)/4, $0x80000000
DATA geluc<>+32(SB)/4, $0x3f3504f3
DATA geluc<>+36(SB)/4, $0x3f3504f3
DATA geluc<>+40(SB)/4, $0x3f3504f3
DATA geluc<>+44(SB)/4, $0x3f3504f3
DATA geluc<>+48(SB)/4, $0x3f3504f3
DATA geluc<>+52(SB)/4, $0x3f3504f3
DATA geluc<>+56(SB)/4, $0x3f3504f3
DATA geluc<>+60(SB)/4, $0x3f3504f3
DATA geluc<>+64(SB)/4, $0xbf000000
DATA geluc<>+68(SB)/4, $0xbf000000
DATA geluc<>+72(SB)/4, $0xbf000000
DATA geluc<>+76(SB)/4, $0xbf000000
DATA geluc<>+80(SB)/4, $0xbf000000
DATA geluc<>+84(SB)/4, $0xbf000000
DATA geluc<>+88(SB)/4, $0xbf000000
DATA geluc<>+92(SB)/4, $0xbf000000
DATA geluc<>+96(SB)/4, $0x3f000000
DATA geluc<>+100(SB)/4, $0x3f000000
DATA geluc<>+104(SB)/4, $0x3f000000
DATA geluc<>+108(SB)/4, $0x3f000000
DATA geluc<>+112(SB)/4, $0x3f000000
DATA geluc<>+116(SB)/4, $0x3f000000
DATA geluc<>+120(SB)/4, $0x3f000000
DATA geluc<>+124(SB)/4, $0x3f000000
DATA geluc<>+128(SB)/4, $0x3fb8aa3b
DATA geluc<>+132(SB)/4, $0x3fb8aa3b
DATA geluc<>+136(SB)/4, $0x3fb8aa3b
DATA geluc<>+140(SB)/4, $0x3fb8aa3b
DATA geluc<>+144(SB)/4, $0x3fb8aa3b
DATA geluc<>+148(SB)/4, $0x3fb8aa3b
DATA geluc<>+152(SB)/4, $0x3fb8aa3b
DATA geluc<>+156(SB)/4, $0x3fb8aa3b
DATA geluc<>+160(SB)/4, $0x3f317200
DATA geluc<>+164(SB)/4, $0x3f317200
DATA geluc<>+168(SB)/4, $0x3f317200
DATA geluc<>+172(SB)/4, $0x3f317200
DATA geluc<>+176(SB)/4, $0x3f317200
DATA geluc<>+180(SB)/4, $0x3f317200
DATA geluc<>+184(SB)/4, $0x3f317200
DATA geluc<>+188(SB)/4, $0x3f317200
DATA geluc<>+192(SB)/4, $0x35bfbe8e
DATA geluc<>+196(SB)/4, $0x35bfbe8e
DATA geluc<>+200(SB)/4, $0x35bfbe8e
DATA geluc<>+204(SB)/4, $0x35bfbe8e
DATA geluc<>+208(SB)/4, $0x35bfbe8e
DATA geluc<>+212(SB)/4, $0x35bfbe8e
DATA geluc<>+216(SB)/4, $0x35bfbe8e
DATA geluc<>+220(SB)/4, $0x35bfbe8e
DATA geluc<>+224(SB)/4, $0x3ab60b61
DATA geluc<>+228(SB)/4, $0x3ab60b61
DATA geluc<>+232(SB)/4, $0x3ab60b61
DATA geluc<>+236(SB)/4, $0x3ab60b61
DATA geluc<>+240(SB)/4, $0x3ab60b61
DATA geluc<>+244(SB)/4, $0x3ab60b61
DATA geluc<>+248(SB)/4, $0x3ab60b61
DATA geluc<>+252(SB)/4, $0x3ab60b61
DATA geluc<>+256(SB)/4, $0x3c088889
DATA geluc<>+260(SB)/4, $0x3c088889
DATA geluc<>+264(SB)/4, $0x3c088889
DATA geluc<>+268(SB)/4, $0x3c088889
DATA geluc<>+272(SB)/4, $0x3c088889
DATA geluc<>+276(SB)/4, $0x3c088889
DATA geluc<>+280(SB)/4, $0x3c088889
DATA geluc<>+284(SB)/4, $0x3c088889
DATA geluc<>+288(SB)/4, $0x3d2aaaab
DATA geluc<>+292(SB)/4, $0x3d2aaaab
DATA geluc<>+296(SB)/4, $0x3d2aaaab
DATA geluc<>+300(SB)/4, $0x3d2aaaab
DATA geluc<>+304(SB)/4, $0x3d2aaaab
DATA geluc<>+308(SB)/4, $0x3d2aaaab
DATA geluc<>+312(SB)/4, $0x3d2aaaab
DATA geluc<>+316(SB)/4, $0x3d2aaaab
DATA geluc<>+320(SB)/4, $0x3e2aaaab
DATA geluc<>+324(SB)/4, $0x3e2aaaab
DATA geluc<>+328(SB)/4, $0x3e2aaaab
DATA geluc<>+332(SB)/4, $0x3e2aaaab
DATA geluc<>+336(SB)/4, $0x3e2aaaab
DATA geluc<>+340(SB)/4, $0x3e2aaaab
DATA geluc<>+344(SB)/4, $0x3e2aaaab
DATA geluc<>+348(SB)/4, $0x3e2aaaab
DATA geluc<>+352(SB)/4, $0x3f800000
DATA geluc<>+356(SB)/4, $0x3f800000
DATA geluc<>+360(SB)/4, $0x3f800000
DATA geluc<>+364(SB)/4, $0x3f800000
DATA geluc<>+368(SB)/4, $0x3f800000
DATA geluc<>+372(SB)/4, $0x3f800000
DATA geluc<>+376(SB)/4, $0x3f800000
DATA geluc<>+380(SB)/4, $0x3f800000
DATA geluc<>+384(SB)/4, $0xc2ae0000
DATA geluc<>+388(SB)/4, $0xc2ae0000
DATA geluc<>+392(SB)/4, $0xc2ae0000
DATA geluc<>+396(SB)/4, $0xc2ae0000
DATA geluc<>+400(SB)/4, $0xc2ae0000
DATA geluc<>+404(SB)/4, $0xc2ae0000
DATA geluc<>+408(SB)/4, $0xc2ae0000
DATA geluc<>+412(SB)/4, $0xc2ae0000
DATA geluc<>+416(SB)/4, $127
DATA geluc<>+420(SB)/4, $127
DATA geluc<>+424(SB)/4, $127
DATA geluc<>+428(SB)/4, $127
DATA geluc<>+432(SB)/4, $127
DATA geluc<>+436(SB)/4, $127
DATA geluc<>+440(SB)/4, $127
DATA geluc<>+444(SB)/4, $127
DATA geluc<>+448(SB)/4, $0x3ea7ba05
DATA geluc<>+452(SB)/4, $0x3ea7ba05
DATA geluc<>+456(SB)/4, $0x3ea7ba05
DATA geluc<>+460(SB)/4, $0x3ea7ba05
DATA geluc<>+464(SB)/4, $0x3ea7ba05
DATA geluc<>+468(SB)/4, $0x3ea7ba05
DATA geluc<>+472(SB)/4, $0x3ea7ba05
DATA geluc<>+476(SB)/4, $0x3ea7ba05
DATA geluc<>+480(SB)/4, $0x3e827906
DATA geluc<>+484(SB)/4, $0x3e827906
DATA geluc<>+488(SB)/4, $0x3e827906
DATA geluc<>+492(SB)/4, $0x3e827906
DATA geluc<>+496(SB)/4, $0x3e827906
DATA geluc<>+500(SB)/4, $0x3e827906
DATA geluc<>+504(SB)/4, $0x3e827906
DATA geluc<>+508(SB)/4, $0x3e827906
DATA geluc<>+512(SB)/4, $0xbe91a98e
DATA geluc<>+516(SB)/4, $0xbe91a98e
DATA geluc<>+520(SB)/4, $0xbe91a98e
DATA geluc<>+524(SB)/4, $0xbe91a98e
DATA geluc<>+528(SB)/4, $0xbe91a98e
DATA geluc<>+532(SB)/4, $0xbe91a98e
DATA geluc<>+536(SB)/4, $0xbe91a98e
DATA geluc<>+540(SB)/4, $0xbe91a98e
DATA geluc<>+544(SB)/4, $0x3fb5f0e3
DATA geluc<>+548(SB)/4, $0x3fb5f0e3
DATA geluc<>+552(SB)/4, $0x3fb5f0e3
DATA geluc<>+556(SB)/4, $0x3fb5f0e3
DATA geluc<>+560(SB)/4, $0x3fb5f0e3
DATA geluc<>+564(SB)/4, $0x3fb5f0e3
DATA geluc<>+568(SB)/4, $0x3fb5f0e3
DATA geluc<>+572(SB)/4, $0x3fb5f0e3
DATA geluc<>+576(SB)/4, $0xbfba00e3
DATA geluc<>+580(SB)/4, $0xbfba00e3
DATA geluc<>+584(SB)/4, $0xbfba00e3
DATA geluc<>+588(SB)/4, $0xbfba00e3
DATA geluc<>+592(SB)/4, $0xbfba00e3
DATA geluc<>+596(SB)/4, $0xbfba00e3
DATA geluc<>+600(SB)/4, $0xbfba00e3
DATA geluc<>+604(SB)/4, $0xbfba00e3
DATA geluc<>+608(SB)/4, $0x3f87dc22
DATA geluc<>+612(SB)/4, $0x3f87dc22
DATA geluc<>+616(SB)/4, $0x3f87dc22
DATA geluc<>+620(SB)/4, $0x3f87dc22
DATA geluc<>+624(SB)/4, $0x3f87dc22
DATA geluc<>+628(SB)/4, $0x3f87dc22
DATA geluc<>+632(SB)/4, $0x3f87dc22
DATA geluc<>+636(SB)/4, $0x3f87dc22
DATA geluc<>+640(SB)/4, $0x3ecc422a
DATA geluc<>+644(SB)/4, $0x3ecc422a
DATA geluc<>+648(SB)/4, $0x3ecc422a
DATA geluc<>+652(SB)/4, $0x3ecc422a
DATA geluc<>+656(SB)/4, $0x3ecc422a
DATA geluc<>+660(SB)/4, $0x3ecc422a
DATA geluc<>+664(SB)/4, $0x3ecc422a
DATA geluc<>+668(SB)/4, $0x3ecc422a
GLOBL geluc<>(SB), RODATA|NOPTR, $672

// CDF512 computes, for x in Z0, Φ(x) into Z1 and e^(−x²/2) into Z2, as
// normCDF and expNeg do. It expects the constants loaded by CONSTS512 and
// uses Z3-Z7 and K1.
#define CONSTS512 \
	MOVQ         $geluc<>(SB), AX \
	VBROADCASTSS GSIGN(AX), Z16 \
	VBROADCASTSS GINVSQRT2(AX), Z17 \
	VBROADCASTSS GMHALF(AX), Z18 \
	VBROADCASTSS GHALF(AX), Z19 \
	VBROADCASTSS GLOG2E(AX), Z20 \
	VBROADCASTSS GLN2HI(AX), Z21 \
	VBROADCASTSS GLN2LO(AX), Z22 \
	VBROADCASTSS GC720(AX), Z23 \
	VBROADCASTSS GC120(AX), Z24 \
	VBROADCASTSS GC24(AX), Z25 \
	VBROADCASTSS GC6(AX), Z26 \
	VBROADCASTSS GONE(AX), Z27 \
	VBROADCASTSS GM87(AX), Z28 \
	VBROADCASTSS GBIAS(AX), Z29 \
	VBROADCASTSS GP(AX), Z30 \
	VBROADCASTSS GINVSQRT2PI(AX), Z31

#define CDF512 \
	VPANDND         Z0, Z16, Z3 \ // |x|
	VMULPS          Z17, Z3, Z3 \ // z = |x|/√2
	VMULPS          Z18, Z0, Z4 \
	VMULPS          Z0, Z4, Z4 \ // v = −0.5·x·x
	VCMPPS          $5, Z28, Z4, K1 \ // K1: !(v < −87), NaN included
	VMULPS          Z20, Z4, Z5 \
	VSUBPS          Z19, Z5, Z5 \
	VCVTTPS2DQ      Z5, Z5 \ // n = int32(v·log2e − 0.5)
	VCVTDQ2PS       Z5, Z6 \
	VMULPS          Z21, Z6, Z7 \
	VSUBPS          Z7, Z4, Z7 \
	VMULPS          Z22, Z6, Z6 \
	VSUBPS          Z6, Z7, Z7 \ // r = v − n·ln2hi − n·ln2lo
	VMULPS          Z23, Z7, Z6 \
	VADDPS          Z24, Z6, Z6 \
	VMULPS          Z7, Z6, Z6 \
	VADDPS          Z25, Z6, Z6 \
	VMULPS          Z7, Z6, Z6 \
	VADDPS          Z26, Z6, Z6 \
	VMULPS          Z7, Z6, Z6 \
	VADDPS          Z19, Z6, Z6 \
	VMULPS          Z7, Z6, Z6 \
	VADDPS          Z27, Z6, Z6 \
	VMULPS          Z7, Z6, Z6 \
	VADDPS          Z27, Z6, Z6 \ // e^r
	VPADDD          Z29, Z5, Z5 \
	VPSLLD          $23, Z5, Z5 \ // 2^n
	VMULPS.Z        Z5, Z6, K1, Z2 \ // e = e^r·2^n, 0 below −87
	VMULPS          Z30, Z3, Z3 \
	VADDPS          Z27, Z3, Z3 \
	VDIVPS          Z3, Z27, Z3 \ // t = 1/(1 + p·z)
	VMULPS.BCST     geluc<>+GA5(SB), Z3, Z4 \
	VADDPS.BCST     geluc<>+GA4(SB), Z4, Z4 \
	VMULPS          Z3, Z4, Z4 \
	VADDPS.BCST     geluc<>+GA3(SB), Z4, Z4 \
	VMULPS          Z3, Z4, Z4 \
	VADDPS.BCST     geluc<>+GA2(SB), Z4, Z4 \
	VMULPS          Z3, Z4, Z4 \
	VADDPS.BCST     geluc<>+GA1(SB), Z4, Z4 \
	VMULPS          Z19, Z3, Z3 \
	VMULPS          Z4, Z3, Z3 \
	VMULPS          Z2, Z3, Z3 \ // tail = Φ(−|x|)
	VSUBPS          Z3, Z19, Z3 \
	VPANDD          Z16, Z0, Z4 \
	VPORD           Z4, Z3, Z3 \ // ±(0.5 − tail), the sign of x
	VADDPS          Z3, Z19, Z1

// func geluForwardAVX512(x, y *float32, n int)
TEXT ·geluForwardAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	CONSTS512
	SHRQ $4, CX
	JZ   f512done

f512loop:
	VMOVUPS (SI), Z0
	CDF512
	VMULPS  Z1, Z0, Z0 // y = x·Φ(x)
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     f512loop

f512done:
	VZEROUPPER
	RET

// func geluBackwardAVX512(x, dy, dx *float32, n int)
TEXT ·geluBackwardAVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), DX
	MOVQ dx+16(FP), DI
	MOVQ n+24(FP), CX
	CONSTS512
	SHRQ $4, CX
	JZ   b512done

b512loop:
	VMOVUPS (SI), Z0
	CDF512
	VMULPS  Z31, Z2, Z2 // φ = e/√(2π)
	VMULPS  Z2, Z0, Z2
	VADDPS  Z2, Z1, Z1
	VMULPS  (DX), Z1, Z1 // dx = dy·(Φ + x·φ)
	VMOVUPS Z1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	DECQ    CX
	JNZ     b512loop

b512done:
	VZEROUPPER
	RET

// CDF256 is CDF512 on 8 lanes: x in Y0, Φ(x) into Y1, e^(−x²/2) into Y2.
// It expects the sign mask in Y14, 1 in Y15 and geluc's address in AX, and
// uses Y3-Y8.
#define CDF256 \
	VANDNPS    Y0, Y14, Y3 \
	VMULPS     GINVSQRT2(AX), Y3, Y3 \
	VMULPS     GMHALF(AX), Y0, Y4 \
	VMULPS     Y0, Y4, Y4 \
	VCMPPS     $5, GM87(AX), Y4, Y8 \
	VMULPS     GLOG2E(AX), Y4, Y5 \
	VSUBPS     GHALF(AX), Y5, Y5 \
	VCVTTPS2DQ Y5, Y5 \
	VCVTDQ2PS  Y5, Y6 \
	VMULPS     GLN2HI(AX), Y6, Y7 \
	VSUBPS     Y7, Y4, Y7 \
	VMULPS     GLN2LO(AX), Y6, Y6 \
	VSUBPS     Y6, Y7, Y7 \
	VMULPS     GC720(AX), Y7, Y6 \
	VADDPS     GC120(AX), Y6, Y6 \
	VMULPS     Y7, Y6, Y6 \
	VADDPS     GC24(AX), Y6, Y6 \
	VMULPS     Y7, Y6, Y6 \
	VADDPS     GC6(AX), Y6, Y6 \
	VMULPS     Y7, Y6, Y6 \
	VADDPS     GHALF(AX), Y6, Y6 \
	VMULPS     Y7, Y6, Y6 \
	VADDPS     Y15, Y6, Y6 \
	VMULPS     Y7, Y6, Y6 \
	VADDPS     Y15, Y6, Y6 \
	VPADDD     GBIAS(AX), Y5, Y5 \
	VPSLLD     $23, Y5, Y5 \
	VMULPS     Y5, Y6, Y2 \
	VANDPS     Y8, Y2, Y2 \
	VMULPS     GP(AX), Y3, Y3 \
	VADDPS     Y15, Y3, Y3 \
	VDIVPS     Y3, Y15, Y3 \
	VMULPS     GA5(AX), Y3, Y4 \
	VADDPS     GA4(AX), Y4, Y4 \
	VMULPS     Y3, Y4, Y4 \
	VADDPS     GA3(AX), Y4, Y4 \
	VMULPS     Y3, Y4, Y4 \
	VADDPS     GA2(AX), Y4, Y4 \
	VMULPS     Y3, Y4, Y4 \
	VADDPS     GA1(AX), Y4, Y4 \
	VMULPS     GHALF(AX), Y3, Y3 \
	VMULPS     Y4, Y3, Y3 \
	VMULPS     Y2, Y3, Y3 \
	VMOVUPS    GHALF(AX), Y8 \
	VSUBPS     Y3, Y8, Y3 \
	VANDPS     Y14, Y0, Y4 \
	VORPS      Y4, Y3, Y3 \
	VADDPS     Y3, Y8, Y1

// func geluForwardAVX2(x, y *float32, n int)
TEXT ·geluForwardAVX2(SB), NOSPLIT, $0-24
	MOVQ    x+0(FP), SI
	MOVQ    y+8(FP), DI
	MOVQ    n+16(FP), CX
	MOVQ    $geluc<>(SB), AX
	VMOVUPS GSIGN(AX), Y14
	VMOVUPS GONE(AX), Y15
	SHRQ    $3, CX
	JZ      f256done

f256loop:
	VMOVUPS (SI), Y0
	CDF256
	VMULPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     f256loop

f256done:
	VZEROUPPER
	RET

// func geluBackwardAVX2(x, dy, dx *float32, n int)
TEXT ·geluBackwardAVX2(SB), NOSPLIT, $0-32
	MOVQ    x+0(FP), SI
	MOVQ    dy+8(FP), DX
	MOVQ    dx+16(FP), DI
	MOVQ    n+24(FP), CX
	MOVQ    $geluc<>(SB), AX
	VMOVUPS GSIGN(AX), Y14
	VMOVUPS GONE(AX), Y15
	SHRQ    $3, CX
	JZ      b256done

b256loop:
	VMOVUPS (SI), Y0
	CDF256
	VMULPS  GINVSQRT2PI(AX), Y2, Y2
	VMULPS  Y2, Y0, Y2
	VADDPS  Y2, Y1, Y1
	VMULPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     b256loop

b256done:
	VZEROUPPER
	RET

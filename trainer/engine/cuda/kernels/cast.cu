// cast.cu: conversions between float32 and the 16-bit floats used by mixed
// precision. bfloat16 and float16 travel as their bit patterns (unsigned
// short), so no CUDA half headers are needed; rounding is to nearest even.

__device__ __forceinline__ unsigned short f32_to_bf16_bits(float f) {
  unsigned int u = __float_as_int(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u); // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return (unsigned short)(u >> 16);
}

__device__ __forceinline__ float bf16_bits_to_f32(unsigned short b) { return __int_as_float((int)((unsigned)b << 16)); }

// The float16 conversions are one PTX instruction each. Host builds of the
// kernels (the CPU emulation in the cuda package's tests) use the
// sweep_host_* functions of their emulation header instead.
__device__ __forceinline__ unsigned short f32_to_f16_bits(float f) {
#ifdef __CUDA_ARCH__
  unsigned short h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
#else
  return sweep_host_f32_to_f16(f);
#endif
}

__device__ __forceinline__ float f16_bits_to_f32(unsigned short h) {
#ifdef __CUDA_ARCH__
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
#else
  return sweep_host_f16_to_f32(h);
#endif
}

extern "C" __global__ void f32_to_bf16(const float *x, unsigned short *y, int n) {
  GRID_LOOP(i, n) y[i] = f32_to_bf16_bits(x[i]);
}

extern "C" __global__ void bf16_to_f32(const unsigned short *x, float *y, int n) {
  GRID_LOOP(i, n) y[i] = bf16_bits_to_f32(x[i]);
}

extern "C" __global__ void f32_to_f16(const float *x, unsigned short *y, int n) {
  GRID_LOOP(i, n) y[i] = f32_to_f16_bits(x[i]);
}

extern "C" __global__ void f16_to_f32(const unsigned short *x, float *y, int n) {
  GRID_LOOP(i, n) y[i] = f16_bits_to_f32(x[i]);
}

extern "C" __global__ void i32_to_f32(const int *x, float *y, int n) {
  GRID_LOOP(i, n) y[i] = (float)x[i];
}

// y += x for 16-bit x: accumulating a 16-bit weight gradient into float32.
extern "C" __global__ void bf16_acc_f32(const unsigned short *x, float *y, int n) {
  GRID_LOOP(i, n) y[i] += bf16_bits_to_f32(x[i]);
}

extern "C" __global__ void f16_acc_f32(const unsigned short *x, float *y, int n) {
  GRID_LOOP(i, n) y[i] += f16_bits_to_f32(x[i]);
}

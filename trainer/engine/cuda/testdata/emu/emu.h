/* emu.h: runs sweep's CUDA kernels on the host, for tests on machines
 * without a GPU. Included (-include) before the kernel sources, which are
 * then compiled as C++ for the CPU. Each block runs on a pool of blockDim
 * POSIX threads, so __syncthreads and warp shuffles behave as on a GPU
 * (barriers); blocks run one after another, so __shared__ can be static.
 * It emulates semantics, not speed, and not PTX: float16 conversions use
 * the sweep_host_* functions below. */
#ifndef SWEEP_EMU_H
#define SWEEP_EMU_H
#include <math.h>
#include <stdint.h>
#include <string.h>

struct dim3 {
  unsigned x, y, z;
};
extern dim3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __forceinline__ inline
#define __launch_bounds__(...)

void sweep_emu_syncthreads(void);
void sweep_emu_warp_exchange(double v, double *out, int delta);
float sweep_emu_atomic_add_f(float *p, float v);
double sweep_emu_atomic_add_d(double *p, double v);
int sweep_emu_atomic_add_i(int *p, int v);

inline void __syncthreads(void) { sweep_emu_syncthreads(); }
inline float __shfl_down_sync(unsigned, float v, int delta, int = 32) {
  double r;
  sweep_emu_warp_exchange(v, &r, delta);
  return (float)r;
}
inline double __shfl_down_sync(unsigned, double v, int delta, int = 32) {
  double r;
  sweep_emu_warp_exchange(v, &r, delta);
  return r;
}
inline float atomicAdd(float *p, float v) { return sweep_emu_atomic_add_f(p, v); }
inline double atomicAdd(double *p, double v) { return sweep_emu_atomic_add_d(p, v); }
inline int atomicAdd(int *p, int v) { return sweep_emu_atomic_add_i(p, v); }
inline float __int_as_float(int i) {
  float f;
  memcpy(&f, &i, 4);
  return f;
}
inline int __float_as_int(float f) {
  int i;
  memcpy(&i, &f, 4);
  return i;
}
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }

/* IEEE binary16 conversions, round to nearest even (as cvt.rn.f16.f32). */
inline unsigned short sweep_host_f32_to_f16(float f) {
  uint32_t u = (uint32_t)__float_as_int(f);
  unsigned short sign = (u >> 16) & 0x8000;
  int exp = (int)((u >> 23) & 0xff) - 127;
  uint32_t mant = u & 0x7fffff;
  if (exp == 128) return sign | (mant ? 0x7e00 : 0x7c00);
  if (exp > 15) return sign | 0x7c00;
  if (exp >= -14) {
    uint32_t h = ((uint32_t)(exp + 15) << 10) | (mant >> 13), rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
    return sign | (unsigned short)h;
  }
  if (exp >= -25) {
    uint32_t m = mant | 0x800000, shift = (uint32_t)(-exp - 14 + 13);
    uint32_t h = m >> shift, rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1))) h++;
    return sign | (unsigned short)h;
  }
  return sign;
}

inline float sweep_host_f16_to_f32(unsigned short h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0x1f) return __int_as_float((int)(sign | 0x7f800000 | (mant << 13)));
  if (exp == 0) {
    float f = (float)mant / 16777216.0f;
    return sign ? -f : f;
  }
  return __int_as_float((int)(sign | ((exp + 112) << 23) | (mant << 13)));
}
#endif

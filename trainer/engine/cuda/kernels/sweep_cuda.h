/* sweep_cuda.h: the declarations sweep's kernels need, for syntax checks
 * with clang in CUDA mode (-nocudainc -nocudalib), where no CUDA headers
 * exist. NVRTC, which compiles the kernels at run time, has all of these
 * built in, so the kernel sources never include this file: the test passes
 * it with -include. It declares prototypes only; nothing here is linked. */
#ifndef SWEEP_CUDA_H
#define SWEEP_CUDA_H
#ifndef __CUDACC_RTC__
#include <__clang_cuda_builtin_vars.h>

#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __host__ __attribute__((host))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))

extern "C" {
__device__ float expf(float);
__device__ float erff(float);
__device__ float logf(float);
__device__ float sqrtf(float);
__device__ float rsqrtf(float);
__device__ float fabsf(float);
__device__ float fmaxf(float, float);
__device__ float fminf(float, float);
__device__ float powf(float, float);
__device__ float floorf(float);
__device__ double sqrt(double);
__device__ int min(int, int);
__device__ int max(int, int);
}
__device__ void __syncthreads(void);
__device__ float __int_as_float(int);
__device__ int __float_as_int(float);
__device__ float atomicAdd(float *, float);
__device__ double atomicAdd(double *, double);
__device__ int atomicAdd(int *, int);
__device__ int atomicMax(int *, int);
__device__ float __shfl_down_sync(unsigned mask, float v, int delta, int width = 32);
__device__ double __shfl_down_sync(unsigned mask, double v, int delta, int width = 32);
#endif
#endif

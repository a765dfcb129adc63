// common.cuh: helpers shared by every kernel file. The Go side compiles
// common.cuh followed by all *.cu files as one NVRTC program, so nothing
// here is included: it is simply first.

typedef unsigned long long u64;

// GRID_LOOP visits i = 0..n-1 across the whole grid.
#define GRID_LOOP(i, n) for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)

// sweep_uniform is engine.Uniform: SplitMix64 of seed + (i+1)·golden ratio,
// top 24 bits scaled by 2^-24. CPU and GPU draw identical numbers.
__device__ __forceinline__ float sweep_uniform(u64 seed, u64 i) {
  u64 z = seed + (i + 1ull) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (float)(z >> 40) * (1.0f / 16777216.0f);
}

// block_sum returns the sum of v over the block to every thread. blockDim.x
// must be a multiple of 32 and at most 1024. Reads of the result happen
// before the function can be called again, thanks to the final barrier.
__device__ __forceinline__ double block_sum(double v) {
  __shared__ double warp_sums[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  int nwarps = blockDim.x >> 5;
  v = threadIdx.x < nwarps ? warp_sums[threadIdx.x] : 0.0;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  if (threadIdx.x == 0) warp_sums[0] = v;
  __syncthreads();
  v = warp_sums[0];
  __syncthreads();
  return v;
}

__device__ __forceinline__ float sweep_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

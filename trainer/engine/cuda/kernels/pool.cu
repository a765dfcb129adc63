// pool.cu: max and average pooling over (NC,H,W) planes, one thread per
// output element. The backward kernels scatter with atomicAdd into a dx
// that the caller zeroed.

struct __attribute__((aligned(4))) pool_geom_unused {}; // keeps clang and NVRTC parsing alike

#define POOL_SETUP                                                                                                \
  int q = o % Q, p = (o / Q) % P, plane = o / (P * Q);                                                            \
  int h0 = p * SH - PH, w0 = q * SW - PW;                                                                         \
  const long long base = (long long)plane * H * W;

extern "C" __global__ void maxpool_fwd_f32(const float *x, float *y, int NC, int H, int W, int P, int Q, int KH,
                                           int KW, int SH, int SW, int PH, int PW) {
  GRID_LOOP(o, NC * P * Q) {
    POOL_SETUP
    float best = -__int_as_float(0x7f800000);
    for (int r = 0; r < KH; r++)
      for (int s = 0; s < KW; s++) {
        int h = h0 + r, w = w0 + s;
        if (h >= 0 && h < H && w >= 0 && w < W) best = fmaxf(best, x[base + h * W + w]);
      }
    y[o] = best;
  }
}

// Each dy goes to the first window position (row-major) whose x equals y.
extern "C" __global__ void maxpool_bwd_f32(const float *x, const float *y, const float *dy, float *dx, int NC, int H,
                                           int W, int P, int Q, int KH, int KW, int SH, int SW, int PH, int PW) {
  GRID_LOOP(o, NC * P * Q) {
    POOL_SETUP
    float target = y[o];
    for (int r = 0; r < KH; r++)
      for (int s = 0; s < KW; s++) {
        int h = h0 + r, w = w0 + s;
        if (h >= 0 && h < H && w >= 0 && w < W && x[base + h * W + w] == target) {
          atomicAdd(&dx[base + h * W + w], dy[o]);
          r = KH;
          break;
        }
      }
  }
}

// Padding counts in the divisor (count_include_pad).
extern "C" __global__ void avgpool_fwd_f32(const float *x, float *y, int NC, int H, int W, int P, int Q, int KH,
                                           int KW, int SH, int SW, int PH, int PW) {
  GRID_LOOP(o, NC * P * Q) {
    POOL_SETUP
    float acc = 0.0f;
    for (int r = 0; r < KH; r++)
      for (int s = 0; s < KW; s++) {
        int h = h0 + r, w = w0 + s;
        if (h >= 0 && h < H && w >= 0 && w < W) acc += x[base + h * W + w];
      }
    y[o] = acc / (float)(KH * KW);
  }
}

extern "C" __global__ void avgpool_bwd_f32(const float *dy, float *dx, int NC, int H, int W, int P, int Q, int KH,
                                           int KW, int SH, int SW, int PH, int PW) {
  GRID_LOOP(o, NC * P * Q) {
    POOL_SETUP
    float g = dy[o] / (float)(KH * KW);
    for (int r = 0; r < KH; r++)
      for (int s = 0; s < KW; s++) {
        int h = h0 + r, w = w0 + s;
        if (h >= 0 && h < H && w >= 0 && w < W) atomicAdd(&dx[base + h * W + w], g);
      }
  }
}

// elementwise.cu: fill, add, mul, scale, axpy, lerp, activations, channel
// bias and scales, dropout. All float32, contiguous, n elements.

extern "C" __global__ void fill_f32(float *y, float v, int n) {
  GRID_LOOP(i, n) y[i] = v;
}

extern "C" __global__ void add_f32(const float *a, const float *b, float *y, int n) {
  GRID_LOOP(i, n) y[i] = a[i] + b[i];
}

extern "C" __global__ void add_relu_f32(const float *a, const float *b, float *y, int n) {
  GRID_LOOP(i, n) y[i] = fmaxf(a[i] + b[i], 0.0f);
}

extern "C" __global__ void mul_f32(const float *a, const float *b, float *y, int n) {
  GRID_LOOP(i, n) y[i] = a[i] * b[i];
}

extern "C" __global__ void scale_f32(float alpha, const float *x, float *y, int n) {
  GRID_LOOP(i, n) y[i] = alpha * x[i];
}

extern "C" __global__ void axpy_f32(float alpha, const float *x, float *y, int n) {
  GRID_LOOP(i, n) y[i] += alpha * x[i];
}

extern "C" __global__ void lerp_f32(float t, const float *src, float *dst, int n) {
  GRID_LOOP(i, n) dst[i] += t * (src[i] - dst[i]);
}

// Standard normal CDF, for GELU (x·Φ(x), the exact erf form of nn.GELU).
__device__ __forceinline__ float sweep_phi(float x) { return 0.5f * (1.0f + erff(x * 0.70710678118654752f)); }

// act: 0 ReLU, 1 SiLU, 2 Sigmoid, 3 GELU (engine.Act).
extern "C" __global__ void act_fwd_f32(int act, const float *x, float *y, int n) {
  GRID_LOOP(i, n) {
    float v = x[i];
    y[i] = act == 0 ? fmaxf(v, 0.0f) : act == 1 ? v * sweep_sigmoid(v) : act == 3 ? v * sweep_phi(v) : sweep_sigmoid(v);
  }
}

// ReLU and Sigmoid read y, SiLU and GELU read x; dx may alias dy.
extern "C" __global__ void act_bwd_f32(int act, const float *x, const float *y, const float *dy, float *dx, int n) {
  GRID_LOOP(i, n) {
    float g = dy[i], d;
    if (act == 0) {
      d = y[i] > 0.0f ? g : 0.0f;
    } else if (act == 1) {
      float s = sweep_sigmoid(x[i]);
      d = g * s * (1.0f + x[i] * (1.0f - s));
    } else if (act == 3) {
      float v = x[i];
      d = g * (sweep_phi(v) + v * 0.39894228040143268f * expf(-0.5f * v * v));
    } else {
      d = g * y[i] * (1.0f - y[i]);
    }
    dx[i] = d;
  }
}

// x is (N,C,HW) flattened; bias has C entries.
extern "C" __global__ void add_channel_bias_f32(float *x, const float *bias, int C, int HW, int n) {
  GRID_LOOP(i, n) x[i] += bias[(i / HW) % C];
}

// y = x·s with one scale per (n,c): s has n/HW entries.
extern "C" __global__ void scale_channels_f32(const float *x, const float *s, float *y, int HW, int n) {
  GRID_LOOP(i, n) y[i] = x[i] * s[i / HW];
}

// One block per (n,c) row of HW elements: dx = dy·s, ds = Σ dy·x.
extern "C" __global__ void scale_channels_bwd_f32(const float *x, const float *s, const float *dy, float *dx,
                                                  float *ds, int HW) {
  int row = blockIdx.x;
  const float *xr = x + (long long)row * HW, *dyr = dy + (long long)row * HW;
  float *dxr = dx + (long long)row * HW;
  float sc = s[row];
  double acc = 0.0;
  for (int i = threadIdx.x; i < HW; i += blockDim.x) {
    acc += (double)dyr[i] * xr[i];
    dxr[i] = dyr[i] * sc;
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) ds[row] = (float)acc;
}

// mask = 1/(1-p) where Uniform(seed, i) >= p, else 0; y = x·mask.
extern "C" __global__ void dropout_f32(float p, u64 seed, const float *x, float *mask, float *y, int n) {
  float keep = 1.0f / (1.0f - p);
  GRID_LOOP(i, n) {
    float m = sweep_uniform(seed, (u64)i) >= p ? keep : 0.0f;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

// batchnorm.cu: batch normalisation over (N,C,HW), one block per channel for
// the statistics, elementwise kernels for the rest. Statistics accumulate in
// float64, so they match the CPU backend's to float32 rounding.

// bn_stats writes mean[c], invstd[c] = 1/sqrt(var+eps) (biased variance) and
// updates the running statistics as PyTorch does (unbiased var into runVar).
extern "C" __global__ void bn_stats_f32(const float *x, float *mean, float *invstd, float *run_mean, float *run_var,
                                        int N, int C, int HW, float eps, float momentum) {
  int c = blockIdx.x;
  double m = (double)N * HW, s = 0.0;
  for (int n = 0; n < N; n++)
    for (int i = threadIdx.x; i < HW; i += blockDim.x) s += x[((long long)n * C + c) * HW + i];
  double mu = block_sum(s) / m, q = 0.0;
  for (int n = 0; n < N; n++)
    for (int i = threadIdx.x; i < HW; i += blockDim.x) {
      double d = x[((long long)n * C + c) * HW + i] - mu;
      q += d * d;
    }
  double var = block_sum(q) / m;
  if (threadIdx.x == 0) {
    mean[c] = (float)mu;
    invstd[c] = (float)(1.0 / sqrt(var + (double)eps));
    double unbiased = m > 1.0 ? var * m / (m - 1.0) : var;
    run_mean[c] = (float)((1.0 - momentum) * run_mean[c] + momentum * mu);
    run_var[c] = (float)((1.0 - momentum) * run_var[c] + momentum * unbiased);
  }
}

// y = gamma·(x − mean)·invstd + beta, then max(·,0) when relu != 0.
extern "C" __global__ void bn_apply_f32(const float *x, const float *gamma, const float *beta, const float *mean,
                                        const float *invstd, float *y, int C, int HW, int n, int relu) {
  GRID_LOOP(i, n) {
    int c = (i / HW) % C;
    float v = gamma[c] * (x[i] - mean[c]) * invstd[c] + beta[c];
    y[i] = relu ? fmaxf(v, 0.0f) : v;
  }
}

extern "C" __global__ void bn_infer_f32(const float *x, const float *gamma, const float *beta, const float *run_mean,
                                        const float *run_var, float eps, float *y, int C, int HW, int n) {
  GRID_LOOP(i, n) {
    int c = (i / HW) % C;
    y[i] = gamma[c] * (x[i] - run_mean[c]) * rsqrtf(run_var[c] + eps) + beta[c];
  }
}

// bn_bwd_reduce: per channel, sdy = Σdy and sdyx = Σdy·x̂ (dy masked by y>0
// when y is not null: the fused ReLU). Accumulates dgamma += sdyx and
// dbeta += sdy, and keeps both sums in sums[2c], sums[2c+1] for bn_bwd_dx.
extern "C" __global__ void bn_bwd_reduce_f32(const float *x, const float *dy, const float *y, const float *mean,
                                             const float *invstd, float *dgamma, float *dbeta, float *sums, int N,
                                             int C, int HW) {
  int c = blockIdx.x;
  float mu = mean[c], is = invstd[c];
  double sdy = 0.0, sdyx = 0.0;
  for (int n = 0; n < N; n++)
    for (int i = threadIdx.x; i < HW; i += blockDim.x) {
      long long k = ((long long)n * C + c) * HW + i;
      float g = (y && y[k] <= 0.0f) ? 0.0f : dy[k];
      sdy += g;
      sdyx += (double)g * ((x[k] - mu) * is);
    }
  sdy = block_sum(sdy);
  sdyx = block_sum(sdyx);
  if (threadIdx.x == 0) {
    dgamma[c] += (float)sdyx;
    dbeta[c] += (float)sdy;
    sums[2 * c] = (float)sdy;
    sums[2 * c + 1] = (float)sdyx;
  }
}

// dx = gamma·invstd/m · (m·dy − sdy − x̂·sdyx), m = N·HW.
extern "C" __global__ void bn_bwd_dx_f32(const float *x, const float *dy, const float *y, const float *gamma,
                                         const float *mean, const float *invstd, const float *sums, float *dx, int C,
                                         int HW, int n, float m) {
  GRID_LOOP(i, n) {
    int c = (i / HW) % C;
    float is = invstd[c];
    float g = (y && y[i] <= 0.0f) ? 0.0f : dy[i];
    float xhat = (x[i] - mean[c]) * is;
    dx[i] = gamma[c] * is / m * (m * g - sums[2 * c] - xhat * sums[2 * c + 1]);
  }
}

// reduce.cu: whole-tensor reductions into float64, per-channel sums and
// global average pooling.

// op: 0 Σx, 1 Σx², 2 count of zeros. out[0] must be zeroed first; each
// block adds its partial with a double atomicAdd.
extern "C" __global__ void reduce_f32(int op, const float *x, double *out, int n) {
  double acc = 0.0;
  GRID_LOOP(i, n) {
    double v = x[i];
    acc += op == 0 ? v : op == 1 ? v * v : (v == 0.0 ? 1.0 : 0.0);
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) atomicAdd(out, acc);
}

// One block per channel c: db[c] += Σ over n and hw of dy (N,C,HW).
extern "C" __global__ void sum_channels_f32(const float *dy, float *db, int N, int C, int HW) {
  int c = blockIdx.x;
  double acc = 0.0;
  for (int n = 0; n < N; n++) {
    const float *row = dy + ((long long)n * C + c) * HW;
    for (int i = threadIdx.x; i < HW; i += blockDim.x) acc += row[i];
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) db[c] += (float)acc;
}

// One block per (n,c) row: y[row] = mean of its HW values.
extern "C" __global__ void global_avg_fwd_f32(const float *x, float *y, int HW) {
  int row = blockIdx.x;
  double acc = 0.0;
  for (int i = threadIdx.x; i < HW; i += blockDim.x) acc += x[(long long)row * HW + i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) y[row] = (float)(acc / HW);
}

extern "C" __global__ void global_avg_bwd_f32(const float *dy, float *dx, int HW, int n) {
  float inv = 1.0f / (float)HW;
  GRID_LOOP(i, n) dx[i] = dy[i / HW] * inv;
}

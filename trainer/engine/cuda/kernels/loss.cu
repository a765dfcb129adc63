// loss.cu: fused softmax cross-entropy with label smoothing, and argmax.
// One thread per row: K (classes) is small for image classification.

// losses[r] = −Σ_k q_k·log softmax(z)_k with q = (1−ε)·onehot + ε/K;
// dlogits (when not null) = (softmax − q)·grad_scale.
extern "C" __global__ void softmax_xent_f32(const float *logits, const int *labels, int N, int K, float smoothing,
                                            float grad_scale, float *losses, float *dlogits) {
  GRID_LOOP(r, N) {
    const float *z = logits + (long long)r * K;
    float mx = z[0];
    for (int k = 1; k < K; k++) mx = fmaxf(mx, z[k]);
    float se = 0.0f, sz = 0.0f;
    for (int k = 0; k < K; k++) {
      se += expf(z[k] - mx);
      sz += z[k] - mx;
    }
    float lse = logf(se);
    int y = labels[r];
    float on = 1.0f - smoothing, off = smoothing / (float)K;
    // −Σ q_k (z_k − mx − lse) = lse − on·(z_y − mx) − off·Σ(z_k − mx)
    losses[r] = lse - on * (z[y] - mx) - off * sz;
    if (dlogits) {
      float *d = dlogits + (long long)r * K;
      for (int k = 0; k < K; k++) {
        float q = off + (k == y ? on : 0.0f);
        d[k] = (expf(z[k] - mx) / se - q) * grad_scale;
      }
    }
  }
}

extern "C" __global__ void argmax_f32(const float *x, int *idx, int N, int K) {
  GRID_LOOP(r, N) {
    const float *z = x + (long long)r * K;
    int best = 0;
    for (int k = 1; k < K; k++)
      if (z[k] > z[best]) best = k;
    idx[r] = best;
  }
}

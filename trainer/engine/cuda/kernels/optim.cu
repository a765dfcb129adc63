// optim.cu: in-place optimizer updates with PyTorch's semantics (see
// engine.Backend.SGDStep and AdamWStep).

extern "C" __global__ void sgd_step_f32(float *p, const float *g, float *v, int n, float lr, float momentum,
                                        float dampening, float wd, int nesterov) {
  GRID_LOOP(i, n) {
    float gi = g[i] + wd * p[i];
    if (momentum != 0.0f) {
      float vi = momentum * v[i] + (1.0f - dampening) * gi;
      v[i] = vi;
      gi = nesterov ? gi + momentum * vi : vi;
    }
    p[i] -= lr * gi;
  }
}

// bc1 = 1 − β1^t and bc2 = 1 − β2^t come from the host.
extern "C" __global__ void adamw_step_f32(float *p, const float *g, float *m, float *v, int n, float lr, float b1,
                                          float b2, float eps, float wd, float bc1, float bc2) {
  GRID_LOOP(i, n) {
    float pi = p[i] - lr * wd * p[i];
    float mi = b1 * m[i] + (1.0f - b1) * g[i];
    float vi = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
  }
}

// unscale_check multiplies gradients by inv_scale and sets *found to 1 when
// any is NaN or ±Inf: the device half of dynamic loss scaling.
extern "C" __global__ void unscale_check_f32(float *g, float inv_scale, int n, int *found) {
  GRID_LOOP(i, n) {
    float v = g[i] * inv_scale;
    if (!(fabsf(v) <= 3.402823466e38f)) *found = 1;
    g[i] = v;
  }
}

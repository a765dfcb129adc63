// augment.cu: random crop (zero padding pad) and horizontal flip on the
// device, for a batch of float images (N,C,H,W). Image n's offsets and flip
// come from sweep_uniform(seed, 3n), (3n+1), (3n+2), so a run is
// reproducible and the CPU pipeline can draw the same values.

extern "C" __global__ void crop_flip_f32(const float *x, float *y, int N, int C, int H, int W, int pad, u64 seed) {
  GRID_LOOP(i, N * C * H * W) {
    int w = i % W, h = (i / W) % H, n = i / (C * H * W);
    int span = 2 * pad + 1;
    int dy = (int)(sweep_uniform(seed, 3ull * n) * span) - pad;
    int dx = (int)(sweep_uniform(seed, 3ull * n + 1) * span) - pad;
    bool flip = sweep_uniform(seed, 3ull * n + 2) < 0.5f;
    int sw = (flip ? W - 1 - w : w) + dx, sh = h + dy;
    y[i] = (sh >= 0 && sh < H && sw >= 0 && sw < W) ? x[i - (long long)h * W - w + (long long)sh * W + sw] : 0.0f;
  }
}

// im2col.cu: the convolution fallback when cuDNN is absent. For one image,
// col (C·R·S, P·Q) holds the input patches so that y = w (K, C·R·S) · col.
// col2im is the gather form (one thread per input element), deterministic.

extern "C" __global__ void im2col_f32(const float *x, float *col, int C, int H, int W, int R, int S, int P, int Q,
                                      int SH, int SW, int PH, int PW) {
  GRID_LOOP(i, C * R * S * P * Q) {
    int q = i % Q, p = (i / Q) % P, row = i / (P * Q);
    int s = row % S, r = (row / S) % R, c = row / (R * S);
    int h = p * SH - PH + r, w = q * SW - PW + s;
    col[i] = (h >= 0 && h < H && w >= 0 && w < W) ? x[((long long)c * H + h) * W + w] : 0.0f;
  }
}

// dx (C,H,W) = Σ over the patches that read each input element.
extern "C" __global__ void col2im_f32(const float *col, float *dx, int C, int H, int W, int R, int S, int P, int Q,
                                      int SH, int SW, int PH, int PW) {
  GRID_LOOP(i, C * H * W) {
    int w = i % W, h = (i / W) % H, c = i / (H * W);
    float acc = 0.0f;
    for (int r = 0; r < R; r++) {
      int ph = h + PH - r;
      if (ph < 0 || ph % SH != 0 || ph / SH >= P) continue;
      for (int s = 0; s < S; s++) {
        int pw = w + PW - s;
        if (pw < 0 || pw % SW != 0 || pw / SW >= Q) continue;
        acc += col[(((long long)c * R + r) * S + s) * P * Q + (ph / SH) * Q + pw / SW];
      }
    }
    dx[i] = acc;
  }
}

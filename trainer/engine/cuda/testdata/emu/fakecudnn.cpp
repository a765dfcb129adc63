/* fakecudnn.cpp: a host stand-in for cuDNN 9's legacy convolution API,
 * linked into the emulation library when the test wants the cuDNN path.
 * Descriptors are plain structs; the three convolution passes are direct
 * loops over float32 or bfloat16 tensors with double accumulation; the
 * heuristics return an unsupported algorithm first, an oversized one second
 * and a usable one third, so the backend's choice logic is exercised. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

namespace {
struct tensor_desc { int dt, n, c, h, w; };
struct conv_desc { int ph, pw, sh, sw, groups, math; };
struct perf { int algo, status; float time; int pad; size_t memory; int determinism, math, reserved[4]; };

float get(const void *p, int dt, long i) {
  if (dt == 0) return ((const float *)p)[i];
  return __int_as_float((int)((unsigned)((const unsigned short *)p)[i] << 16)); /* bfloat16 */
}

void put(void *p, int dt, long i, float v) {
  if (dt == 0) { ((float *)p)[i] = v; return; }
  unsigned u = (unsigned)__float_as_int(v);
  u += 0x7fffu + ((u >> 16) & 1u);
  ((unsigned short *)p)[i] = (unsigned short)(u >> 16);
}

/* visit calls f(x index, w index, y index) for every multiply of the conv. */
template <class F> void visit(const tensor_desc *x, const tensor_desc *w, const tensor_desc *y, const conv_desc *c, F f) {
  int cg = x->c / c->groups, kg = w->n / c->groups;
  for (int n = 0; n < x->n; n++)
    for (int k = 0; k < w->n; k++) {
      int g = k / kg;
      for (int p = 0; p < y->h; p++)
        for (int q = 0; q < y->w; q++)
          for (int ci = 0; ci < cg; ci++)
            for (int r = 0; r < w->h; r++)
              for (int s = 0; s < w->w; s++) {
                int hh = p * c->sh - c->ph + r, ww = q * c->sw - c->pw + s;
                if (hh < 0 || hh >= x->h || ww < 0 || ww >= x->w) continue;
                long xi = (((long)n * x->c + g * cg + ci) * x->h + hh) * x->w + ww;
                long wi = (((long)k * cg + ci) * w->h + r) * w->w + s;
                long yi = (((long)n * y->c + k) * y->h + p) * y->w + q;
                f(xi, wi, yi);
              }
    }
}

long count(const tensor_desc *d) { return (long)d->n * d->c * d->h * d->w; }

/* blend writes out = alpha·acc + beta·out over n elements. */
void blend(void *out, int dt, const double *acc, long n, float alpha, float beta) {
  for (long i = 0; i < n; i++) put(out, dt, i, alpha * (float)acc[i] + (beta == 0 ? 0.0f : beta * get(out, dt, i)));
}

int heuristics(int *returned, perf *res, int requested) {
  perf list[3] = {{9, 3000, 0, 0, 0, 0, 0, {0}}, {7, 0, 0, 0, (size_t)1 << 40, 0, 0, {0}}, {1, 0, 0, 0, 4096, 0, 0, {0}}};
  int n = requested < 3 ? requested : 3;
  memcpy(res, list, n * sizeof(perf));
  *returned = n;
  return 0;
}
} // namespace

extern "C" {
int sweep_emu_ctx_still(int *first); /* fakegpu.cpp */
int sweep_emu_fail16(void);          /* fakegpu.cpp: see sweep_emu_fail_16bit */
static int dnn_ctx;
size_t cudnnGetVersion(void) { return 90100; }
const char *cudnnGetErrorString(int s) { return s == 3000 ? "CUDNN_STATUS_NOT_SUPPORTED" : "CUDNN_STATUS_EMULATED"; }
static int handle_storage;
int cudnnCreate(void **h) {
  if (!sweep_emu_ctx_still(&dnn_ctx)) return 1001; /* CUDNN_STATUS_NOT_INITIALIZED */
  *h = &handle_storage;
  return 0;
}
int cudnnDestroy(void *) { return 0; }
int cudnnSetStream(void *, void *) { return 0; }

int cudnnCreateTensorDescriptor(tensor_desc **d) { *d = (tensor_desc *)calloc(1, sizeof(tensor_desc)); return 0; }
int cudnnSetTensor4dDescriptor(tensor_desc *d, int format, int dt, int n, int c, int h, int w) {
  if (format != 0 || (dt != 0 && dt != 9)) return 3000; /* emulation: NCHW float or bfloat16 */
  *d = tensor_desc{dt, n, c, h, w};
  return 0;
}
int cudnnDestroyTensorDescriptor(tensor_desc *d) { free(d); return 0; }
int cudnnCreateFilterDescriptor(tensor_desc **d) { return cudnnCreateTensorDescriptor(d); }
int cudnnSetFilter4dDescriptor(tensor_desc *d, int dt, int format, int k, int c, int h, int w) {
  return cudnnSetTensor4dDescriptor(d, format, dt, k, c, h, w);
}
int cudnnDestroyFilterDescriptor(tensor_desc *d) { free(d); return 0; }
int cudnnCreateConvolutionDescriptor(conv_desc **d) { *d = (conv_desc *)calloc(1, sizeof(conv_desc)); (*d)->groups = 1; return 0; }
int cudnnSetConvolution2dDescriptor(conv_desc *d, int ph, int pw, int sh, int sw, int dh, int dw, int mode, int compute) {
  if (dh != 1 || dw != 1 || mode != 1 || compute != 0) return 2000;
  d->ph = ph, d->pw = pw, d->sh = sh, d->sw = sw;
  return 0;
}
int cudnnSetConvolutionGroupCount(conv_desc *d, int g) { d->groups = g; return 0; }
int cudnnSetConvolutionMathType(conv_desc *d, int m) { d->math = m; return 0; }
int cudnnDestroyConvolutionDescriptor(conv_desc *d) { free(d); return 0; }

int cudnnGetConvolutionForwardAlgorithm_v7(void *, tensor_desc *, tensor_desc *, conv_desc *, tensor_desc *, int req, int *ret, perf *res) { return heuristics(ret, res, req); }
int cudnnGetConvolutionBackwardDataAlgorithm_v7(void *, tensor_desc *, tensor_desc *, conv_desc *, tensor_desc *, int req, int *ret, perf *res) { return heuristics(ret, res, req); }
int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void *, tensor_desc *, tensor_desc *, conv_desc *, tensor_desc *, int req, int *ret, perf *res) { return heuristics(ret, res, req); }
/* Find*Ex "measure" and return the usable algorithm after an oversized one;
 * they also check the scratch buffers they were handed. */
static int searches;
int sweep_emu_cudnn_searches(void) { return searches; }
static int find(const void *a, const void *b, const void *c, void *ws, size_t wss, int req, int *ret, perf *res) {
  if (!a || !b || !c || !ws || wss < 4096 || req < 2) return 2000;
  perf list[2] = {{7, 0, 0.5f, 0, wss + 1, 0, 0, {0}}, {2, 0, 1.0f, 0, 2048, 0, 0, {0}}};
  memcpy(res, list, sizeof list);
  *ret = 2;
  searches++;
  return 0;
}
int cudnnFindConvolutionForwardAlgorithmEx(void *, void *, const void *x, void *, const void *w, void *, void *, void *y,
                                           int req, int *ret, perf *res, void *ws, size_t wss) { return find(x, w, y, ws, wss, req, ret, res); }
int cudnnFindConvolutionBackwardDataAlgorithmEx(void *, void *, const void *w, void *, const void *dy, void *, void *, void *dx,
                                                int req, int *ret, perf *res, void *ws, size_t wss) { return find(w, dy, dx, ws, wss, req, ret, res); }
int cudnnFindConvolutionBackwardFilterAlgorithmEx(void *, void *, const void *x, void *, const void *dy, void *, void *, void *dw,
                                                  int req, int *ret, perf *res, void *ws, size_t wss) { return find(x, dy, dw, ws, wss, req, ret, res); }
/* Algorithms 1 (the heuristics' pick, 4096-byte workspace) and 2 (the
 * search's pick, 2048 bytes) compute the same thing. */
static int ws(int algo, size_t *size) {
  if (algo != 1 && algo != 2) return 2000;
  *size = algo == 1 ? 4096 : 2048;
  return 0;
}
static int bad_algo(int algo, size_t wss, void *wsp) { return (algo != 1 && algo != 2) || wss < (algo == 1 ? 4096u : 2048u) || !wsp; }
int cudnnGetConvolutionForwardWorkspaceSize(void *, void *, void *, void *, void *, int algo, size_t *s) { return ws(algo, s); }
int cudnnGetConvolutionBackwardDataWorkspaceSize(void *, void *, void *, void *, void *, int algo, size_t *s) { return ws(algo, s); }
int cudnnGetConvolutionBackwardFilterWorkspaceSize(void *, void *, void *, void *, void *, int algo, size_t *s) { return ws(algo, s); }

int cudnnConvolutionForward(void *, const float *alpha, tensor_desc *xd, const void *x, tensor_desc *wd, const void *w,
                            conv_desc *cd, int algo, void *wsp, size_t wss, const float *beta, tensor_desc *yd, void *y) {
  if (!sweep_emu_ctx_still(&dnn_ctx)) return 5000; /* CUDNN_STATUS_EXECUTION_FAILED */
  if (bad_algo(algo, wss, wsp) || xd->dt != wd->dt || xd->dt != yd->dt) return 2000;
  if (yd->dt != 0 && yd->c == sweep_emu_fail16()) return 5000;
  double *acc = (double *)calloc(count(yd), sizeof(double));
  visit(xd, wd, yd, cd, [&](long xi, long wi, long yi) { acc[yi] += (double)get(x, xd->dt, xi) * get(w, wd->dt, wi); });
  blend(y, yd->dt, acc, count(yd), *alpha, *beta);
  free(acc);
  return 0;
}

int cudnnConvolutionBackwardData(void *, const float *alpha, tensor_desc *wd, const void *w, tensor_desc *dyd, const void *dy,
                                 conv_desc *cd, int algo, void *wsp, size_t wss, const float *beta, tensor_desc *dxd, void *dx) {
  if (!sweep_emu_ctx_still(&dnn_ctx)) return 5000; /* CUDNN_STATUS_EXECUTION_FAILED */
  if (bad_algo(algo, wss, wsp)) return 2000;
  if (dyd->dt != 0 && dyd->c == sweep_emu_fail16()) return 5000;
  double *acc = (double *)calloc(count(dxd), sizeof(double));
  visit(dxd, wd, dyd, cd, [&](long xi, long wi, long yi) { acc[xi] += (double)get(dy, dyd->dt, yi) * get(w, wd->dt, wi); });
  blend(dx, dxd->dt, acc, count(dxd), *alpha, *beta);
  free(acc);
  return 0;
}

int cudnnConvolutionBackwardFilter(void *, const float *alpha, tensor_desc *xd, const void *x, tensor_desc *dyd, const void *dy,
                                   conv_desc *cd, int algo, void *wsp, size_t wss, const float *beta, tensor_desc *dwd, void *dw) {
  if (!sweep_emu_ctx_still(&dnn_ctx)) return 5000; /* CUDNN_STATUS_EXECUTION_FAILED */
  if (bad_algo(algo, wss, wsp)) return 2000;
  if (dyd->dt != 0 && dyd->c == sweep_emu_fail16()) return 5000;
  double *acc = (double *)calloc(count(dwd), sizeof(double));
  visit(xd, dwd, dyd, cd, [&](long xi, long wi, long yi) { acc[wi] += (double)get(x, xd->dt, xi) * get(dy, dyd->dt, yi); });
  blend(dw, dwd->dt, acc, count(dwd), *alpha, *beta);
  free(acc);
  return 0;
}
}

/* fakecuda.c: a host-memory stand-in for libcuda.so.1, compiled by the
 * driver tests to exercise the purego bindings without a GPU. "Device"
 * memory is malloc'd host memory, and the one kernel, "axpy", runs on the
 * host: y[i] += a * x[i] for i < n, with params (float* y, const float* x,
 * float a, int n). cuInit fails with CUDA_ERROR_NO_DEVICE (100) when
 * FAKECUDA_NODEV is set in the environment. */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

typedef int CUresult;
typedef uintptr_t CUdeviceptr;

static int launches;
int fakecuda_launches(void) { return launches; }

CUresult cuGetErrorName(CUresult r, const char **s) {
  switch (r) {
  case 2: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return 0;
  case 100: *s = "CUDA_ERROR_NO_DEVICE"; return 0;
  }
  return 1;
}
CUresult cuGetErrorString(CUresult r, const char **s) {
  switch (r) {
  case 2: *s = "out of memory"; return 0;
  case 100: *s = "no CUDA-capable device is detected"; return 0;
  }
  return 1;
}
CUresult cuInit(unsigned flags) { return getenv("FAKECUDA_NODEV") ? 100 : (flags == 0 ? 0 : 1); }
CUresult cuDriverGetVersion(int *v) { *v = 12040; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = 2; return 0; }
CUresult cuDeviceGet(int *d, int ord) { if (ord < 0 || ord > 1) return 101; *d = ord; return 0; }
CUresult cuDeviceGetName(char *name, int len, int d) { strncpy(name, d ? "Fake GPU B" : "Fake GPU A", len); return 0; }
CUresult cuDeviceGetAttribute(int *v, int attr, int d) {
  switch (attr) { case 16: *v = 132; return 0; case 75: *v = 9; return 0; case 76: *v = 0; return 0; }
  return 1;
}
CUresult cuDeviceTotalMem_v2(size_t *b, int d) { *b = (size_t)80 << 30; return 0; }
static int ctx_storage;
CUresult cuDevicePrimaryCtxRetain(void **c, int d) { *c = &ctx_storage; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int d) { return 0; }
CUresult cuCtxSetCurrent(void *c) { return c == &ctx_storage ? 0 : 201; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuMemGetInfo_v2(size_t *f, size_t *t) { *f = (size_t)79 << 30; *t = (size_t)80 << 30; return 0; }
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
  if (n > ((size_t)1 << 40)) return 2;
  *p = (CUdeviceptr)malloc(n); return *p ? 0 : 2;
}
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *)p); return 0; }
CUresult cuMemHostAlloc(void **p, size_t n, unsigned f) { *p = malloc(n); return 0; }
CUresult cuMemFreeHost(void *p) { free(p); return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) { memcpy((void *)d, s, n); return 0; }
CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) { memcpy(d, (void *)s, n); return 0; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, void *st) { memcpy((void *)d, s, n); return 0; }
CUresult cuMemcpyDtoHAsync_v2(void *d, CUdeviceptr s, size_t n, void *st) { memcpy(d, (void *)s, n); return 0; }
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, void *st) { memmove((void *)d, (void *)s, n); return 0; }
CUresult cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, void *st) {
  for (size_t i = 0; i < n; i++) ((unsigned *)d)[i] = v; return 0;
}
CUresult cuMemsetD16Async(CUdeviceptr d, unsigned short v, size_t n, void *st) {
  for (size_t i = 0; i < n; i++) ((unsigned short *)d)[i] = v; return 0;
}
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void *st) { memset((void *)d, v, n); return 0; }
CUresult cuStreamCreate(void **s, unsigned f) { *s = malloc(1); return f == 1 ? 0 : 1; }
CUresult cuStreamDestroy_v2(void *s) { free(s); return 0; }
CUresult cuStreamSynchronize(void *s) { return 0; }
CUresult cuStreamWaitEvent(void *s, void *e, unsigned f) { return 0; }
CUresult cuEventCreate(void **e, unsigned f) { *e = malloc(1); return 0; }
CUresult cuEventDestroy_v2(void *e) { free(e); return 0; }
CUresult cuEventRecord(void *e, void *s) { return 0; }
CUresult cuEventSynchronize(void *e) { return 0; }
CUresult cuEventElapsedTime(float *ms, void *a, void *b) { *ms = 1.5f; return 0; }
static int module_storage;
CUresult cuModuleLoadData(void **m, const void *img) {
  if (strncmp((const char *)img, "// fake ptx", 11) != 0) return 218;
  *m = &module_storage; return 0;
}
CUresult cuModuleUnload(void *m) { return 0; }
static void axpy(void **p) {
  float *y = *(float **)p[0];
  const float *x = *(const float **)p[1];
  float a = *(float *)p[2];
  int n = *(int *)p[3];
  for (int i = 0; i < n; i++) y[i] += a * x[i];
}
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
  if (strcmp(name, "axpy") != 0) return 500;
  *f = (void *)axpy; return 0;
}
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *stream, void **params, void **extra) {
  if (gx == 0 || bx == 0 || bx > 1024 || extra != NULL) return 1;
  launches++;
  ((void (*)(void **))f)(params);
  return 0;
}

/* fakegpu.cpp: a host stand-in for libcuda, libcublas and libnvrtc, built by
 * the cuda package's emulation test together with the kernel sources (see
 * emu.h) and generated trampolines (sweep_emu_kernel_table). It lets the
 * real Go backend run end to end on a CPU: device memory is malloc'd host
 * memory, streams are synchronous, kernels run on a thread pool, GEMM is a
 * plain column-major loop. cuDNN is absent, so convolutions take the
 * backend's im2col path. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

typedef int CUresult;
typedef void (*tramp_fn)(void **);
struct kernel_entry {
  const char *name;
  tramp_fn fn;
};
extern "C" kernel_entry sweep_emu_kernel_table[]; /* generated, NULL-terminated */

thread_local dim3 threadIdx;
dim3 blockIdx, blockDim, gridDim;

/* ---- thread pool: kMaxBlock workers, barriers for blocks and warps ---- */
enum { kMaxBlock = 256 };
static pthread_barrier_t start_bar, end_bar, block_bar, warp_bar[kMaxBlock / 32];
static pthread_mutex_t atomic_mu = PTHREAD_MUTEX_INITIALIZER;
static double warp_slots[kMaxBlock / 32][32];
static tramp_fn cur_fn;
static void **cur_params;
static int pool_started;

static void *worker(void *arg) {
  int id = (int)(intptr_t)arg;
  for (;;) {
    pthread_barrier_wait(&start_bar);
    threadIdx.x = id, threadIdx.y = 0, threadIdx.z = 0;
    cur_fn(cur_params);
    pthread_barrier_wait(&end_bar);
  }
  return NULL;
}

static void start_pool(void) {
  pthread_barrier_init(&start_bar, NULL, kMaxBlock + 1);
  pthread_barrier_init(&end_bar, NULL, kMaxBlock + 1);
  pthread_barrier_init(&block_bar, NULL, kMaxBlock);
  for (int w = 0; w < kMaxBlock / 32; w++) pthread_barrier_init(&warp_bar[w], NULL, 32);
  for (int i = 0; i < kMaxBlock; i++) {
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 1 << 20);
    pthread_create(&t, &a, worker, (void *)(intptr_t)i);
    pthread_detach(t);
  }
  pool_started = 1;
}

void sweep_emu_syncthreads(void) { pthread_barrier_wait(&block_bar); }

void sweep_emu_warp_exchange(double v, double *out, int delta) {
  int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  warp_slots[w][lane] = v;
  pthread_barrier_wait(&warp_bar[w]);
  *out = lane + delta < 32 ? warp_slots[w][lane + delta] : v;
  pthread_barrier_wait(&warp_bar[w]);
}

float sweep_emu_atomic_add_f(float *p, float v) {
  pthread_mutex_lock(&atomic_mu);
  float old = *p;
  *p = old + v;
  pthread_mutex_unlock(&atomic_mu);
  return old;
}
double sweep_emu_atomic_add_d(double *p, double v) {
  pthread_mutex_lock(&atomic_mu);
  double old = *p;
  *p = old + v;
  pthread_mutex_unlock(&atomic_mu);
  return old;
}
int sweep_emu_atomic_add_i(int *p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }

extern "C" {
/* ---- driver ---- */
static int launches;
int sweep_emu_launches(void) { return launches; }

CUresult cuGetErrorName(CUresult r, const char **s) { *s = r == 2 ? "CUDA_ERROR_OUT_OF_MEMORY" : "CUDA_ERROR_EMULATED"; return 0; }
CUresult cuGetErrorString(CUresult r, const char **s) { *s = "emulated error"; return 0; }
CUresult cuInit(unsigned) { return 0; }
CUresult cuDriverGetVersion(int *v) { *v = 12040; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int ord) { if (ord != 0) return 101; *d = 0; return 0; }
CUresult cuDeviceGetName(char *name, int len, int) { strncpy(name, "CPU emulation", len); return 0; }
CUresult cuDeviceGetAttribute(int *v, int attr, int) {
  switch (attr) { case 16: *v = 2; return 0; case 75: *v = 8; return 0; case 76: *v = 0; return 0; }
  return 1;
}
CUresult cuDeviceTotalMem_v2(size_t *b, int) { *b = (size_t)1 << 30; return 0; }
static int ctx_storage;
CUresult cuDevicePrimaryCtxRetain(void **c, int) { *c = &ctx_storage; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int) { return 0; }
CUresult cuCtxSetCurrent(void *c) { return c == &ctx_storage ? 0 : 201; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuMemGetInfo_v2(size_t *f, size_t *t) { *f = (size_t)1 << 29; *t = (size_t)1 << 30; return 0; }
CUresult cuMemAlloc_v2(uintptr_t *p, size_t n) { *p = (uintptr_t)malloc(n ? n : 1); return *p ? 0 : 2; }
CUresult cuMemFree_v2(uintptr_t p) { free((void *)p); return 0; }
CUresult cuMemHostAlloc(void **p, size_t n, unsigned) { *p = malloc(n); return 0; }
CUresult cuMemFreeHost(void *p) { free(p); return 0; }
CUresult cuMemcpyHtoD_v2(uintptr_t d, const void *s, size_t n) { memcpy((void *)d, s, n); return 0; }
CUresult cuMemcpyDtoH_v2(void *d, uintptr_t s, size_t n) { memcpy(d, (void *)s, n); return 0; }
CUresult cuMemcpyHtoDAsync_v2(uintptr_t d, const void *s, size_t n, void *) { memcpy((void *)d, s, n); return 0; }
CUresult cuMemcpyDtoHAsync_v2(void *d, uintptr_t s, size_t n, void *) { memcpy(d, (void *)s, n); return 0; }
CUresult cuMemcpyDtoDAsync_v2(uintptr_t d, uintptr_t s, size_t n, void *) { memmove((void *)d, (void *)s, n); return 0; }
CUresult cuMemsetD32Async(uintptr_t d, unsigned v, size_t n, void *) { for (size_t i = 0; i < n; i++) ((unsigned *)d)[i] = v; return 0; }
CUresult cuMemsetD16Async(uintptr_t d, unsigned short v, size_t n, void *) { for (size_t i = 0; i < n; i++) ((unsigned short *)d)[i] = v; return 0; }
CUresult cuMemsetD8Async(uintptr_t d, unsigned char v, size_t n, void *) { memset((void *)d, v, n); return 0; }
CUresult cuStreamCreate(void **s, unsigned) { *s = malloc(1); return 0; }
CUresult cuStreamDestroy_v2(void *s) { free(s); return 0; }
CUresult cuStreamSynchronize(void *) { return 0; }
CUresult cuStreamWaitEvent(void *, void *, unsigned) { return 0; }
CUresult cuEventCreate(void **e, unsigned) { *e = malloc(1); return 0; }
CUresult cuEventDestroy_v2(void *e) { free(e); return 0; }
CUresult cuEventRecord(void *, void *) { return 0; }
CUresult cuEventSynchronize(void *) { return 0; }
CUresult cuEventElapsedTime(float *ms, void *, void *) { *ms = 0; return 0; }
static int module_storage;
CUresult cuModuleLoadData(void **m, const void *img) {
  if (strncmp((const char *)img, "// emulated", 11) != 0) return 218;
  *m = &module_storage;
  return 0;
}
CUresult cuModuleUnload(void *) { return 0; }
CUresult cuModuleGetFunction(void **f, void *, const char *name) {
  for (kernel_entry *k = sweep_emu_kernel_table; k->name; k++)
    if (strcmp(k->name, name) == 0) { *f = (void *)k->fn; return 0; }
  return 500;
}
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *, void **params, void **extra) {
  if (gx == 0 || gy != 1 || gz != 1 || bx != kMaxBlock || by != 1 || bz != 1 || shared != 0 || extra) return 1;
  if (!pool_started) start_pool();
  launches++;
  cur_fn = (tramp_fn)f;
  cur_params = params;
  blockDim.x = bx, blockDim.y = 1, blockDim.z = 1;
  gridDim.x = gx, gridDim.y = 1, gridDim.z = 1;
  for (unsigned b = 0; b < gx; b++) {
    blockIdx.x = b, blockIdx.y = 0, blockIdx.z = 0;
    pthread_barrier_wait(&start_bar);
    pthread_barrier_wait(&end_bar);
  }
  return 0;
}

/* ---- cuBLAS (column-major, as the real library) ---- */
static int blas_handle;
int cublasCreate_v2(void **h) { *h = &blas_handle; return 0; }
int cublasDestroy_v2(void *) { return 0; }
int cublasSetStream_v2(void *, void *) { return 0; }
int cublasSetMathMode(void *, int) { return 0; }
int cublasGetProperty(int type, int *v) { *v = type == 0 ? 12 : type == 1 ? 4 : 5; return 0; }

static float load(const void *p, int type, long i) {
  if (type == 0) return ((const float *)p)[i];
  unsigned short b = ((const unsigned short *)p)[i];
  if (type == 14) return __int_as_float((int)((unsigned)b << 16));
  return sweep_host_f16_to_f32(b);
}

static int gemm(int ta, int tb, int m, int n, int k, float alpha, const void *a, int atype, int lda, const void *b,
                int btype, int ldb, float beta, float *c, int ldc) {
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) {
      double s = 0;
      for (int p = 0; p < k; p++) {
        float av = ta ? load(a, atype, p + (long)i * lda) : load(a, atype, i + (long)p * lda);
        float bv = tb ? load(b, btype, j + (long)p * ldb) : load(b, btype, p + (long)j * ldb);
        s += (double)av * bv;
      }
      float *cij = &c[i + (long)j * ldc];
      *cij = beta == 0 ? alpha * (float)s : alpha * (float)s + beta * *cij;
    }
  return 0;
}

int cublasSgemm_v2(void *, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda,
                   const float *b, int ldb, const float *beta, float *c, int ldc) {
  return gemm(ta, tb, m, n, k, *alpha, a, 0, lda, b, 0, ldb, *beta, c, ldc);
}

int cublasGemmEx(void *, int ta, int tb, int m, int n, int k, const float *alpha, const void *a, int atype, int lda,
                 const void *b, int btype, int ldb, const float *beta, void *c, int ctype, int ldc, int compute, int) {
  if (ctype != 0 || compute != 68) return 15; /* emulation: float32 output and compute only */
  return gemm(ta, tb, m, n, k, *alpha, a, atype, lda, b, btype, ldb, *beta, (float *)c, ldc);
}

/* ---- NVRTC: "compiles" to a marker; the kernels are already linked ---- */
const char *nvrtcGetErrorString(int) { return "NVRTC_ERROR_EMULATED"; }
int nvrtcVersion(int *ma, int *mi) { *ma = 12; *mi = 4; return 0; }
static int prog_storage;
int nvrtcCreateProgram(void **p, const char *, const char *, int, const char **, const char **) { *p = &prog_storage; return 0; }
int nvrtcDestroyProgram(void **p) { *p = 0; return 0; }
int nvrtcCompileProgram(void *, int, const char **) { return 0; }
static const char marker[] = "// emulated";
int nvrtcGetPTXSize(void *, size_t *n) { *n = sizeof marker; return 0; }
int nvrtcGetPTX(void *, char *b) { memcpy(b, marker, sizeof marker); return 0; }
int nvrtcGetCUBINSize(void *, size_t *n) { *n = sizeof marker; return 0; }
int nvrtcGetCUBIN(void *, char *b) { memcpy(b, marker, sizeof marker); return 0; }
int nvrtcGetProgramLogSize(void *, size_t *n) { *n = 1; return 0; }
int nvrtcGetProgramLog(void *, char *b) { *b = 0; return 0; }
}

/* fakegpu.cpp: a host stand-in for libcuda, libcublas and libnvrtc, built by
 * the cuda package's emulation test together with the kernel sources (see
 * emu.h) and generated trampolines (sweep_emu_kernel_table). It lets the
 * real Go backend run end to end on a CPU: device memory is malloc'd host
 * memory, streams are synchronous, kernels run as coroutines, GEMM is a
 * plain column-major loop. fakecudnn.cpp adds cuDNN's convolutions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <ucontext.h>

#include "emu.h"

typedef int CUresult;
typedef void (*tramp_fn)(void **);
struct kernel_entry {
  const char *name;
  tramp_fn fn;
  int sync; /* uses barriers or shuffles: needs one thread per CUDA thread */
};
extern "C" kernel_entry sweep_emu_kernel_table[]; /* generated, NULL-terminated */

dim3 threadIdx, blockIdx, blockDim, gridDim;

/* ---- cooperative threads: one ucontext per CUDA thread of a block ----
 * Kernels with barriers run their block's threads as coroutines on the
 * launching OS thread: a thread runs until it reaches a barrier, and a
 * barrier releases when every thread of its group (the block, or the
 * warp for shuffles) has arrived. Everything else runs threads in order. */
enum { kMaxBlock = 256, kStack = 64 << 10 };
static ucontext_t boot_ctx, thread_ctx[kMaxBlock];
static jmp_buf sched_jb, thread_jb[kMaxBlock];
static char *stacks[kMaxBlock];
static int cur, nthreads, started[kMaxBlock], done[kMaxBlock], waiting[kMaxBlock];
static int block_arrived, warp_arrived[kMaxBlock / 32];
static double warp_slots[kMaxBlock / 32][32];
static tramp_fn cur_fn;
static void **cur_params;

/* Switching: a thread's first entry goes through makecontext/swapcontext
 * (its own stack); every later switch is _setjmp/_longjmp, which does not
 * save the signal mask and so costs no system call. */
static void yield_to_scheduler(void) {
  if (!_setjmp(thread_jb[cur])) _longjmp(sched_jb, 1);
}

static void run_thread(void) {
  cur_fn(cur_params);
  done[cur] = 1;
  _longjmp(sched_jb, 1);
}

/* arrive blocks the current thread at a barrier of the group [lo, hi). */
static void arrive(int *arrived, int lo, int hi) {
  if (++*arrived == hi - lo) {
    *arrived = 0;
    for (int i = lo; i < hi; i++) waiting[i] = 0;
    return; /* the last to arrive continues at once */
  }
  waiting[cur] = 1;
  yield_to_scheduler();
}

static void resume(int i) {
  cur = i;
  threadIdx.x = i, threadIdx.y = 0, threadIdx.z = 0;
  if (_setjmp(sched_jb)) return; /* the thread yielded or finished */
  if (!started[i]) {
    started[i] = 1;
    swapcontext(&boot_ctx, &thread_ctx[i]);
  }
  _longjmp(thread_jb[i], 1);
}

static void run_block_cooperatively(int n) {
  nthreads = n;
  for (int i = 0; i < n; i++) {
    if (!stacks[i]) stacks[i] = (char *)malloc(kStack);
    getcontext(&thread_ctx[i]);
    thread_ctx[i].uc_stack.ss_sp = stacks[i];
    thread_ctx[i].uc_stack.ss_size = kStack;
    thread_ctx[i].uc_link = NULL;
    makecontext(&thread_ctx[i], run_thread, 0);
    started[i] = done[i] = waiting[i] = 0;
  }
  for (int left = n; left > 0;) {
    int progressed = 0;
    for (int i = 0; i < n; i++) {
      if (done[i] || waiting[i]) continue;
      resume(i);
      progressed = 1;
      if (done[i]) left--;
    }
    if (!progressed) {
      fprintf(stderr, "fakegpu: deadlock: threads wait at barriers that cannot release\n");
      abort();
    }
  }
}

void sweep_emu_syncthreads(void) { arrive(&block_arrived, 0, nthreads); }

void sweep_emu_warp_exchange(double v, double *out, int delta) {
  int lane = cur & 31, w = cur >> 5;
  warp_slots[w][lane] = v;
  arrive(&warp_arrived[w], w * 32, w * 32 + 32);
  *out = lane + delta < 32 ? warp_slots[w][lane + delta] : v;
  arrive(&warp_arrived[w], w * 32, w * 32 + 32);
}

float sweep_emu_atomic_add_f(float *p, float v) {
  float old = *p;
  *p = old + v;
  return old;
}
double sweep_emu_atomic_add_d(double *p, double v) {
  double old = *p;
  *p = old + v;
  return old;
}
int sweep_emu_atomic_add_i(int *p, int v) {
  int old = *p;
  *p = old + v;
  return old;
}

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
/* The primary context is reference-counted as the real one: the last
 * release destroys it and the next retain creates a new one, with a new
 * handle. cuBLAS and cuDNN keep state tied to the context they first ran in
 * (sweep_emu_ctx_still), so their calls fail once that context is gone. */
enum { kContexts = 1024 };
static int ctx_refs, ctx_gen, ctx_storage[kContexts];
static void *live_ctx(void) { return ctx_refs ? &ctx_storage[ctx_gen % kContexts] : 0; }
int sweep_emu_ctx_refs(void) { return ctx_refs; }
int sweep_emu_ctx_created(void) { return ctx_gen; }
/* sweep_emu_ctx_still records the live context in *first on a library's
 * first call and reports whether that context is still alive. */
int sweep_emu_ctx_still(int *first) {
  if (!*first) *first = ctx_gen;
  return ctx_refs > 0 && *first == ctx_gen;
}
CUresult cuDevicePrimaryCtxRetain(void **c, int) {
  if (ctx_refs++ == 0) ctx_gen++;
  *c = live_ctx();
  return 0;
}
CUresult cuDevicePrimaryCtxRelease_v2(int) {
  if (ctx_refs == 0) return 201; /* CUDA_ERROR_INVALID_CONTEXT */
  ctx_refs--;
  return 0;
}
CUresult cuCtxSetCurrent(void *c) { return c && c == live_ctx() ? 0 : 201; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuMemGetInfo_v2(size_t *f, size_t *t) { *f = (size_t)1 << 29; *t = (size_t)1 << 30; return 0; }
CUresult cuMemAlloc_v2(uintptr_t *p, size_t n) {
  if (n > ((size_t)1 << 30)) return 2; /* the emulated device has 1 GiB */
  *p = (uintptr_t)malloc(n ? n : 1);
  return *p ? 0 : 2;
}
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
    if (strcmp(k->name, name) == 0) { *f = (void *)k; return 0; }
  return 500;
}
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *, void **params, void **extra) {
  if (gx == 0 || gy != 1 || gz != 1 || bx != kMaxBlock || by != 1 || bz != 1 || shared != 0 || extra) return 1;
  kernel_entry *k = (kernel_entry *)f;
  launches++;
  blockDim.x = bx, blockDim.y = 1, blockDim.z = 1;
  gridDim.x = gx, gridDim.y = 1, gridDim.z = 1;
  if (!k->sync) { /* no barriers: run the threads in order, here */
    for (unsigned b = 0; b < gx; b++) {
      blockIdx.x = b, blockIdx.y = 0, blockIdx.z = 0;
      for (unsigned t = 0; t < bx; t++) {
        threadIdx.x = t, threadIdx.y = 0, threadIdx.z = 0;
        k->fn(params);
      }
    }
    return 0;
  }
  cur_fn = k->fn;
  cur_params = params;
  for (unsigned b = 0; b < gx; b++) {
    blockIdx.x = b, blockIdx.y = 0, blockIdx.z = 0;
    run_block_cooperatively((int)bx);
  }
  return 0;
}

/* ---- cuBLAS (column-major, as the real library) ---- */
static int blas_handle, blas_ctx;
int cublasCreate_v2(void **h) {
  if (!sweep_emu_ctx_still(&blas_ctx)) return 1; /* CUBLAS_STATUS_NOT_INITIALIZED */
  *h = &blas_handle;
  return 0;
}
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
  if (!sweep_emu_ctx_still(&blas_ctx)) return 13; /* CUBLAS_STATUS_EXECUTION_FAILED */
  return gemm(ta, tb, m, n, k, *alpha, a, 0, lda, b, 0, ldb, *beta, c, ldc);
}

/* sweep_emu_fail_16bit(d) makes every 16-bit cuBLAS GEMM with a dimension
 * d and every 16-bit cuDNN convolution with d output channels fail at
 * execution (0: none), as a plan the library accepted but cannot run. */
static int fail16;
void sweep_emu_fail_16bit(int d) { fail16 = d; }
int sweep_emu_fail16(void) { return fail16; }

int cublasGemmEx(void *, int ta, int tb, int m, int n, int k, const float *alpha, const void *a, int atype, int lda,
                 const void *b, int btype, int ldb, const float *beta, void *c, int ctype, int ldc, int compute, int) {
  if (!sweep_emu_ctx_still(&blas_ctx)) return 13;
  if (atype != 0 && fail16 && (m == fail16 || n == fail16 || k == fail16)) return 13; /* EXECUTION_FAILED */
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

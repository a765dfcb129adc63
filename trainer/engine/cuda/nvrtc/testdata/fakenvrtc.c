/* fakenvrtc.c: a stand-in for libnvrtc used by the nvrtc tests. "Compiling"
 * copies the source, prefixed by the architecture option, into the output;
 * a source containing "#error" fails with NVRTC_ERROR_COMPILATION (6) and a
 * log. Only sm_70 and sm_80 are "supported". */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

typedef struct { char *src; char *out; char *log; } prog;
static int compiles;
int fakenvrtc_compiles(void) { return compiles; }

const char *nvrtcGetErrorString(int r) { return r == 6 ? "NVRTC_ERROR_COMPILATION" : "NVRTC_ERROR_OTHER"; }
int nvrtcVersion(int *ma, int *mi) { *ma = 12; *mi = 4; return 0; }
int nvrtcGetNumSupportedArchs(int *n) { *n = 2; return 0; }
int nvrtcGetSupportedArchs(int *a) { a[0] = 80; a[1] = 70; return 0; }
int nvrtcCreateProgram(prog **p, const char *src, const char *name, int nh, const char **h, const char **inc) {
  *p = calloc(1, sizeof(prog)); (*p)->src = strdup(src); return 0;
}
int nvrtcDestroyProgram(prog **p) { free((*p)->src); free((*p)->out); free((*p)->log); free(*p); *p = 0; return 0; }
int nvrtcCompileProgram(prog *p, int n, const char **opts) {
  compiles++;
  if (strstr(p->src, "#error")) { p->log = strdup("kernel.cu(1): error: the #error directive\n"); return 6; }
  const char *arch = n > 0 ? opts[0] : "";
  p->out = malloc(strlen(arch) + strlen(p->src) + 3);
  sprintf(p->out, "%s\n%s", arch, p->src);
  return 0;
}
int nvrtcGetPTXSize(prog *p, size_t *n) { *n = strlen(p->out) + 1; return 0; }
int nvrtcGetPTX(prog *p, char *b) { strcpy(b, p->out); return 0; }
int nvrtcGetCUBINSize(prog *p, size_t *n) { *n = strlen(p->out); return 0; }
int nvrtcGetCUBIN(prog *p, char *b) { memcpy(b, p->out, strlen(p->out)); return 0; }
int nvrtcGetProgramLogSize(prog *p, size_t *n) { *n = p->log ? strlen(p->log) + 1 : 1; return 0; }
int nvrtcGetProgramLog(prog *p, char *b) { strcpy(b, p->log ? p->log : ""); return 0; }

// Package kernels holds sweep's CUDA C kernels as source files, compiled at
// run time by NVRTC (see package nvrtc). Every kernel is extern "C", works on
// contiguous row-major data and uses a grid-stride loop or one block per
// row/channel as its comment says; launch geometry is the caller's job.
//
// It does not compile or launch anything. The clang syntax check in
// kernels_test.go compiles Source against sweep_cuda.h, a declarations header
// of our own, because no CUDA headers exist at build time.
package kernels

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed common.cuh *.cu
var files embed.FS

// Header is the declarations header for syntax checks with clang.
//
//go:embed sweep_cuda.h
var Header string

// Source returns the whole program: common.cuh followed by every .cu file
// in name order. Its text (and so its hash) changes only when a file does.
func Source() string {
	var b strings.Builder
	common, _ := fs.ReadFile(files, "common.cuh") // embedded: cannot fail
	b.Write(common)
	names, _ := fs.Glob(files, "*.cu")
	sort.Strings(names)
	for _, n := range names {
		src, _ := fs.ReadFile(files, n)
		b.WriteString("\n// ---- " + n + " ----\n")
		b.Write(src)
	}
	return b.String()
}

// Names lists the kernels defined in Source (every extern "C" __global__).
func Names() []string {
	var out []string
	for _, line := range strings.Split(Source(), "\n") {
		rest, ok := strings.CutPrefix(line, `extern "C" __global__ void `)
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '('); i > 0 {
			out = append(out, rest[:i])
		}
	}
	return out
}

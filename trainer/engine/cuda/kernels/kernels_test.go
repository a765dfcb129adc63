package kernels

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSource_ClangSyntax compiles the whole kernel program for the device
// with clang in CUDA mode, against our declarations header. It catches
// typos, undeclared names and type errors; it cannot catch what only NVRTC
// or the GPU would (PTX assembly in asm strings, wrong results).
func TestSource_ClangSyntax(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed (scripts/deps.sh installs it): kernel syntax not checked")
	}
	dir := t.TempDir()
	hdr := filepath.Join(dir, "sweep_cuda.h")
	src := filepath.Join(dir, "sweep_kernels.cu")
	if err := os.WriteFile(hdr, []byte(Header), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, []byte(Source()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"sm_70", "sm_80", "sm_86"} {
		t.Run(arch, func(t *testing.T) {
			out, err := exec.Command(clang, "-x", "cuda", "--cuda-gpu-arch="+arch, "--cuda-device-only",
				"-nocudainc", "-nocudalib", "-fsyntax-only", "-Wall", "-Werror", "-Wno-unknown-cuda-version",
				"-include", hdr, src).CombinedOutput()
			if err != nil {
				t.Fatalf("clang: %v\n%s", err, out)
			}
		})
	}
}

// TestSource_ClangPTX goes past the syntax check: clang generates PTX for
// sm_80 (inline PTX assembly constraints are checked in code generation),
// and every kernel must appear as an .entry. Math functions stay external
// declarations (no libdevice here); NVRTC resolves them at run time.
func TestSource_ClangPTX(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed: PTX generation not checked")
	}
	dir := t.TempDir()
	hdr, src, ptx := filepath.Join(dir, "sweep_cuda.h"), filepath.Join(dir, "k.cu"), filepath.Join(dir, "k.ptx")
	os.WriteFile(hdr, []byte(Header), 0o644)
	os.WriteFile(src, []byte(Source()), 0o644)
	out, err := exec.Command(clang, "-x", "cuda", "--cuda-gpu-arch=sm_80", "--cuda-device-only", "-nocudainc",
		"-nocudalib", "-O2", "-S", "-Wno-unknown-cuda-version", "-include", hdr, src, "-o", ptx).CombinedOutput()
	if err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	b, err := os.ReadFile(ptx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		if !strings.Contains(string(b), ".entry "+name+"(") {
			t.Errorf("kernel %s has no .entry in the PTX", name)
		}
	}
}

// TestSource_ClangRejectsErrors makes sure the syntax check can fail.
func TestSource_ClangRejectsErrors(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed")
	}
	dir := t.TempDir()
	hdr := filepath.Join(dir, "sweep_cuda.h")
	src := filepath.Join(dir, "bad.cu")
	os.WriteFile(hdr, []byte(Header), 0o644)
	bad := Source() + "\nextern \"C\" __global__ void broken(float *y) { y[0] = undeclared_fn(y[1]); }\n"
	os.WriteFile(src, []byte(bad), 0o644)
	out, err := exec.Command(clang, "-x", "cuda", "--cuda-gpu-arch=sm_80", "--cuda-device-only", "-nocudainc",
		"-nocudalib", "-fsyntax-only", "-include", hdr, src).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "undeclared_fn") {
		t.Fatalf("clang accepted a call to an undeclared function: %v\n%s", err, out)
	}
}

func TestNames(t *testing.T) {
	names := Names()
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("kernel %s defined twice", n)
		}
		seen[n] = true
	}
	for _, want := range []string{"fill_f32", "softmax_xent_f32", "bn_stats_f32", "adamw_step_f32", "crop_flip_f32", "col2im_f32"} {
		if !seen[want] {
			t.Errorf("kernel %s missing from Names() = %v", want, names)
		}
	}
}

package cuda

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ebitengine/purego"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cuda/driver"
	"sweep/trainer/engine/cuda/dynlib"
	"sweep/trainer/engine/cuda/kernels"
	"sweep/trainer/engine/enginetest"
)

// The CPU emulation: the kernel sources compiled as C++ for the host (see
// testdata/emu/emu.h), linked with a fake driver, cuBLAS and NVRTC
// (testdata/emu/fakegpu.cpp) into one library that the real backend loads
// through purego. It checks the Go side (bindings, launch arguments,
// shapes, memory) and the kernels' arithmetic on machines without a GPU.
// It cannot check NVRTC, PTX, cuDNN or real GPU timing and concurrency.

var emu struct {
	once sync.Once
	dir  string
	err  error
	skip string
}

// trampolines generates, for every kernel, a C function that unpacks a
// cuLaunchKernel parameter array and calls the kernel, plus the table the
// fake cuModuleGetFunction searches.
func trampolines(src string) (string, error) {
	var b, table strings.Builder
	for _, name := range kernels.Names() {
		head := `extern "C" __global__ void ` + name + "("
		i := strings.Index(src, head)
		if i < 0 {
			return "", fmt.Errorf("kernel %s: signature not found", name)
		}
		rest := src[i+len(head):]
		params := rest[:strings.IndexByte(rest, ')')]
		var args []string
		for j, p := range strings.Split(params, ",") {
			p = strings.TrimSpace(p)
			k := strings.LastIndexAny(p, " *")
			if k < 0 {
				return "", fmt.Errorf("kernel %s: cannot parse parameter %q", name, p)
			}
			args = append(args, fmt.Sprintf("*(%s *)p[%d]", strings.TrimSpace(p[:k+1]), j))
		}
		// Kernels without barriers or shuffles run their threads one
		// after another on the launching thread: much faster, same result.
		body := rest
		if j := strings.Index(body, `extern "C"`); j > 0 {
			body = body[:j]
		}
		sync := 0
		if strings.Contains(body, "block_sum(") || strings.Contains(body, "__syncthreads") || strings.Contains(body, "__shfl") {
			sync = 1
		}
		fmt.Fprintf(&b, "extern \"C\" void tramp_%s(void **p) { %s(%s); }\n", name, name, strings.Join(args, ", "))
		fmt.Fprintf(&table, "  {\"%s\", tramp_%s, %d},\n", name, name, sync)
	}
	fmt.Fprintf(&b, "struct kernel_entry { const char *name; void (*fn)(void **); int sync; };\n"+
		"extern \"C\" kernel_entry sweep_emu_kernel_table[] = {\n%s  {0, 0, 0}};\n", table.String())
	return b.String(), nil
}

func buildEmulator() {
	cxx := ""
	for _, c := range []string{"clang++", "g++", "c++"} {
		if p, err := exec.LookPath(c); err == nil {
			cxx = p
			break
		}
	}
	if cxx == "" {
		emu.skip = "no C++ compiler (clang++, g++): the CPU emulation of the GPU backend is not built"
		return
	}
	dir, err := emuDir()
	if err != nil {
		emu.err = err
		return
	}
	emu.dir = dir
	src := kernels.Source()
	tr, err := trampolines(src)
	if err != nil {
		emu.err = err
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "kernels.cpp"), []byte(src+"\n"+tr), 0o644); err != nil {
		emu.err = err
		return
	}
	emuDir, _ := filepath.Abs("testdata/emu")
	lib := filepath.Join(dir, "libcuda.so.1")
	cmd := exec.Command(cxx, "-std=c++17", "-O1", "-shared", "-fPIC", "-w", "-I", emuDir,
		"-include", filepath.Join(emuDir, "emu.h"), filepath.Join(dir, "kernels.cpp"),
		filepath.Join(emuDir, "fakegpu.cpp"), filepath.Join(emuDir, "fakecudnn.cpp"), "-o", lib)
	if out, err := cmd.CombinedOutput(); err != nil {
		emu.err = fmt.Errorf("build emulator: %v\n%s", err, out)
		return
	}
	for _, alias := range []string{"libcublas.so.12", "libnvrtc.so.12", "libcudnn.so.9"} {
		if err := os.Symlink("libcuda.so.1", filepath.Join(dir, alias)); err != nil {
			emu.err = err
			return
		}
	}
}

// envEmuDir names a directory where the emulation's libraries are built
// and kept (the test process normally deletes them): `make
// gpu-check-dry-run` runs scripts/gpu-check.sh against them through
// SWEEP_CUDA_LIB_PATH.
const envEmuDir = "SWEEP_CUDA_EMU_DIR"

// emuDir returns $SWEEP_CUDA_EMU_DIR, emptied of earlier libraries, or a
// new temporary directory.
func emuDir() (string, error) {
	dir := os.Getenv(envEmuDir)
	if dir == "" {
		return os.MkdirTemp("", "sweep-cuda-emu-")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, f := range []string{"kernels.cpp", "libcuda.so.1", "libcublas.so.12", "libnvrtc.so.12", "libcudnn.so.9"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			return "", err
		}
	}
	return dir, nil
}

// emulated returns a backend running on the CPU emulation, with the fake
// cuDNN (see emulatedWith).
func emulated(t *testing.T) *Backend {
	t.Helper()
	return emulatedWith(t, Options{})
}

// emulatedWith returns an emulated backend with options o (NoCuDNN selects
// the im2col convolutions).
func emulatedWith(t *testing.T, o Options) *Backend {
	t.Helper()
	emuBuilt(t)
	f := dynlib.NewFinder()
	f.Loader, f.Root = false, emu.dir
	f.Getenv = func(k string) string {
		if k == dynlib.EnvLibPath {
			return emu.dir
		}
		return ""
	}
	o.Finder, o.CacheDir = f, t.TempDir()
	b, err := New(o)
	if err != nil {
		t.Fatalf("New on the emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// checkRetains releases the process-wide primary contexts and checks the
// emulated driver then holds no retain: every backend, probe and test
// released what it retained.
func checkRetains() int {
	if err := driver.CloseShared(); err != nil {
		fmt.Fprintln(os.Stderr, "driver.CloseShared:", err)
		return 1
	}
	h, err := purego.Dlopen(filepath.Join(emu.dir, "libcuda.so.1"), purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return 0 // the emulation was never built
	}
	p, err := purego.Dlsym(h, "sweep_emu_ctx_refs")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if refs := int32(dynlib.Func(p).Call()); refs != 0 {
		fmt.Fprintf(os.Stderr, "emulated driver: %d primary-context retains left after CloseShared\n", refs)
		return 1
	}
	return 0
}

// emuBuilt builds the emulation library once per process, skipping t
// without a C++ compiler.
func emuBuilt(t *testing.T) {
	t.Helper()
	emu.once.Do(buildEmulator)
	if emu.skip != "" {
		t.Skip(emu.skip)
	}
	if emu.err != nil {
		t.Fatal(emu.err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if emu.dir != "" && code == 0 {
		code = checkRetains()
	}
	if emu.dir != "" && os.Getenv(envEmuDir) == "" {
		os.RemoveAll(emu.dir)
	}
	os.Exit(code)
}

// TestEmulated_Conformance runs the engine conformance suite against the
// real backend code on the CPU emulation, with the (fake) cuDNN
// convolutions and with the im2col ones.
func TestEmulated_Conformance(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"cuDNN", Options{}, "cuDNN 9.1.0"},
		{"cuDNN-search", Options{Search: true, WorkspaceLimit: 1 << 20}, "cuDNN 9.1.0"},
		{"im2col", Options{NoCuDNN: true}, "im2col convolutions"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := emulatedWith(t, c.o)
			if !strings.Contains(b.Name(), "CPU emulation") || !strings.Contains(b.Name(), c.want) {
				t.Fatalf("Name = %q, want it to mention %q", b.Name(), c.want)
			}
			enginetest.TestBackend(t, b)
			if err := b.Sync(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestEmulated_Search checks that Options.Search replaces the heuristic
// algorithm choice with the measured one (the fake cuDNN's heuristics pick
// algorithm 1, its search algorithm 2) and that results stay right.
func TestEmulated_Search(t *testing.T) {
	for _, search := range []bool{false, true} {
		b := emulatedWith(t, Options{Search: search, WorkspaceLimit: 1 << 20})
		x, _ := enginetest.Tensor(b, 1, engine.Shape{2, 3, 5, 5})
		w, _ := enginetest.Tensor(b, 2, engine.Shape{4, 3, 3, 3})
		y := engine.New(b, engine.Float32, engine.Shape{2, 4, 5, 5})
		b.ConvForward(engine.ConvDesc{PadH: 1, PadW: 1}, x, w, y)
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		if len(b.plans) != 1 {
			t.Fatalf("%d plans, want 1", len(b.plans))
		}
		want := map[bool][2]int{false: {1, 4096}, true: {2, 2048}}[search]
		for _, p := range b.plans {
			got := [2]int{int(p.FwdAlgo), p.FwdWorkspace}
			if got != want || int(p.BwdDataAlgo) != want[0] || int(p.BwdFilterAlgo) != want[0] {
				t.Errorf("search=%v: forward algorithm/workspace %v, bwd %d/%d; want %v", search, got, p.BwdDataAlgo, p.BwdFilterAlgo, want)
			}
		}
	}
}

// TestEmulated_OutOfMemory checks that a device allocation failure reaches
// the engine as ErrOutOfMemory, naming the driver's error.
func TestEmulated_OutOfMemory(t *testing.T) {
	b := emulated(t)
	_, err := b.Alloc(engine.Float32, 1<<29) // 2 GiB on a 1 GiB device
	if !errors.Is(err, engine.ErrOutOfMemory) || !strings.Contains(err.Error(), "CUDA_ERROR_OUT_OF_MEMORY") {
		t.Fatalf("err = %v, want ErrOutOfMemory from CUDA_ERROR_OUT_OF_MEMORY", err)
	}
	if _, err := b.Alloc(engine.Float32, 1000); err != nil {
		t.Fatalf("small Alloc after the failure: %v", err)
	}
}

// TestEmulated_Precision checks 16-bit storage, casts and the bf16 GEMM
// autocast on the emulation.
func TestEmulated_Precision(t *testing.T) {
	b := emulated(t)
	for _, dt := range []engine.DType{engine.BFloat16, engine.Float16} {
		src := []float32{1, -2.5, 3.140625, 1e-3, 65504, 0}
		h := engine.New(b, dt, engine.Shape{6})
		f := engine.New(b, engine.Float32, engine.Shape{6})
		b.CopyIn(h, src)
		b.Copy(f, h) // device cast
		back := engine.ToHost(b, h)
		got := engine.ToHost(b, f)
		for i := range src {
			if got[i] != back[i] || relErr(got[i], src[i]) > 4e-3 {
				t.Errorf("%v: %v → device cast %v, host %v", dt, src[i], got[i], back[i])
			}
		}
		h2 := engine.New(b, dt, engine.Shape{6})
		b.Copy(h2, f)
		if again := engine.ToHost(b, h2); fmt.Sprint(again) != fmt.Sprint(back) {
			t.Errorf("%v: f32→16-bit device cast %v, host %v", dt, again, back)
		}
	}
	if err := b.SetPrecision(engine.BFloat16); err != nil {
		t.Fatal(err)
	}
	a, ah := enginetest.Tensor(b, 1, engine.Shape{8, 16})
	w, wh := enginetest.Tensor(b, 2, engine.Shape{16, 4})
	c := engine.New(b, engine.Float32, engine.Shape{8, 4})
	b.Gemm(false, false, 1, a, w, 0, c)
	got := engine.ToHost(b, c)
	for i := 0; i < 8; i++ {
		for j := 0; j < 4; j++ {
			var s float64
			for k := 0; k < 16; k++ {
				s += float64(ah[i*16+k]) * float64(wh[k*4+j])
			}
			if d := float64(got[i*4+j]) - s; d > 0.1 || d < -0.1 {
				t.Fatalf("bf16 GEMM C[%d,%d] = %v, want %v", i, j, got[i*4+j], s)
			}
		}
	}
}

// TestEmulated_CropFlip checks the device augmentation against a host
// reference drawing the same engine.Uniform numbers.
func TestEmulated_CropFlip(t *testing.T) {
	b := emulated(t)
	const n, c, h, w, pad, seed = 5, 3, 6, 7, 2, 99
	x, xh := enginetest.Tensor(b, 3, engine.Shape{n, c, h, w})
	y := engine.New(b, engine.Float32, x.Shape)
	b.CropFlip(x, y, pad, seed)
	got := engine.ToHost(b, y)
	flips := 0
	for img := 0; img < n; img++ {
		span := 2*pad + 1
		dy := int(engine.Uniform(seed, uint64(3*img))*float32(span)) - pad
		dx := int(engine.Uniform(seed, uint64(3*img+1))*float32(span)) - pad
		flip := engine.Uniform(seed, uint64(3*img+2)) < 0.5
		if flip {
			flips++
		}
		for ch := 0; ch < c; ch++ {
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					sj := j
					if flip {
						sj = w - 1 - j
					}
					si, sj := i+dy, sj+dx
					var want float32
					if si >= 0 && si < h && sj >= 0 && sj < w {
						want = xh[((img*c+ch)*h+si)*w+sj]
					}
					if g := got[((img*c+ch)*h+i)*w+j]; g != want {
						t.Fatalf("image %d (shift %d,%d flip %v) [%d,%d,%d] = %v, want %v", img, dy, dx, flip, ch, i, j, g, want)
					}
				}
			}
		}
	}
	if flips == 0 || flips == n {
		t.Logf("all %d images drew the same flip; the test still checked the shifts", n)
	}
}

func TestEmulated_UnscaleCheck(t *testing.T) {
	b := emulated(t)
	g := engine.FromHost(b, engine.Shape{4}, []float32{2, 4, -8, 16})
	if !b.UnscaleCheck(g, 0.5) {
		t.Fatal("finite gradients reported as overflow")
	}
	if got := engine.ToHost(b, g); fmt.Sprint(got) != "[1 2 -4 8]" {
		t.Fatalf("unscaled = %v", got)
	}
	inf := float32(math.Inf(1))
	g2 := engine.FromHost(b, engine.Shape{3}, []float32{1, inf, 2})
	if b.UnscaleCheck(g2, 0.5) {
		t.Fatal("+Inf not detected")
	}
}

// TestEmulated_Probe runs `sweep doctor`'s probe against the emulation's
// libraries, found through SWEEP_CUDA_LIB_PATH.
func TestEmulated_Probe(t *testing.T) {
	emulated(t) // builds the libraries
	r := Probe(func(k string) string {
		if k == dynlib.EnvLibPath {
			return emu.dir
		}
		return ""
	})
	if !r.Usable() || len(r.Devices) != 1 || r.Devices[0].Name != "CPU emulation" || r.Devices[0].FreeBytes != 1<<29 {
		t.Fatalf("Probe = %+v", r)
	}
	want := map[string]string{"CUDA driver": "CUDA 12.4", "cuBLAS": "12.4.5", "cuDNN": "9.1.0", "NVRTC": "12.4"}
	for _, l := range r.Libraries {
		if l.Err != nil || l.Version != want[l.Name] || l.Where != dynlib.EnvLibPath {
			t.Errorf("%s: version %q via %q, err %v; want %s via %s", l.Name, l.Version, l.Where, l.Err, want[l.Name], dynlib.EnvLibPath)
		}
	}
}

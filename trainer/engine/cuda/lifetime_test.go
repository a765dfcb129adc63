package cuda

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebitengine/purego"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cuda/dynlib"
	"sweep/trainer/engine/enginetest"
)

// emuCounter returns a C function of the emulation library taking no
// arguments and returning an int (sweep_emu_ctx_refs and friends).
func emuCounter(t *testing.T, name string) func() int {
	t.Helper()
	h, err := purego.Dlopen(filepath.Join(emu.dir, "libcuda.so.1"), purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := purego.Dlsym(h, name)
	if err != nil {
		t.Fatal(err)
	}
	return func() int { return int(int32(dynlib.Func(p).Call())) }
}

// TestEmulated_ContextLifetime opens and closes three backends one after
// another, then runs a GEMM and a convolution on a fourth. The emulated
// driver destroys the primary context at its last release and its cuBLAS
// and cuDNN fail in a context other than the one they first ran in, as the
// real libraries' per-context state does: a Close that released the
// context would fail here.
func TestEmulated_ContextLifetime(t *testing.T) {
	emuBuilt(t)
	refs, created := emuCounter(t, "sweep_emu_ctx_refs"), emuCounter(t, "sweep_emu_ctx_created")
	gen := -1
	for i := range 3 {
		b := emulatedWith(t, Options{})
		a := engine.FromHost(b, engine.Shape{2, 2}, []float32{1, 2, 3, 4})
		c := engine.New(b, engine.Float32, engine.Shape{2, 2})
		b.Gemm(false, false, 1, a, a, 0, c)
		if err := b.Sync(); err != nil {
			t.Fatalf("backend %d: %v", i, err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("backend %d: Close: %v", i, err)
		}
		if gen < 0 {
			gen = created()
		}
		if refs() < 1 || created() != gen {
			t.Fatalf("after closing backend %d: %d retains, context created %d times (was %d)", i, refs(), created(), gen)
		}
	}
	b := emulatedWith(t, Options{})
	a, ah := enginetest.Tensor(b, 1, engine.Shape{3, 4})
	w, wh := enginetest.Tensor(b, 2, engine.Shape{4, 2})
	c := engine.New(b, engine.Float32, engine.Shape{3, 2})
	b.Gemm(false, false, 1, a, w, 0, c)
	got := engine.ToHost(b, c)
	for i := range 3 {
		for j := range 2 {
			var s float32
			for k := range 4 {
				s += ah[i*4+k] * wh[k*2+j]
			}
			if d := got[i*2+j] - s; d > 1e-5 || d < -1e-5 {
				t.Fatalf("GEMM C[%d,%d] = %v, want %v", i, j, got[i*2+j], s)
			}
		}
	}
	x := engine.FromHost(b, engine.Shape{1, 1, 3, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	k := engine.FromHost(b, engine.Shape{1, 1, 1, 1}, []float32{2})
	y := engine.New(b, engine.Float32, engine.Shape{1, 1, 3, 3})
	b.ConvForward(engine.ConvDesc{}, x, k, y)
	if got := engine.ToHost(b, y); got[8] != 18 || got[0] != 2 {
		t.Fatalf("1x1 convolution by 2 = %v", got)
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestEmulated_NoCuDNN checks that a machine without cuDNN gets a working
// backend on the im2col path and a notice saying so, not silence.
func TestEmulated_NoCuDNN(t *testing.T) {
	emuBuilt(t)
	dir := t.TempDir()
	for _, so := range []string{"libcuda.so.1", "libcublas.so.12", "libnvrtc.so.12"} {
		if err := os.Symlink(filepath.Join(emu.dir, "libcuda.so.1"), filepath.Join(dir, so)); err != nil {
			t.Fatal(err)
		}
	}
	f := dynlib.NewFinder()
	f.Loader, f.Root = false, dir
	f.Getenv = func(k string) string {
		if k == dynlib.EnvLibPath {
			return dir
		}
		return ""
	}
	var log bytes.Buffer
	b, err := New(Options{Finder: f, CacheDir: t.TempDir(), Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !errors.Is(b.CuDNNError(), dynlib.ErrNotFound) || !strings.Contains(b.Name(), "im2col") {
		t.Fatalf("CuDNNError = %v, Name = %q", b.CuDNNError(), b.Name())
	}
	if got := log.String(); !strings.HasPrefix(got, "cuda: cuDNN not loaded, convolutions use the slower im2col path") ||
		strings.Count(got, "\n") != 1 {
		t.Fatalf("notice = %q", got)
	}
	x := engine.FromHost(b, engine.Shape{1, 1, 2, 2}, []float32{1, 2, 3, 4})
	k := engine.FromHost(b, engine.Shape{1, 1, 1, 1}, []float32{3})
	y := engine.New(b, engine.Float32, x.Shape)
	b.ConvForward(engine.ConvDesc{}, x, k, y)
	if got := engine.ToHost(b, y); got[3] != 12 {
		t.Fatalf("im2col convolution = %v", got)
	}
}

package cuda

import (
	"errors"
	"strings"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cuda/driver"
	"sweep/trainer/engine/cuda/dynlib"
	"sweep/trainer/engine/enginetest"
)

// gpu returns a backend on GPU 0, or skips the test with the reason when
// this machine has no NVIDIA driver or no GPU. A machine with a GPU where
// New fails is a test failure, not a skip.
func gpu(t *testing.T, o Options) *Backend {
	t.Helper()
	b, err := New(o)
	if err != nil {
		var ce *driver.Error
		if errors.Is(err, dynlib.ErrNotFound) && strings.Contains(err.Error(), dynlib.Driver.Name) ||
			errors.As(err, &ce) && (ce.Code == driver.ErrNoDevice || ce.Code == driver.ErrStubLibrary) {
			t.Skipf("no usable GPU, GPU test not run (see `sweep doctor`): %s", firstLine(err))
		}
		t.Fatalf("GPU present but the CUDA backend failed to start: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Logf("backend %s", b.Name())
	return b
}

// TestGPU_Conformance runs the engine's conformance suite (every op against
// a float64 reference) on the GPU in exact float32, with cuDNN convolutions
// when cuDNN loads.
func TestGPU_Conformance(t *testing.T) {
	b := gpu(t, Options{})
	enginetest.TestBackend(t, b)
	if err := b.Sync(); err != nil {
		t.Fatalf("Sync after the suite: %v", err)
	}
}

// TestGPU_ConformanceIm2col runs the suite with the im2col + cuBLAS
// convolution that machines without cuDNN use.
func TestGPU_ConformanceIm2col(t *testing.T) {
	b := gpu(t, Options{NoCuDNN: true})
	enginetest.TestBackend(t, b)
	if err := b.Sync(); err != nil {
		t.Fatalf("Sync after the suite: %v", err)
	}
}

// TestGPU_Memory checks allocation is zeroed, the cache reuses freed blocks
// and 16-bit tensors round-trip through CopyIn, Copy and CopyOut.
func TestGPU_Memory(t *testing.T) {
	b := gpu(t, Options{})
	x := engine.New(b, engine.Float32, engine.Shape{1000})
	for i, v := range engine.ToHost(b, x) {
		if v != 0 {
			t.Fatalf("Alloc not zeroed: x[%d] = %v", i, v)
		}
	}
	b.Free(x.Buf)
	y := engine.New(b, engine.Float32, engine.Shape{1000})
	if s := b.MemStats(); s.Hits == 0 {
		t.Errorf("freed block not reused: %+v", s)
	}
	for _, dt := range []engine.DType{engine.BFloat16, engine.Float16} {
		src := []float32{1, -2.5, 3.140625, 1e-3, 65504}
		h := engine.New(b, dt, engine.Shape{5})
		f := engine.New(b, engine.Float32, engine.Shape{5})
		b.CopyIn(h, src)
		b.Copy(f, h)
		got := engine.ToHost(b, f)
		for i := range src {
			if rel := relErr(got[i], src[i]); rel > 4e-3 {
				t.Errorf("%v round trip of %v = %v", dt, src[i], got[i])
			}
		}
	}
	b.Fill(y, 2.5)
	if s := b.Sum(y); s != 2500 {
		t.Errorf("Fill 2.5 then Sum = %v, want 2500", s)
	}
}

func relErr(got, want float32) float64 {
	d := float64(got - want)
	if d < 0 {
		d = -d
	}
	w := float64(want)
	if w < 0 {
		w = -w
	}
	return d / (w + 1e-30)
}

// TestNew_NoGPU checks what a machine without the driver gets: an error
// that says the driver was not found and lists where it looked.
func TestNew_NoGPU(t *testing.T) {
	if _, err := driver.Shared(); err == nil {
		t.Skip("a CUDA driver is installed here: the no-driver error cannot be observed")
	}
	_, err := New(Options{})
	if !errors.Is(err, dynlib.ErrNotFound) {
		t.Fatalf("err = %v, want dynlib.ErrNotFound", err)
	}
	for _, want := range []string{"cuda: load driver: dynlib: CUDA driver not found", "dynamic loader", "SWEEP_CUDA_LIB_PATH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	r := Probe(nil)
	if r.Usable() || r.Err == nil || len(r.Libraries) != 4 {
		t.Fatalf("Probe without a driver = %+v", r)
	}
}

func TestGridFor(t *testing.T) {
	for _, c := range []struct{ n, sms, want int }{
		{0, 132, 1}, {1, 132, 1}, {256, 132, 1}, {257, 132, 2}, {1 << 30, 132, 132 * 16}, {1000, 0, 4},
	} {
		if got := gridFor(c.n, c.sms); got != c.want {
			t.Errorf("gridFor(%d, %d) = %d, want %d", c.n, c.sms, got, c.want)
		}
	}
}

func TestPtr(t *testing.T) {
	buf := &buffer{ptr: 0x1000, n: 100, dt: engine.BFloat16}
	if got := ptr(engine.Tensor{Buf: buf, Off: 10, DType: engine.BFloat16}); got != 0x1000+20 {
		t.Fatalf("ptr = %#x, want 0x1014 (2-byte elements)", got)
	}
	if ptr(engine.Tensor{}) != 0 {
		t.Fatal("zero Tensor has a non-nil address")
	}
}

func TestF32_PanicsOnHalf(t *testing.T) {
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, engine.ErrUnsupported) {
			t.Fatalf("panic value %v, want an error wrapping ErrUnsupported", r)
		}
	}()
	f32("Add", engine.Tensor{Buf: &buffer{}, DType: engine.BFloat16})
}

func TestBackend_SetPrecision(t *testing.T) {
	var b Backend
	for _, dt := range []engine.DType{engine.BFloat16, engine.Float16, engine.Float32} {
		if err := b.SetPrecision(dt); err != nil || b.Precision() != dt {
			t.Fatalf("SetPrecision(%v): %v, precision %v", dt, err, b.Precision())
		}
	}
	if err := b.SetPrecision(engine.Int32); !errors.Is(err, engine.ErrUnsupported) {
		t.Fatalf("SetPrecision(Int32) = %v, want ErrUnsupported", err)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	env := map[string]string{"SWEEP_TF32": "1", "SWEEP_CUDNN": "0", "SWEEP_CUDA_CACHE": "/tmp/k", "SWEEP_CUDNN_SEARCH": "1"}
	o := OptionsFromEnv(func(k string) string { return env[k] })
	if !o.TF32 || !o.NoCuDNN || o.CacheDir != "/tmp/k" || !o.Search {
		t.Fatalf("OptionsFromEnv = %+v", o)
	}
	o = OptionsFromEnv(func(string) string { return "" })
	if o.TF32 || o.NoCuDNN || o.CacheDir != "" {
		t.Fatalf("defaults = %+v", o)
	}
	if _, err := Open("cpu", nil); err == nil {
		t.Fatal("Open(cpu) succeeded")
	}
	if _, err := Open("gpu1", nil); err == nil || !strings.Contains(err.Error(), `device "gpu1"`) {
		t.Fatalf("Open(gpu1) = %v", err)
	}
}

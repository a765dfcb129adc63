package driver

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sweep/trainer/engine/cuda/dynlib"
)

// fakeDriver compiles testdata/fakecuda.c into dir/libcuda.so.1 and returns
// a Finder that finds only it. Tests skip without a C compiler.
func fakeDriver(tb testing.TB) *dynlib.Finder {
	tb.Helper()
	dir := tb.TempDir()
	var cc string
	for _, c := range []string{"cc", "clang", "gcc"} {
		if p, err := exec.LookPath(c); err == nil {
			cc = p
			break
		}
	}
	if cc == "" {
		tb.Skip("no C compiler (cc, clang, gcc): cannot build the fake libcuda")
	}
	out := filepath.Join(dir, "libcuda.so.1")
	if b, err := exec.Command(cc, "-shared", "-fPIC", "-O1", "-o", out, "testdata/fakecuda.c").CombinedOutput(); err != nil {
		tb.Skipf("cannot build fake libcuda with %s: %v\n%s", cc, err, b)
	}
	f := dynlib.NewFinder()
	f.Loader = false
	f.Root = dir
	f.Getenv = func(k string) string {
		if k == dynlib.EnvLibPath {
			return dir
		}
		return ""
	}
	return f
}

func TestLoad_FakeDriver(t *testing.T) {
	api, err := Load(fakeDriver(t))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := api.Version(); err != nil || v != 12040 {
		t.Fatalf("Version = %d, %v; want 12040", v, err)
	}
	n, err := api.DeviceCount()
	if err != nil || n != 2 {
		t.Fatalf("DeviceCount = %d, %v", n, err)
	}
	info, err := api.Info(1)
	if err != nil {
		t.Fatal(err)
	}
	want := DeviceInfo{Ordinal: 1, Name: "Fake GPU B", Major: 9, Minor: 0, SMs: 132, TotalBytes: 80 << 30}
	if info != want {
		t.Fatalf("Info(1) = %+v, want %+v", info, want)
	}
	_, err = api.Info(7)
	var ce *Error
	if !errors.As(err, &ce) || ce.Code != 101 || ce.Op != "cuDeviceGet" {
		t.Fatalf("Info(7) err = %v, want cuDeviceGet CUDA_ERROR_INVALID_DEVICE", err)
	}
	if !strings.Contains(err.Error(), "CUDA_ERROR_INVALID_DEVICE (101)") {
		t.Fatalf("error text %q lacks the built-in name", err)
	}
}

func TestLoad_NoDevice(t *testing.T) {
	f := fakeDriver(t)
	t.Setenv("FAKECUDA_NODEV", "1")
	_, err := Load(f)
	var ce *Error
	if !errors.As(err, &ce) || ce.Code != ErrNoDevice {
		t.Fatalf("err = %v, want CUDA_ERROR_NO_DEVICE", err)
	}
	want := "cuda: cuInit: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected"
	if err.Error() != want {
		t.Fatalf("err = %q\nwant  %q", err, want)
	}
}

func TestContext_MemoryAndLaunch(t *testing.T) {
	api, err := Load(fakeDriver(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := api.Retain(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Enter()()
	x := []float32{1, 2, 3, 4}
	y := []float32{10, 20, 30, 40}
	dx, err := ctx.Alloc(16)
	if err != nil {
		t.Fatal(err)
	}
	dy, _ := ctx.Alloc(16)
	if err := HtoD(ctx, dx, x); err != nil {
		t.Fatal(err)
	}
	if err := HtoD(ctx, dy, y); err != nil {
		t.Fatal(err)
	}
	if _, err := ctx.LoadModule([]byte("not ptx")); err == nil || !strings.Contains(err.Error(), "CUDA_ERROR_INVALID_PTX") {
		t.Fatalf("LoadModule(garbage) err = %v", err)
	}
	m, err := ctx.LoadModule([]byte("// fake ptx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Function("nope"); err == nil || !strings.Contains(err.Error(), "cuModuleGetFunction nope") {
		t.Fatalf("Function(nope) err = %v", err)
	}
	fn, err := m.Function("axpy")
	if err != nil {
		t.Fatal(err)
	}
	var args Args
	if err := fn.Launch(Dim3{1, 1, 1}, Dim3{32, 1, 1}, 0, 0, args.Reset().Ptr(dy).Ptr(dx).Float(0.5).Int(4)); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 4)
	if err := DtoH(ctx, got, dy); err != nil {
		t.Fatal(err)
	}
	want := []float32{10.5, 21, 31.5, 42}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("axpy result %v, want %v", got, want)
		}
	}
	if err := fn.Launch(Dim3{0, 1, 1}, Dim3{32, 1, 1}, 0, 0, &args); err == nil {
		t.Fatal("launch with an empty grid succeeded")
	}
	free, total, err := ctx.MemInfo()
	if err != nil || free != 79<<30 || total != 80<<30 {
		t.Fatalf("MemInfo = %d, %d, %v", free, total, err)
	}
	if _, err := ctx.Alloc(1 << 41); err == nil || !strings.Contains(err.Error(), "CUDA_ERROR_OUT_OF_MEMORY") {
		t.Fatalf("huge Alloc err = %v", err)
	}
	for _, p := range []Ptr{dx, dy} {
		if err := ctx.Free(p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMain(m *testing.M) {
	os.Unsetenv("FAKECUDA_NODEV")
	os.Exit(m.Run())
}

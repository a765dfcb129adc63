package nvrtc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sweep/trainer/engine/cuda/dynlib"
)

func TestTarget(t *testing.T) {
	cases := []struct {
		sm        int
		supported []int
		arch      string
		cubin     bool
	}{
		{90, []int{75, 80, 86, 89, 90}, "sm_90", true},
		{120, []int{75, 80, 90}, "compute_90", false}, // device newer than the compiler: PTX + JIT
		{86, nil, "sm_86", true},
		{50, []int{75, 80}, "compute_75", false},
	}
	for _, c := range cases {
		arch, cubin := Target(c.sm, c.supported)
		if arch != c.arch || cubin != c.cubin {
			t.Errorf("Target(%d, %v) = %s, %v; want %s, %v", c.sm, c.supported, arch, cubin, c.arch, c.cubin)
		}
	}
}

func TestKey(t *testing.T) {
	base := Key("src", "sm_90", "nvrtc 12.4", []string{"-O3"})
	for name, k := range map[string]string{
		"source":   Key("src2", "sm_90", "nvrtc 12.4", []string{"-O3"}),
		"arch":     Key("src", "sm_80", "nvrtc 12.4", []string{"-O3"}),
		"compiler": Key("src", "sm_90", "nvrtc 12.8", []string{"-O3"}),
		"options":  Key("src", "sm_90", "nvrtc 12.4", nil),
		"boundary": Key("sr", "csm_90", "nvrtc 12.4", []string{"-O3"}),
	} {
		if k == base {
			t.Errorf("changing the %s does not change the key", name)
		}
	}
	if Key("src", "sm_90", "nvrtc 12.4", []string{"-O3"}) != base {
		t.Error("key is not deterministic")
	}
}

func fakeCompiler(tb testing.TB) *Compiler {
	tb.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("clang"); err != nil {
			tb.Skip("no C compiler: cannot build the fake libnvrtc")
		}
	}
	dir := tb.TempDir()
	if b, err := exec.Command(cc, "-shared", "-fPIC", "-o", filepath.Join(dir, "libnvrtc.so.12"), "testdata/fakenvrtc.c").CombinedOutput(); err != nil {
		tb.Skipf("cannot build fake libnvrtc: %v\n%s", err, b)
	}
	f := dynlib.NewFinder()
	f.Loader, f.Root = false, dir
	f.Getenv = func(k string) string {
		if k == dynlib.EnvLibPath {
			return dir
		}
		return ""
	}
	c, err := Load(f)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestCompiler_Build(t *testing.T) {
	c := fakeCompiler(t)
	if ma, mi := c.Version(); ma != 12 || mi != 4 {
		t.Fatalf("Version = %d.%d", ma, mi)
	}
	if got := c.SupportedArchs(); len(got) != 2 || got[0] != 70 || got[1] != 80 {
		t.Fatalf("SupportedArchs = %v, want [70 80]", got)
	}
	cache := Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	img, err := c.Build(cache, "k.cu", "kernel source", 80)
	if err != nil {
		t.Fatal(err)
	}
	if !img.Cubin || img.Arch != "sm_80" || img.Cached || string(img.Data) != "--gpu-architecture=sm_80\nkernel source" {
		t.Fatalf("first Build = %+v (%q)", img, img.Data)
	}
	again, err := c.Build(cache, "k.cu", "kernel source", 80)
	if err != nil || !again.Cached || string(again.Data) != string(img.Data) {
		t.Fatalf("second Build = %+v, %v; want the cached image", again, err)
	}
	ptx, err := c.Build(cache, "k.cu", "kernel source", 90) // unsupported: PTX for sm_80, JIT on device
	if err != nil || ptx.Cubin || ptx.Arch != "compute_80" {
		t.Fatalf("Build for sm_90 = %+v, %v", ptx, err)
	}
	entries, _ := os.ReadDir(cache.Dir)
	if len(entries) != 2 {
		t.Fatalf("cache holds %d files, want 2 (no temporaries left)", len(entries))
	}
}

func TestCompiler_CompileError(t *testing.T) {
	c := fakeCompiler(t)
	_, err := c.Compile("k.cu", "#error nope", "sm_80")
	var ne *Error
	if !errors.As(err, &ne) || ne.Code != 6 {
		t.Fatalf("err = %v, want NVRTC_ERROR_COMPILATION", err)
	}
	if !strings.Contains(err.Error(), "nvrtcCompileProgram: NVRTC_ERROR_COMPILATION (6)\nkernel.cu(1): error: the #error directive") {
		t.Fatalf("error does not carry the log:\n%s", err)
	}
}

func TestCache_Disabled(t *testing.T) {
	var c Cache
	if err := c.Put("k", &Image{Data: []byte("x"), Arch: "sm_80"}); err != nil || c.Get("k", "sm_80") != nil {
		t.Fatal("the zero Cache stored something")
	}
}

package dynlib

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTree writes empty files at the given paths under root.
func fakeTree(tb testing.TB, root string, files ...string) {
	tb.Helper()
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("not an ELF file"), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// recordingFinder searches root only and records what it opens, succeeding
// for paths accepted by ok.
func recordingFinder(root string, env map[string]string, ok func(string) bool) (*Finder, *[]string) {
	var opened []string
	f := &Finder{
		Getenv: func(k string) string { return env[k] },
		Root:   root,
		Open: func(p string, _ bool) (uintptr, error) {
			opened = append(opened, p)
			if ok(p) {
				return 1, nil
			}
			return 0, errors.New("fake dlopen refused")
		},
	}
	return f, &opened
}

func TestFinder_Load(t *testing.T) {
	t.Run("EnvPathWins", func(t *testing.T) {
		root := t.TempDir()
		fakeTree(t, root, "custom/libcublas.so.12", "usr/local/cuda/lib64/libcublas.so.12")
		env := map[string]string{EnvLibPath: filepath.Join(root, "nowhere") + ":" + filepath.Join(root, "custom")}
		f, _ := recordingFinder(root, env, func(string) bool { return true })
		lib, err := f.Load(CUBLAS)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(root, "custom/libcublas.so.12"); lib.Path != want || lib.Where != EnvLibPath {
			t.Fatalf("got %s via %s, want %s via %s", lib.Path, lib.Where, want, EnvLibPath)
		}
	})
	t.Run("NVRTCBuiltinsGlob", func(t *testing.T) {
		root := t.TempDir()
		fakeTree(t, root, "usr/local/cuda-12.4/lib64/libnvrtc.so.12", "usr/local/cuda-12.4/lib64/libnvrtc-builtins.so.12.4")
		f, opened := recordingFinder(root, nil, func(string) bool { return true })
		if _, err := f.Load(NVRTC); err != nil {
			t.Fatal(err)
		}
		if len(*opened) != 2 || filepath.Base((*opened)[0]) != "libnvrtc-builtins.so.12.4" {
			t.Fatalf("opened %v, want the builtins first", *opened)
		}
	})
	t.Run("NewestToolkitFirstThenTargets", func(t *testing.T) {
		root := t.TempDir()
		fakeTree(t, root, "usr/local/cuda-12.2/lib64/libnvrtc.so.12",
			"usr/local/cuda-12.8/targets/x86_64-linux/lib/libnvrtc.so.12")
		f, _ := recordingFinder(root, nil, func(string) bool { return true })
		lib, err := f.Load(NVRTC)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(lib.Path, "cuda-12.8/targets") || lib.Where != stepCUDA {
			t.Fatalf("got %s via %s", lib.Path, lib.Where)
		}
	})
	t.Run("PreferNewerSoname", func(t *testing.T) {
		root := t.TempDir()
		fakeTree(t, root, "usr/local/cuda/lib64/libcublas.so.12", "usr/local/cuda/lib64/libcublas.so.13")
		f, _ := recordingFinder(root, nil, func(string) bool { return true })
		lib, err := f.Load(CUBLAS)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(lib.Path) != "libcublas.so.13" {
			t.Fatalf("got %s, want libcublas.so.13", lib.Path)
		}
	})
	t.Run("PipLayoutWithCompanions", func(t *testing.T) {
		root := t.TempDir()
		home := filepath.Join(root, "home")
		site := "home/.pyenv/versions/3.11.7/lib/python3.11/site-packages/nvidia/cudnn/lib/"
		fakeTree(t, root, site+"libcudnn.so.9", site+"libcudnn_ops.so.9", site+"libcudnn_cnn.so.9")
		f, opened := recordingFinder(root, map[string]string{"HOME": home}, func(string) bool { return true })
		lib, err := f.Load(CUDNN)
		if err != nil {
			t.Fatal(err)
		}
		if lib.Where != stepPip {
			t.Fatalf("found via %s, want %s", lib.Where, stepPip)
		}
		want := []string{"libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn.so.9"}
		var got []string
		for _, p := range *opened {
			got = append(got, filepath.Base(p))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("opened %v, want companions first: %v", got, want)
		}
	})
	t.Run("VirtualEnvAndLoaderOrder", func(t *testing.T) {
		root := t.TempDir()
		venv := filepath.Join(root, "venv")
		fakeTree(t, root, "venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12")
		f, opened := recordingFinder(root, map[string]string{"VIRTUAL_ENV": venv},
			func(p string) bool { return strings.HasPrefix(p, "/") })
		f.Loader = true
		lib, err := f.Load(CUBLAS)
		if err != nil {
			t.Fatal(err)
		}
		if lib.Where != stepPip {
			t.Fatalf("found via %s", lib.Where)
		}
		// The loader is asked (and refuses) each soname before the pip tree.
		if (*opened)[0] != "libcublas.so.13" || (*opened)[2] != "libcublas.so" {
			t.Fatalf("open order %v", *opened)
		}
	})
	t.Run("NotFoundListsEverything", func(t *testing.T) {
		root := t.TempDir()
		fakeTree(t, root, "usr/local/cuda-12.4/lib64/README")
		env := map[string]string{EnvLibPath: "/does/not/exist"}
		f, _ := recordingFinder(root, env, func(string) bool { return false })
		f.Loader = true
		_, err := f.Load(Driver)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		msg := err.Error()
		for _, want := range []string{
			"CUDA driver not found (libcuda.so.1, libcuda.so)",
			"/does/not/exist: directory does not exist",
			"dynamic loader         libcuda.so.1: fake dlopen refused",
			filepath.Join(root, "usr/local/cuda-12.4/lib64") + ": no matching file",
			"set SWEEP_CUDA_LIB_PATH",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q:\n%s", want, msg)
			}
		}
	})
}

// TestFinder_LoadRealDlopen hands a file that is not an ELF object to the
// real dynamic loader: the error must name the file and the loader's reason.
func TestFinder_LoadRealDlopen(t *testing.T) {
	dir := t.TempDir()
	fakeTree(t, dir, "libnvrtc.so.12")
	f := NewFinder()
	f.Root = dir // keep the toolkit and pip steps inside the empty temp dir
	f.Loader = false
	f.Getenv = func(k string) string {
		if k == EnvLibPath {
			return dir
		}
		return ""
	}
	_, err := f.Load(NVRTC)
	if err == nil {
		t.Fatal("loading a text file as a library succeeded")
	}
	msg := err.Error()
	p := filepath.Join(dir, "libnvrtc.so.12")
	if !strings.Contains(msg, p+": ") || !(strings.Contains(msg, "ELF") || strings.Contains(msg, "too short")) {
		t.Fatalf("error does not explain the bad file:\n%s", msg)
	}
}

func TestSpec_ForDriver(t *testing.T) {
	for _, c := range []struct {
		driver int
		spec   Spec
		want   string
	}{
		{12040, NVRTC, "libnvrtc.so.12,libnvrtc.so.13,libnvrtc.so"},
		{13000, NVRTC, "libnvrtc.so.13,libnvrtc.so.12,libnvrtc.so"},
		{12080, CUBLAS, "libcublas.so.12,libcublas.so.13,libcublas.so"},
		{12040, CUDNN, "libcudnn.so.9,libcudnn.so"}, // cuDNN's major is its own
		{0, NVRTC, "libnvrtc.so.13,libnvrtc.so.12,libnvrtc.so"},
	} {
		if got := strings.Join(c.spec.ForDriver(c.driver).Sonames, ","); got != c.want {
			t.Errorf("%s.ForDriver(%d) = %s, want %s", c.spec.Name, c.driver, got, c.want)
		}
	}
	if NVRTC.Sonames[0] != "libnvrtc.so.13" {
		t.Fatal("ForDriver modified the shared Spec")
	}
}

// fakePython writes an executable python3 into dir that prints lines, as
// RunPython's script would.
func fakePython(tb testing.TB, dir string, lines ...string) {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s\\n'"
	for _, l := range lines {
		script += " '" + l + "'"
	}
	if err := os.WriteFile(filepath.Join(dir, "python3"), []byte(script+"\n"), 0o755); err != nil {
		tb.Fatal(err)
	}
}

// TestFinder_PythonOnPath finds pip wheels through the python3 interpreters
// on $PATH (no VIRTUAL_ENV set), in both the CUDA 13 layout
// (nvidia/cu13/lib) and the per-library one (nvidia/cudnn/lib), and skips
// an interpreter that fails.
func TestFinder_PythonOnPath(t *testing.T) {
	root := t.TempDir()
	venv := filepath.Join(root, "opt/torch/.venv")
	site := venv + "/lib/python3.12/site-packages"
	fakeTree(t, "/", site[1:]+"/nvidia/cu13/lib/libcublas.so.13", site[1:]+"/nvidia/cu13/lib/libnvrtc.so.13",
		site[1:]+"/nvidia/cudnn/lib/libcudnn.so.9")
	other := filepath.Join(root, "other-site")
	fakeTree(t, "/", other[1:]+"/nvidia/cudnn/lib/libcudnn_ops.so.9")
	fakePython(t, filepath.Join(root, "bin-broken"), "not a path") // prints nothing usable
	fakePython(t, venv+"/bin", venv, other)
	path := filepath.Join(root, "bin-broken") + ":" + filepath.Join(root, "empty") + ":" + venv + "/bin"
	f, _ := recordingFinder(root, map[string]string{"PATH": path}, func(string) bool { return true })
	f.RunPython = RunPython
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{CUBLAS, site + "/nvidia/cu13/lib/libcublas.so.13"},
		{NVRTC, site + "/nvidia/cu13/lib/libnvrtc.so.13"},
		{CUDNN, site + "/nvidia/cudnn/lib/libcudnn.so.9"},
	} {
		lib, err := f.Load(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if lib.Path != c.want || lib.Where != stepPip {
			t.Errorf("%s: %s via %s, want %s via %s", c.spec.Name, lib.Path, lib.Where, c.want, stepPip)
		}
	}
	dirs := f.SearchDirs()[stepPip]
	if !contains(dirs, other+"/nvidia/cudnn/lib") {
		t.Errorf("pip dirs %v lack the interpreter's extra site-packages", dirs)
	}
	// Without RunPython (or with no python3 on PATH) nothing is found.
	f2, _ := recordingFinder(root, map[string]string{"PATH": path}, func(string) bool { return true })
	if _, err := f2.Load(CUDNN); !errors.Is(err, ErrNotFound) {
		t.Fatalf("found cuDNN without asking python3: %v", err)
	}
}

func TestPythonsOnPath(t *testing.T) {
	root := t.TempDir()
	fakePython(t, filepath.Join(root, "a"), "/x")
	fakePython(t, filepath.Join(root, "b"), "/y")
	fakeTree(t, root, "c/python3") // not executable
	got := pythonsOnPath(strings.Join([]string{root + "/a", "", root + "/c", root + "/b", root + "/a"}, ":"))
	want := []string{root + "/a/python3", root + "/b/python3"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("pythonsOnPath = %v, want %v", got, want)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestFinder_PythonOnlyWhenNeeded checks that a library found before the
// pip step costs no python3 run, and that one Finder runs each python3
// once however many libraries it loads.
func TestFinder_PythonOnlyWhenNeeded(t *testing.T) {
	root := t.TempDir()
	fakeTree(t, root, "custom/libcublas.so.12")
	runs := 0
	env := map[string]string{EnvLibPath: filepath.Join(root, "custom"), "PATH": filepath.Join(root, "bin")}
	fakePython(t, filepath.Join(root, "bin"), root)
	f, _ := recordingFinder(root, env, func(string) bool { return true })
	f.RunPython = func(ctx context.Context, exe string) ([]string, error) { runs++; return RunPython(ctx, exe) }
	if _, err := f.Load(CUBLAS); err != nil || runs != 0 {
		t.Fatalf("Load(cuBLAS) from %s: err %v, %d python3 runs", EnvLibPath, err, runs)
	}
	for _, s := range []Spec{CUDNN, NVRTC} {
		if _, err := f.Load(s); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Load(%s) = %v, want ErrNotFound", s.Name, err)
		}
	}
	if runs != 1 {
		t.Fatalf("%d python3 runs for two searches, want 1", runs)
	}
}

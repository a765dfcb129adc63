// Package dynlib finds and opens the NVIDIA shared libraries (driver, cuBLAS,
// cuDNN, NVRTC) at run time, so the one static sweep binary runs on machines
// with and without CUDA.
//
// It searches, in order: the directories in SWEEP_CUDA_LIB_PATH, the dynamic
// loader's own search (LD_LIBRARY_PATH, ld.so.cache, /lib, /usr/lib), the
// CUDA toolkit directories /usr/local/cuda*/lib64 and
// /usr/local/cuda*/targets/x86_64-linux/lib, and pip wheel layouts
// (site-packages/nvidia/*/lib, nvidia/cu13/lib) under every Python it can
// find: by globbing, and by asking each python3 on $PATH for its prefix and
// site-packages (one run each, bounded by a timeout).
// When nothing loads, the error lists every place tried and why it failed.
//
// It does not bind any symbols: packages driver, cublas, cudnn and nvrtc do.
package dynlib

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ebitengine/purego"
)

// Spec names one library and the files that provide it.
type Spec struct {
	Name    string   // human name, e.g. "cuBLAS"
	Sonames []string // file names in preference order (newest major first)
	// Companions are libraries that the main one loads itself at run time
	// (cuDNN's sub-libraries, NVRTC's builtins) or links against (cuBLASLt
	// for cuBLAS); they may be globs. Those found next to the main library
	// are opened first with RTLD_GLOBAL, so the loader reuses them instead of
	// searching paths that may not contain them.
	Companions []string
}

// The libraries sweep uses. They are read-only descriptions.
var (
	Driver = Spec{Name: "CUDA driver", Sonames: []string{"libcuda.so.1", "libcuda.so"}}
	NVRTC  = Spec{Name: "NVRTC", Sonames: []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"},
		Companions: []string{"libnvrtc-builtins.so.*"}}
	CUBLASLt = Spec{Name: "cuBLASLt", Sonames: []string{"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"}}
	CUBLAS   = Spec{Name: "cuBLAS", Sonames: []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so"},
		Companions: []string{"libcublasLt.so.13", "libcublasLt.so.12"}}
	CUDNN = Spec{Name: "cuDNN", Sonames: []string{"libcudnn.so.9", "libcudnn.so"},
		Companions: []string{"libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
			"libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9",
			"libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9"}}
)

// EnvLibPath is the environment variable holding extra directories
// (colon-separated) that are searched before anything else.
const EnvLibPath = "SWEEP_CUDA_LIB_PATH"

// Lib is an opened library.
type Lib struct {
	Spec   Spec
	Handle uintptr
	Path   string // the file opened, or the soname when the loader found it
	Where  string // which search step found it
}

// Sym returns the address of a symbol in the library (or its dependencies).
func (l *Lib) Sym(name string) (uintptr, error) {
	p, err := purego.Dlsym(l.Handle, name)
	if err != nil {
		return 0, fmt.Errorf("look up %s in %s: %w", name, l.Path, err)
	}
	return p, nil
}

// Attempt records one place a library was looked for.
type Attempt struct {
	Where string // search step, e.g. "SWEEP_CUDA_LIB_PATH" or "pip"
	Path  string // file or soname tried
	Err   error  // why it was not used
}

// NotFoundError reports a library that no search step could open.
type NotFoundError struct {
	Spec     Spec
	Attempts []Attempt
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dynlib: %s not found (%s); searched:", e.Spec.Name, strings.Join(e.Spec.Sonames, ", "))
	for _, a := range e.Attempts {
		fmt.Fprintf(&b, "\n  %-22s %s: %v", a.Where, a.Path, a.Err)
	}
	fmt.Fprintf(&b, "\n  hint: install the library or set %s to the directory holding it", EnvLibPath)
	return b.String()
}

// ErrNotFound is matched by every *NotFoundError (errors.Is).
var ErrNotFound = errors.New("dynlib: library not found")

// Is reports whether target is ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Finder searches for libraries. The zero value is not usable; call
// NewFinder. Fields may be replaced by tests to search a fake tree.
type Finder struct {
	Getenv func(string) string
	// Root is prefixed to every absolute directory searched (not to
	// SWEEP_CUDA_LIB_PATH entries), so tests can build a fake tree.
	Root string
	// Open loads a library; path is absolute or a bare soname.
	Open func(path string, global bool) (uintptr, error)
	// Loader controls whether bare sonames are handed to the dynamic loader.
	Loader bool
	// DriverVersion, once the driver is loaded, orders each library's
	// sonames for it (see Spec.ForDriver); 0 keeps the given order.
	DriverVersion int
	// RunPython asks the python3 at a path for its prefix and
	// site-packages (see RunPython); nil skips the python3 interpreters on
	// $PATH.
	RunPython func(ctx context.Context, exe string) ([]string, error)

	python *pythonSites // RunPython's answers, shared by copies of f
}

// NewFinder returns a Finder over the real file system and dynamic loader.
func NewFinder() *Finder {
	return &Finder{Getenv: os.Getenv, Open: dlopen, Loader: true, RunPython: RunPython, python: &pythonSites{}}
}

func dlopen(path string, global bool) (uintptr, error) {
	mode := purego.RTLD_NOW | purego.RTLD_LOCAL
	if global {
		mode = purego.RTLD_NOW | purego.RTLD_GLOBAL
	}
	return purego.Dlopen(path, mode)
}

// Load finds and opens s, trying each search step in order. Companions found
// in the same directory are opened first. The error is a *NotFoundError.
func (f *Finder) Load(s Spec) (*Lib, error) {
	if f.DriverVersion != 0 {
		s = s.ForDriver(f.DriverVersion)
	}
	nf := &NotFoundError{Spec: s}
	for _, step := range f.steps() {
		dirs := step.dirs() // lazily: the pip step may run python3
		if len(dirs) == 0 {
			why := errors.New("nothing matched")
			if step.name == stepEnv {
				why = errors.New("not set")
			}
			nf.Attempts = append(nf.Attempts, Attempt{step.name, step.what, why})
		}
		for _, dir := range dirs {
			if lib := f.loadFromDir(s, step.name, dir, nf); lib != nil {
				return lib, nil
			}
		}
		if step.name == stepEnv && f.Loader {
			if lib := f.loadFromLoader(s, nf); lib != nil {
				return lib, nil
			}
		}
	}
	return nil, nf
}

// loadFromDir opens the first soname of s present in dir, recording each
// failure (or the absence of every soname) in nf.
func (f *Finder) loadFromDir(s Spec, where, dir string, nf *NotFoundError) *Lib {
	found := false
	for _, so := range s.Sonames {
		p := filepath.Join(dir, so)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		found = true
		f.openCompanions(dir, s)
		h, err := f.Open(p, true)
		if err != nil {
			nf.Attempts = append(nf.Attempts, Attempt{where, p, err})
			continue
		}
		return &Lib{Spec: s, Handle: h, Path: p, Where: where}
	}
	if !found {
		err := errors.New("no matching file")
		if _, statErr := os.Stat(dir); statErr != nil {
			err = errors.New("directory does not exist")
		}
		nf.Attempts = append(nf.Attempts, Attempt{where, dir, err})
	}
	return nil
}

func (f *Finder) loadFromLoader(s Spec, nf *NotFoundError) *Lib {
	for _, so := range s.Sonames {
		h, err := f.Open(so, true)
		if err != nil {
			nf.Attempts = append(nf.Attempts, Attempt{stepLoader, so, err})
			continue
		}
		return &Lib{Spec: s, Handle: h, Path: mappedPath(so), Where: stepLoader}
	}
	return nil
}

func (f *Finder) openCompanions(dir string, s Spec) {
	for _, c := range s.Companions {
		for _, p := range globAll(filepath.Join(dir, c)) {
			// A companion that fails to load surfaces again, with a better
			// message, when the main library needs it.
			_, _ = f.Open(p, true)
		}
	}
}

const (
	stepEnv    = EnvLibPath
	stepLoader = "dynamic loader"
	stepCUDA   = "CUDA toolkit"
	stepPip    = "pip wheel"
)

type step struct {
	name string
	dirs func() []string
	what string // the globs searched, reported when they matched nothing
}

// steps lists the search directories in order. The loader step runs right
// after the SWEEP_CUDA_LIB_PATH step (see Load).
func (f *Finder) steps() []step {
	var env []string
	for _, d := range filepath.SplitList(f.Getenv(EnvLibPath)) {
		if d != "" {
			env = append(env, d)
		}
	}
	return []step{
		{stepEnv, func() []string { return env }, "$" + EnvLibPath},
		{stepCUDA, f.cudaDirs, "$CUDA_HOME/lib64, /usr/local/cuda*/{lib64,targets/x86_64-linux/lib}, /opt/cuda"},
		{stepPip, f.pipDirs, "site-packages/nvidia/{*,cu13}/lib under $VIRTUAL_ENV, $CONDA_PREFIX, every python3 on $PATH, " +
			"/usr/local/lib/python3*, /usr/lib/python3*, /opt/conda, ~/.local, ~/.pyenv/versions/*, ~/miniconda3, ~/anaconda3"},
	}
}

// SearchDirs returns every directory Load would search, by step, for
// `sweep doctor` and error messages.
func (f *Finder) SearchDirs() map[string][]string {
	m := map[string][]string{}
	for _, s := range f.steps() {
		m[s.name] = s.dirs()
	}
	return m
}

func (f *Finder) cudaDirs() []string {
	var dirs []string
	for _, home := range f.globNewestFirst("/usr/local/cuda", "/usr/local/cuda-*", "/opt/cuda") {
		dirs = append(dirs, filepath.Join(home, "lib64"), filepath.Join(home, "targets/x86_64-linux/lib"))
	}
	if ch := f.Getenv("CUDA_HOME"); ch != "" {
		dirs = append([]string{filepath.Join(ch, "lib64")}, dirs...)
	}
	return append(dirs, globAll(f.Root+"/usr/lib/wsl/lib")...) // WSL's libcuda
}

// pipDirs finds site-packages/nvidia/*/lib (CUDA 12 wheels: one directory
// per library; CUDA 13 wheels: nvidia/cu13/lib, cuDNN still in
// nvidia/cudnn/lib) under the Pythons it can see: virtualenv and conda
// prefixes, the python3 interpreters on $PATH, user installs, pyenv
// versions and the system.
func (f *Finder) pipDirs() []string {
	var prefixes []string
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := f.Getenv(v); p != "" {
			prefixes = append(prefixes, p)
		}
	}
	home := f.Getenv("HOME")
	var sites []string
	for _, p := range prefixes {
		sites = append(sites, globAll(p+"/lib/python3*/site-packages")...)
	}
	for _, pat := range []string{
		"/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
		"/usr/lib/python3*/site-packages", "/usr/lib/python3/dist-packages", "/usr/lib/python3*/dist-packages",
		"/opt/conda/lib/python3*/site-packages",
	} {
		sites = append(sites, globAll(f.Root+pat)...)
	}
	sites = append(sites, f.pythonSitePackages()...)
	if home != "" {
		sites = append(sites, globAll(home+"/.local/lib/python3*/site-packages")...)
		sites = append(sites, globAll(home+"/.pyenv/versions/*/lib/python3*/site-packages")...)
		sites = append(sites, globAll(home+"/miniconda3/lib/python3*/site-packages")...)
		sites = append(sites, globAll(home+"/anaconda3/lib/python3*/site-packages")...)
	}
	var dirs []string
	seen := map[string]bool{}
	for _, s := range sites {
		for _, d := range append(globAll(s+"/nvidia/cu13/lib"), globAll(s+"/nvidia/*/lib")...) {
			if !seen[d] {
				seen[d] = true
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

func (f *Finder) globNewestFirst(pats ...string) []string {
	var out []string
	for _, p := range pats {
		m := globAll(f.Root + p)
		sort.Sort(sort.Reverse(sort.StringSlice(m)))
		out = append(out, m...)
	}
	return out
}

func globAll(pat string) []string {
	m, _ := filepath.Glob(pat) // only ErrBadPattern, impossible for our patterns
	return m
}

// mappedPath finds the file the loader mapped for soname by reading
// /proc/self/maps; it returns soname itself when that fails.
func mappedPath(soname string) string {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return soname
	}
	for _, line := range strings.Split(string(b), "\n") {
		i := strings.IndexByte(line, '/')
		if i < 0 {
			continue
		}
		p := line[i:]
		if base := filepath.Base(p); base == soname || strings.HasPrefix(base, soname+".") {
			return p
		}
	}
	return soname
}

// ForDriver returns s with its sonames reordered for a driver supporting
// CUDA driverVersion (major·1000 + minor·10): majors the driver can run
// first, newest first, then newer majors. A CUDA 13 NVRTC or cuBLAS on a
// CUDA 12 driver fails at load or launch time, so a CUDA 12 library beside
// it must win. Sonames without a numeric major keep their place at the end.
func (s Spec) ForDriver(driverVersion int) Spec {
	major := driverVersion / 1000
	fits := func(list []string) (ok, newer, plain []string) {
		for _, so := range list {
			i := strings.LastIndex(so, ".so.")
			if i < 0 {
				plain = append(plain, so)
				continue
			}
			v := so[i+len(".so."):]
			if j := strings.IndexByte(v, '.'); j >= 0 {
				v = v[:j]
			}
			m := 0
			if _, err := fmt.Sscanf(v, "%d", &m); err != nil {
				plain = append(plain, so)
			} else if m <= major || major == 0 {
				ok = append(ok, so)
			} else {
				newer = append(newer, so)
			}
		}
		return ok, newer, plain
	}
	ok, newer, plain := fits(s.Sonames)
	out := s
	out.Sonames = append(append(append([]string{}, ok...), newer...), plain...)
	return out
}

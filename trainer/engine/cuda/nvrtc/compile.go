package nvrtc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unsafe"

	"sweep/trainer/engine/cuda/dynlib"
)

// Image is compiled device code ready for cuModuleLoadData.
type Image struct {
	Data   []byte // cubin, or NUL-terminated PTX
	Cubin  bool
	Arch   string // e.g. "sm_90" or "compute_90"
	Cached bool   // read from the disk cache rather than compiled
}

// Compile compiles src (named name in diagnostics) for arch ("sm_XX" gives a
// cubin, "compute_XX" PTX) with extra options. A compilation error carries
// the compiler log.
func (c *Compiler) Compile(name, src, arch string, opts ...string) (*Image, error) {
	var prog uintptr
	csrc, cname := dynlib.CString(src), dynlib.CString(name)
	if err := c.check("nvrtcCreateProgram", c.fn.CreateProgram.Call(uintptr(unsafe.Pointer(&prog)),
		uintptr(unsafe.Pointer(&csrc[0])), uintptr(unsafe.Pointer(&cname[0])), 0, 0, 0)); err != nil {
		return nil, err
	}
	defer c.fn.DestroyProgram.Call(uintptr(unsafe.Pointer(&prog)))
	all := append([]string{"--gpu-architecture=" + arch}, opts...)
	cstrs := make([][]byte, len(all))
	ptrs := make([]uintptr, len(all))
	for i, o := range all {
		cstrs[i] = dynlib.CString(o)
		ptrs[i] = uintptr(unsafe.Pointer(&cstrs[i][0]))
	}
	err := c.check("nvrtcCompileProgram", c.fn.CompileProgram.Call(prog, uintptr(len(ptrs)), uintptr(unsafe.Pointer(&ptrs[0]))))
	runtime.KeepAlive(cstrs)
	if err != nil {
		err.(*Error).Log = c.log(prog)
		return nil, err
	}
	cubin := strings.HasPrefix(arch, "sm_")
	sizeFn, getFn, what := c.fn.GetPTXSize, c.fn.GetPTX, "PTX"
	if cubin {
		if c.fn.GetCUBINSize == 0 {
			return nil, ErrNoCubin
		}
		sizeFn, getFn, what = c.fn.GetCUBINSize, c.fn.GetCUBIN, "CUBIN"
	}
	var n uint64
	if err := c.check("nvrtcGet"+what+"Size", sizeFn.Call(prog, uintptr(unsafe.Pointer(&n)))); err != nil {
		return nil, err
	}
	data := make([]byte, n)
	if err := c.check("nvrtcGet"+what, getFn.Call(prog, uintptr(unsafe.Pointer(&data[0])))); err != nil {
		return nil, err
	}
	return &Image{Data: data, Cubin: cubin, Arch: arch}, nil
}

func (c *Compiler) log(prog uintptr) string {
	var n uint64
	if c.fn.GetProgramLogSize.Call(prog, uintptr(unsafe.Pointer(&n))) != 0 || n <= 1 {
		return ""
	}
	b := make([]byte, n)
	if c.fn.GetProgramLog.Call(prog, uintptr(unsafe.Pointer(&b[0]))) != 0 {
		return ""
	}
	return strings.TrimRight(string(b), "\x00\n")
}

// Cache stores compiled images in Dir, one file per key. Writes are atomic
// (temporary file, then rename), so concurrent processes sharing the cache
// never read half a file. The zero Dir disables caching.
type Cache struct {
	Dir string
}

// DefaultCacheDir is $SWEEP_CUDA_CACHE, or the user cache directory's
// sweep/cuda-kernels.
func DefaultCacheDir(getenv func(string) string) string {
	if d := getenv("SWEEP_CUDA_CACHE"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "sweep", "cuda-kernels")
}

// Key hashes everything that changes the compiler's output.
func Key(src, arch, compilerVersion string, opts []string) string {
	h := sha256.New()
	for _, part := range append([]string{src, arch, compilerVersion}, opts...) {
		fmt.Fprintf(h, "%d:%s;", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func (c Cache) path(key, arch string) string {
	ext := ".ptx"
	if strings.HasPrefix(arch, "sm_") {
		ext = ".cubin"
	}
	return filepath.Join(c.Dir, arch+"-"+key+ext)
}

// Get returns the cached image for key, or nil.
func (c Cache) Get(key, arch string) *Image {
	if c.Dir == "" {
		return nil
	}
	b, err := os.ReadFile(c.path(key, arch))
	if err != nil || len(b) == 0 {
		return nil
	}
	return &Image{Data: b, Cubin: strings.HasPrefix(arch, "sm_"), Arch: arch, Cached: true}
}

// Put stores img under key. Caching is best effort: callers may ignore the
// error, which only costs a recompilation next time.
func (c Cache) Put(key string, img *Image) error {
	if c.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("create kernel cache: %w", err)
	}
	tmp, err := os.CreateTemp(c.Dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("create kernel cache file: %w", err)
	}
	if _, err := tmp.Write(img.Data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write kernel cache file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write kernel cache file: %w", err)
	}
	return os.Rename(tmp.Name(), c.path(key, img.Arch))
}

// Build returns the image for src on a device of compute capability sm,
// from cache when present, compiling and caching it otherwise.
func (c *Compiler) Build(cache Cache, name, src string, sm int, opts ...string) (*Image, error) {
	arch, cubin := Target(sm, c.SupportedArchs())
	if cubin && c.fn.GetCUBINSize == 0 {
		arch = fmt.Sprintf("compute_%d", sm) // NVRTC before 11.1: PTX only
	}
	key := Key(src, arch, fmt.Sprintf("nvrtc %d.%d", c.major, c.minor), opts)
	if img := cache.Get(key, arch); img != nil {
		return img, nil
	}
	img, err := c.Compile(name, src, arch, opts...)
	if err != nil {
		return nil, err
	}
	_ = cache.Put(key, img) // best effort, see Put
	return img, nil
}

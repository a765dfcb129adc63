package cuda

import (
	"fmt"
	"os"
	"strconv"

	"sweep/trainer/engine/cuda/devsched"
)

// OptionsFromEnv reads SWEEP_TF32=1 (allow TF32 in float32 GEMM and
// convolution), SWEEP_CUDNN=0 (force the im2col convolution),
// SWEEP_CUDNN_SEARCH=1 (measure convolution algorithms) and
// SWEEP_CUDA_CACHE (kernel cache directory).
func OptionsFromEnv(getenv func(string) string) Options {
	if getenv == nil {
		getenv = os.Getenv
	}
	tf32, _ := strconv.ParseBool(getenv("SWEEP_TF32"))
	search, _ := strconv.ParseBool(getenv("SWEEP_CUDNN_SEARCH"))
	o := Options{TF32: tf32, Search: search, CacheDir: getenv("SWEEP_CUDA_CACHE"), Getenv: getenv}
	if v := getenv("SWEEP_CUDNN"); v != "" {
		on, err := strconv.ParseBool(v)
		o.NoCuDNN = err == nil && !on
	}
	return o
}

// Open starts the backend for a trainer device string, "cuda" or "cuda:N",
// with options from the environment (see OptionsFromEnv).
func Open(device string, getenv func(string) string) (*Backend, error) {
	slot, err := devsched.ParseSlot(device)
	if err != nil {
		return nil, err
	}
	if slot == devsched.CPU {
		return nil, fmt.Errorf("cuda: device %q is the CPU", device)
	}
	o := OptionsFromEnv(getenv)
	o.Device = slot.Device
	return New(o)
}

package trainer

import (
	"fmt"
	"io"
	"strings"

	"sweep/trainer/engine/cuda/devsched"
)

// resolveDevice turns Config.Device "auto" into "cuda:0" when a GPU is
// found (gpus lists them; cuda.Devices outside tests), else into "cpu" with
// a one-line notice on log, keeping bf16 (the CPU backend's bf16 GEMM) and
// turning fp16 into fp32; any other device is returned as is.
// Studies place trials on GPUs themselves (objective.Place) and never pass
// "auto" here; `sweep train` does.
func resolveDevice(c *Config, log io.Writer, gpus func() ([]devsched.Device, error)) string {
	if c.Device != "auto" {
		return c.Device
	}
	found, err := gpus()
	if err == nil && len(found) > 0 {
		return devsched.Slot{Device: found[0].Ordinal}.String()
	}
	why := "no CUDA device found"
	if err != nil {
		// The first line of the driver search report; `sweep doctor -v`
		// prints all of it.
		line, _, more := strings.Cut(err.Error(), "\n")
		why = strings.TrimSuffix(strings.TrimSpace(line), "; searched:")
		if more {
			why += " (sweep doctor -v shows where)"
		}
	}
	// The CPU backend runs bf16 GEMMs (cpu.BF16) but has no fp16: without
	// loss scaling on the CPU, fp16 falls back to fp32 rather than failing
	// a run that asked for "any device".
	note, prec := "", "fp32"
	switch c.Precision {
	case "bf16":
		prec = "bf16"
	case "", "fp32":
	default:
		note = fmt.Sprintf(" (precision %s ignored)", c.Precision)
		c.Precision = "fp32"
	}
	fmt.Fprintf(log, "sweep: device auto: %s; training on the CPU in %s%s\n", why, prec, note)
	return "cpu"
}

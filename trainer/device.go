package trainer

import (
	"fmt"
	"io"

	"sweep/trainer/engine/cuda/devsched"
)

// resolveDevice turns Config.Device "auto" into "cuda:0" when a GPU is
// found (gpus lists them; cuda.Devices outside tests), else into "cpu" in
// fp32 with a one-line notice on log; any other device is returned as is.
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
		why = err.Error()
	}
	note := ""
	if c.Precision != "" && c.Precision != "fp32" {
		note = fmt.Sprintf(" (precision %s ignored)", c.Precision)
		c.Precision = "fp32"
	}
	fmt.Fprintf(log, "sweep: device auto: %s; training on the CPU in fp32%s\n", why, note)
	return "cpu"
}

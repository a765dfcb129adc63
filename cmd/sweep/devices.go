package main

import (
	"fmt"
	"io"

	"sweep/objective"
	"sweep/search"
	"sweep/trainer/engine/cuda/devsched"
)

// deviceSpec turns the spec's `devices:` setting and its companions into
// the scheduler's form.
func deviceSpec(s *search.Spec) devsched.Spec {
	return devsched.Spec{
		Auto:        s.Devices == nil && !s.DevicesCPU,
		IDs:         s.Devices,
		CPU:         s.DevicesCPU,
		PerDevice:   s.TrialsPerDevice,
		TrialBytes:  int64(s.TrialMemoryGB * (1 << 30)),
		CPUFallback: s.CPUFallback,
	}
}

// placeCIFAR10 wraps the cifar10 objective obj of spec s so that each
// trial holds a device slot (see objective.Place); found lists the GPUs
// (cuda.Devices). A placement that cannot work is reported at the
// objective's device line; a CPU fallback or the GPU slots in use are
// announced on w in one line.
func placeCIFAR10(s *search.Spec, obj objective.Objective, found func() ([]devsched.Device, error), w io.Writer) (objective.Objective, error) {
	dev, prec := "cpu", "fp32"
	if v, ok := s.Objective.Options["device"].(string); ok {
		dev = v
	}
	if v, ok := s.Objective.Options["precision"].(string); ok {
		prec = v
	}
	pl, notice, err := objective.Place(obj, objective.Placement{Device: dev, Precision: prec, Devices: deviceSpec(s), Found: found})
	if err != nil {
		c := s.Objective.Checker()
		c.Check("device", false, "%v", err)
		return nil, c.Err()
	}
	if n := pl.Slots(); n > 0 && s.Workers > n {
		notice += fmt.Sprintf(" (workers: %d, so %d trials wait at a time)", s.Workers, s.Workers-n)
	}
	if notice != "" {
		fmt.Fprintln(w, notice)
	}
	return pl, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"sync"

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

// preparer is implemented by objectives that must look at the machine
// before their first trial (placedObjective finds the GPUs). work calls it
// once with the number of trial slots, so that parsing a spec (--dry-run,
// tests, a head node without GPUs) never probes devices.
type preparer interface {
	Prepare(slots int, w io.Writer) error
}

// prepareObjective runs obj's Prepare when it has one.
func prepareObjective(obj objective.Objective, slots int, w io.Writer) error {
	if p, ok := obj.(preparer); ok {
		return p.Prepare(slots, w)
	}
	return nil
}

// placedObjective is the cifar10 or command objective of a study, placed on devices
// (see objective.Place) when Prepare (or, failing that, the first Run)
// finds the GPUs. Safe for concurrent use.
type placedObjective struct {
	inner objective.Objective
	place objective.Placement
	spec  *search.Spec
	// locate reports a placement problem at the spec line it concerns.
	locate func(*search.Spec, error) error
	once   sync.Once
	pl     *objective.Placed
	err    error
}

// placeCIFAR10 wraps the cifar10 objective obj of spec s so that each
// trial holds a device slot; found lists the GPUs (cuda.Devices). What can
// be checked without a GPU (the device option's form, a CPU objective
// given GPU ordinals) is reported now, at the objective's device line.
func placeCIFAR10(s *search.Spec, obj objective.Objective, found func() ([]devsched.Device, error)) (objective.Objective, error) {
	p := objective.Placement{Device: "cpu", Precision: "fp32", Devices: deviceSpec(s), Found: found}
	if v, ok := s.Objective.Options["device"].(string); ok {
		p.Device = v
	}
	if v, ok := s.Objective.Options["precision"].(string); ok {
		p.Precision = v
	}
	if err := p.Check(); err != nil {
		return nil, locateDevice(s, err)
	}
	return &placedObjective{inner: obj, place: p, spec: s, locate: locateDevice}, nil
}

// placeCommand wraps the command objective obj of spec s so that each trial
// holds a device slot, which its program sees as CUDA_VISIBLE_DEVICES. The
// spec's devices decide: auto (the default) uses the GPUs found and runs
// programs with no GPU visible when there are none; a list of GPUs
// requires them; cpu hides every GPU.
func placeCommand(s *search.Spec, obj objective.Objective, found func() ([]devsched.Device, error)) objective.Objective {
	p := objective.Placement{Device: "auto", Devices: deviceSpec(s), Found: found}
	if s.Devices != nil {
		p.Device = "cuda"
	}
	locate := func(s *search.Spec, err error) error {
		return search.SpecErrors{{File: s.Objective.File, Line: s.Objective.Line, Field: "devices", Err: err}}
	}
	return &placedObjective{inner: obj, place: p, spec: s, locate: locate}
}

// Prepare finds the GPUs and plans the slots, reporting a placement that
// cannot work at the objective's device line. A CPU fallback, or the GPU
// slots in use when slots trials run here, are announced on w in one line.
func (o *placedObjective) Prepare(slots int, w io.Writer) error {
	o.once.Do(func() {
		var notice string
		o.pl, notice, o.err = objective.Place(o.inner, o.place)
		if o.err != nil {
			o.err = o.locate(o.spec, o.err)
			return
		}
		if n := o.pl.Slots(); n > 0 && slots > n {
			notice += fmt.Sprintf(" (%d trial slots here, so %d wait at a time)", slots, slots-n)
		}
		if notice != "" && w != nil {
			fmt.Fprintln(w, notice)
		}
	})
	return o.err
}

// Steps implements objective.StepCounter for the inner objective.
func (o *placedObjective) Steps(params objective.Params) int {
	return objective.StepsOf(o.inner, params)
}

// Run places the trial (preparing first if work did not) and runs it.
func (o *placedObjective) Run(ctx context.Context, params objective.Params, r objective.Reporter) (objective.Result, error) {
	if err := o.Prepare(0, nil); err != nil {
		return objective.Result{}, err
	}
	return o.pl.Run(ctx, params, r)
}

// locateDevice reports err at the spec's objective.device line.
func locateDevice(s *search.Spec, err error) error {
	c := s.Objective.Checker()
	c.Check("device", false, "%v", err)
	return c.Err()
}

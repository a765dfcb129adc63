package objective

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"sweep/trainer/engine/cuda/devsched"
)

// Placement says where a study's trials may train: the objective's own
// `device:` option and the study spec's `devices:` setting with its
// companions (trials_per_device, trial_memory_gb, cpu_fallback).
//
// The device option decides whether GPUs are wanted at all:
//
//	cpu     every trial on the CPU (the default); spec devices must not list GPUs
//	auto    GPUs when found, else the CPU with a one-line notice (bf16 stays
//	        bf16, the CPU's bf16 GEMM; fp16, which the CPU lacks, becomes fp32)
//	cuda    GPUs; none found is an error unless cpu_fallback: true
//	cuda:N  GPU N only (trials_per_device of them at once)
//
// `devices: cpu` in the spec trains every trial on the CPU whatever the
// option says.
type Placement struct {
	Device    string        // the objective's device option
	Precision string        // the objective's precision option (see cpuPrecision on a CPU fallback)
	Devices   devsched.Spec // from the study spec
	// Found lists the GPUs (cuda.Devices in the binary, a fake in tests).
	// Its error means "no usable GPU" and is quoted in messages.
	Found func() ([]devsched.Device, error)
}

// Placed wraps an objective so that each Run holds one device slot for
// its whole length and trains there: the slot is passed to the inner
// objective as the `device` param (cpu or cuda:N), which overrides the
// option and any searched `device` param, and is recorded as attr
// `device`. With more trial slots (`workers`) than device slots, the extra
// trials wait in Run, holding their trial, until a device frees up; the
// wait ends early when ctx is cancelled. Safe for concurrent use.
type Placed struct {
	inner Objective
	pool  *devsched.Pool // nil: every trial runs on fixed
	fixed devsched.Slot
	prec  string // precision override; "" keeps the option
	// cpuFallback: trials meant for GPUs train on the CPU; their precision
	// (option or searched param) goes through cpuPrecision.
	cpuFallback bool
}

// cpuPrecision is the precision a trial meant for a GPU trains in on the
// CPU: bf16 stays (the CPU backend's bf16 GEMM, as trainer's own device
// fallback keeps it), anything else becomes fp32.
func cpuPrecision(prec any) string {
	if prec == "bf16" {
		return "bf16"
	}
	return "fp32"
}

var _ Objective = (*Placed)(nil)

// Place resolves p and returns obj wrapped accordingly, plus a one-line
// notice for the user when the outcome deserves one (a CPU fallback, the
// GPU slots in use). A device option naming GPUs that cannot be used is
// an error, as is a spec listing GPUs for a CPU objective.
func Place(obj Objective, p Placement) (*Placed, string, error) {
	if err := p.Check(); err != nil {
		return nil, "", err
	}
	spec := p.Devices
	dev := strings.TrimSpace(p.Device)
	switch {
	case spec.CPU || dev == "" || dev == "cpu":
		return &Placed{inner: obj, fixed: devsched.CPU}, "", nil
	case dev != "auto" && dev != "cuda":
		slot, _ := devsched.ParseSlot(dev)
		spec.Auto, spec.IDs = false, []int{slot.Device}
	}
	var found []devsched.Device
	var why error
	if p.Found != nil {
		found, why = p.Found()
		why = firstLine(why)
	}
	if dev == "auto" && !spec.CPUFallback {
		spec.CPUFallback = len(found) == 0
	}
	slots, err := devsched.Plan(spec, found)
	if err != nil {
		if why != nil && errors.Is(err, devsched.ErrNoGPU) {
			err = fmt.Errorf("%w (%v)", err, why)
		}
		what := "cifar10"
		if _, ok := obj.(DeviceRunner); ok {
			what = "command"
		}
		return nil, "", fmt.Errorf("place %s trials: %w", what, err)
	}
	if len(slots) == 1 && slots[0] == devsched.CPU {
		reason := "no CUDA device found"
		if why != nil {
			reason = why.Error()
		}
		fallback := &Placed{inner: obj, fixed: devsched.CPU, prec: cpuPrecision(p.Precision), cpuFallback: true}
		if _, ok := obj.(DeviceRunner); ok {
			return fallback, fmt.Sprintf("sweep: devices %s: %s; programs run with CUDA_VISIBLE_DEVICES empty", dev, reason), nil
		}
		return fallback, fmt.Sprintf("sweep: device %s: %s; trials train on the CPU in %s", dev, reason, fallback.prec), nil
	}
	pl := &Placed{inner: obj, pool: devsched.NewPool(slots)}
	return pl, fmt.Sprintf("sweep: %d trial slot(s) on %s; trials beyond that wait for a free GPU", len(slots), describeSlots(slots)), nil
}

// Check reports what is wrong with p without looking for GPUs: a device
// option that is not cpu, auto, cuda or cuda:N, or a CPU objective given
// GPU ordinals in the spec.
func (p Placement) Check() error {
	dev := strings.TrimSpace(p.Device)
	switch {
	case p.Devices.CPU:
		return nil
	case dev == "" || dev == "cpu":
		if len(p.Devices.IDs) > 0 {
			return fmt.Errorf("devices lists GPUs %v but device is cpu; set device: cuda or auto", p.Devices.IDs)
		}
	case dev == "auto" || dev == "cuda":
	default:
		if slot, err := devsched.ParseSlot(dev); err != nil || slot == devsched.CPU {
			return fmt.Errorf("device %q: want cpu, auto, cuda or cuda:N", dev)
		}
	}
	return nil
}

// firstLine keeps the first line of a multi-line error (the library
// search report of package dynlib, which `sweep doctor -v` prints whole).
func firstLine(err error) error {
	if err == nil {
		return nil
	}
	line, _, more := strings.Cut(err.Error(), "\n")
	if !more {
		return err
	}
	return fmt.Errorf("%s (sweep doctor -v shows where)", strings.TrimSuffix(strings.TrimSpace(line), "; searched:"))
}

// Slots is the number of trials that train at once; 0 means no limit (CPU).
func (p *Placed) Slots() int {
	if p.pool == nil {
		return 0
	}
	return p.pool.Size()
}

// Steps implements StepCounter for the inner objective.
func (p *Placed) Steps(params Params) int { return StepsOf(p.inner, params) }

// Run waits for a device slot, then runs the inner objective on it.
func (p *Placed) Run(ctx context.Context, params Params, r Reporter) (Result, error) {
	slot := p.fixed
	if p.pool != nil {
		var err error
		if slot, err = p.pool.Acquire(ctx); err != nil {
			return Result{}, fmt.Errorf("wait for a device slot: %w", err)
		}
		defer p.pool.Release(slot)
	}
	if dr, ok := p.inner.(DeviceRunner); ok {
		res, err := dr.RunOn(ctx, slot, params, r)
		return withDevice(res, err, slot)
	}
	q := make(Params, len(params)+2)
	maps.Copy(q, params)
	q["device"] = slot.String()
	if p.prec != "" {
		q["precision"] = p.prec
	}
	if searched, ok := params["precision"]; ok && p.cpuFallback {
		q["precision"] = cpuPrecision(searched)
	}
	res, err := p.inner.Run(ctx, q, r)
	return withDevice(res, err, slot)
}

// withDevice records the slot as attr `device` of a result that has attrs
// or no error.
func withDevice(res Result, err error, slot devsched.Slot) (Result, error) {
	if res.Attrs != nil || err == nil {
		if res.Attrs == nil {
			res.Attrs = map[string]string{}
		}
		res.Attrs["device"] = slot.String()
	}
	return res, err
}

// DeviceRunner is an optional interface for objectives that take their
// device slot as an argument instead of the `device` param that Placed adds
// for cifar10: the command objective hands it to its program as
// CUDA_VISIBLE_DEVICES and must not pass an extra param on its command
// line. Placed calls RunOn instead of Run when the inner objective has it,
// and does not override the precision.
type DeviceRunner interface {
	RunOn(ctx context.Context, slot devsched.Slot, params Params, r Reporter) (Result, error)
}

// describeSlots says "cuda:0 ×2, cuda:1 ×2" for a GPU-major slot list.
func describeSlots(slots []devsched.Slot) string {
	var parts []string
	for i := 0; i < len(slots); {
		j := i
		for j < len(slots) && slots[j] == slots[i] {
			j++
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", slots[i], j-i))
		i = j
	}
	return strings.Join(parts, ", ")
}

// Package devsched decides where trials train: it parses a study's
// `devices:` setting (auto, a list of GPU ordinals, or cpu), checks it
// against the GPUs found, and hands out one slot per concurrent trial, one
// trial per GPU by default or N per GPU when their memory allows. Training
// falls back to the CPU only when the spec asks for it.
//
// It does not query GPUs itself: callers pass the device list (from the
// CUDA driver, or a fake in tests).
package devsched

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors.
var (
	ErrNoGPU     = errors.New("devsched: no CUDA device found")
	ErrBadDevice = errors.New("devsched: no such device")
	ErrMemory    = errors.New("devsched: not enough free device memory")
)

// Spec is the parsed `devices:` setting plus its companions.
type Spec struct {
	Auto        bool  // use every visible GPU
	IDs         []int // explicit GPU ordinals (when not Auto and not CPU)
	CPU         bool  // train on the CPU only
	PerDevice   int   // trials per GPU; 0 means 1
	TrialBytes  int64 // device memory one trial needs; 0 skips the check
	CPUFallback bool  // use the CPU when no GPU is found (never silently)
}

// Parse reads the decoded YAML value of `devices:`: missing (nil) or
// "auto", "cpu", one ordinal, or a list of ordinals. Strings such as
// "0,1" and "[0, 1]" (a command-line flag) are accepted too.
func Parse(v any) (Spec, error) {
	switch x := v.(type) {
	case nil:
		return Spec{Auto: true}, nil
	case int:
		return checkIDs([]int{x})
	case string:
		return parseString(x)
	case []int:
		return checkIDs(x)
	case []any:
		ids := make([]int, len(x))
		for i, e := range x {
			n, ok := e.(int)
			if !ok {
				return Spec{}, fmt.Errorf("devsched: devices[%d] = %v: want a GPU ordinal (0, 1, ...)", i, e)
			}
			ids[i] = n
		}
		return checkIDs(ids)
	}
	return Spec{}, fmt.Errorf("devsched: devices = %v (%T): want auto, cpu or a list of GPU ordinals", v, v)
}

func parseString(s string) (Spec, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	switch t {
	case "", "auto":
		return Spec{Auto: true}, nil
	case "cpu":
		return Spec{CPU: true}, nil
	}
	t = strings.TrimSuffix(strings.TrimPrefix(t, "["), "]")
	var ids []int
	for _, f := range strings.Split(t, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return Spec{}, fmt.Errorf("devsched: devices %q: %q is not a GPU ordinal; want auto, cpu or e.g. [0, 1]", s, strings.TrimSpace(f))
		}
		ids = append(ids, n)
	}
	return checkIDs(ids)
}

func checkIDs(ids []int) (Spec, error) {
	if len(ids) == 0 {
		return Spec{}, errors.New("devsched: devices is an empty list; want auto, cpu or GPU ordinals")
	}
	seen := map[int]bool{}
	for _, id := range ids {
		if id < 0 {
			return Spec{}, fmt.Errorf("devsched: device %d: ordinals start at 0", id)
		}
		if seen[id] {
			return Spec{}, fmt.Errorf("devsched: device %d listed twice", id)
		}
		seen[id] = true
	}
	return Spec{IDs: ids}, nil
}

// Device is one GPU as the driver reports it.
type Device struct {
	Ordinal    int
	Name       string
	FreeBytes  int64
	TotalBytes int64
}

// Slot is where one trial runs: a GPU ordinal, or CPU.
type Slot struct {
	Device int // GPU ordinal; -1 for the CPU
}

// CPU is the slot for CPU training.
var CPU = Slot{Device: -1}

func (s Slot) String() string {
	if s.Device < 0 {
		return "cpu"
	}
	return fmt.Sprintf("cuda:%d", s.Device)
}

// Plan lists the slots for spec on the devices found, GPU-major (all
// trials of GPU 0, then GPU 1, ...). found may be empty (no driver).
func Plan(spec Spec, found []Device) ([]Slot, error) {
	if spec.CPU {
		return []Slot{CPU}, nil
	}
	byID := map[int]Device{}
	for _, d := range found {
		byID[d.Ordinal] = d
	}
	var use []Device
	if spec.Auto {
		use = found
	} else {
		for _, id := range spec.IDs {
			d, ok := byID[id]
			if !ok {
				return nil, fmt.Errorf("%w: GPU %d (found %s)", ErrBadDevice, id, describe(found))
			}
			use = append(use, d)
		}
	}
	if len(use) == 0 {
		if spec.CPUFallback {
			return []Slot{CPU}, nil
		}
		return nil, fmt.Errorf("%w; set devices: cpu, or cpu_fallback: true to train on the CPU", ErrNoGPU)
	}
	per := max(spec.PerDevice, 1)
	var slots []Slot
	for _, d := range use {
		if need := int64(per) * spec.TrialBytes; spec.TrialBytes > 0 && need > d.FreeBytes {
			return nil, fmt.Errorf("%w: GPU %d (%s) has %.1f GiB free, %d trials need %.1f GiB",
				ErrMemory, d.Ordinal, d.Name, gib(d.FreeBytes), per, gib(need))
		}
		for range per {
			slots = append(slots, Slot{Device: d.Ordinal})
		}
	}
	return slots, nil
}

func gib(b int64) float64 { return float64(b) / (1 << 30) }

func describe(found []Device) string {
	if len(found) == 0 {
		return "none"
	}
	var parts []string
	for _, d := range found {
		parts = append(parts, fmt.Sprintf("%d: %s", d.Ordinal, d.Name))
	}
	return strings.Join(parts, ", ")
}

// Pool hands slots to concurrent trials: Acquire blocks until one is free.
// It is safe for concurrent use.
type Pool struct {
	free chan Slot
}

// NewPool returns a pool holding slots.
func NewPool(slots []Slot) *Pool {
	p := &Pool{free: make(chan Slot, len(slots))}
	for _, s := range slots {
		p.free <- s
	}
	return p
}

// Size is the number of slots, the useful number of parallel trials.
func (p *Pool) Size() int { return cap(p.free) }

// Acquire takes a free slot, waiting until one is released or ctx ends.
func (p *Pool) Acquire(ctx context.Context) (Slot, error) {
	select {
	case s := <-p.free:
		return s, nil
	case <-ctx.Done():
		return Slot{}, ctx.Err()
	}
}

// Release returns s to the pool.
func (p *Pool) Release(s Slot) { p.free <- s }

// ParseSlot reads a trainer device string: "cpu", "cuda" (GPU 0) or
// "cuda:N". It is the inverse of Slot.String.
func ParseSlot(s string) (Slot, error) {
	switch {
	case s == "cpu" || s == "":
		return CPU, nil
	case s == "cuda":
		return Slot{Device: 0}, nil
	case strings.HasPrefix(s, "cuda:"):
		n, err := strconv.Atoi(s[len("cuda:"):])
		if err == nil && n >= 0 {
			return Slot{Device: n}, nil
		}
	}
	return Slot{}, fmt.Errorf("devsched: device %q: want cpu, cuda or cuda:N", s)
}

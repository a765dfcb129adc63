package devsched

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   any
		want string // fmt of Spec, or "error: <text>"
	}{
		{nil, "auto"},
		{"auto", "auto"},
		{" AUTO ", "auto"},
		{"cpu", "cpu"},
		{1, "[1]"},
		{[]any{0, 1}, "[0 1]"},
		{"[0, 1]", "[0 1]"},
		{"2,3", "[2 3]"},
		{[]any{0, "one"}, "error: devsched: devices[1] = one: want a GPU ordinal (0, 1, ...)"},
		{"gpu0", `error: devsched: devices "gpu0": "gpu0" is not a GPU ordinal; want auto, cpu or e.g. [0, 1]`},
		{[]any{}, "error: devsched: devices is an empty list; want auto, cpu or GPU ordinals"},
		{[]any{1, 1}, "error: devsched: device 1 listed twice"},
		{-1, "error: devsched: device -1: ordinals start at 0"},
		{3.5, "error: devsched: devices = 3.5 (float64): want auto, cpu or a list of GPU ordinals"},
	}
	for _, c := range cases {
		s, err := Parse(c.in)
		got := ""
		switch {
		case err != nil:
			got = "error: " + err.Error()
		case s.Auto:
			got = "auto"
		case s.CPU:
			got = "cpu"
		default:
			got = fmt.Sprint(s.IDs)
		}
		if got != c.want {
			t.Errorf("Parse(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}

var twoGPUs = []Device{
	{Ordinal: 0, Name: "H100", FreeBytes: 70 << 30, TotalBytes: 80 << 30},
	{Ordinal: 1, Name: "H100", FreeBytes: 10 << 30, TotalBytes: 80 << 30},
}

func TestPlan(t *testing.T) {
	cases := []struct {
		name  string
		spec  Spec
		found []Device
		want  string
		err   error
	}{
		{"AutoOnePerGPU", Spec{Auto: true}, twoGPUs, "[cuda:0 cuda:1]", nil},
		{"Listed", Spec{IDs: []int{1}}, twoGPUs, "[cuda:1]", nil},
		{"TwoPerGPU", Spec{IDs: []int{0}, PerDevice: 2, TrialBytes: 30 << 30}, twoGPUs, "[cuda:0 cuda:0]", nil},
		{"MemoryCheck", Spec{Auto: true, PerDevice: 2, TrialBytes: 8 << 30}, twoGPUs, "", ErrMemory},
		{"MissingGPU", Spec{IDs: []int{0, 2}}, twoGPUs, "", ErrBadDevice},
		{"NoGPUNoFallback", Spec{Auto: true}, nil, "", ErrNoGPU},
		{"NoGPUFallback", Spec{Auto: true, CPUFallback: true}, nil, "[cpu]", nil},
		{"CPUAsked", Spec{CPU: true}, twoGPUs, "[cpu]", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			slots, err := Plan(c.spec, c.found)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil || fmt.Sprint(slots) != c.want {
				t.Fatalf("Plan = %v, %v; want %s", slots, err, c.want)
			}
		})
	}
	_, err := Plan(Spec{IDs: []int{5}}, twoGPUs)
	if want := "devsched: no such device: GPU 5 (found 0: H100, 1: H100)"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	_, err = Plan(Spec{Auto: true, PerDevice: 2, TrialBytes: 8 << 30}, twoGPUs)
	if want := "devsched: not enough free device memory: GPU 1 (H100) has 10.0 GiB free, 2 trials need 16.0 GiB"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}

func TestPool(t *testing.T) {
	p := NewPool([]Slot{{0}, {1}})
	ctx := context.Background()
	a, _ := p.Acquire(ctx)
	b, _ := p.Acquire(ctx)
	if a == b || p.Size() != 2 {
		t.Fatalf("got slots %v and %v", a, b)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := p.Acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire on an empty pool: %v", err)
	}
	done := make(chan Slot)
	go func() { s, _ := p.Acquire(ctx); done <- s }()
	p.Release(b)
	if got := <-done; got != b {
		t.Fatalf("waiting Acquire got %v, want the released %v", got, b)
	}
}

func TestParseSlot(t *testing.T) {
	for in, want := range map[string]string{"cpu": "cpu", "": "cpu", "cuda": "cuda:0", "cuda:3": "cuda:3"} {
		s, err := ParseSlot(in)
		if err != nil || s.String() != want {
			t.Errorf("ParseSlot(%q) = %v, %v; want %s", in, s, err, want)
		}
	}
	for _, bad := range []string{"gpu", "cuda:", "cuda:-1", "cuda:x"} {
		if _, err := ParseSlot(bad); err == nil {
			t.Errorf("ParseSlot(%q) accepted", bad)
		}
	}
}

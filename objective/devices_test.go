package objective_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"sweep/objective"
	"sweep/trainer/engine/cuda/devsched"
)

// objectiveFunc is an Objective made of a function.
type objectiveFunc func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error)

func (f objectiveFunc) Run(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
	return f(ctx, p, r)
}

// recordParams returns an objective that records the params of each run.
func recordParams(mu *sync.Mutex, got *[]objective.Params) objectiveFunc {
	return func(_ context.Context, p objective.Params, _ objective.Reporter) (objective.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		*got = append(*got, p)
		return objective.Result{Value: 1}, nil
	}
}

func gpus(n int, free int64) func() ([]devsched.Device, error) {
	return func() ([]devsched.Device, error) {
		var ds []devsched.Device
		for i := range n {
			ds = append(ds, devsched.Device{Ordinal: i, Name: "FakeGPU", FreeBytes: free, TotalBytes: free})
		}
		return ds, nil
	}
}

var noDriver = func() ([]devsched.Device, error) { return nil, errors.New("cuda: libcuda.so.1 not found") }

func TestPlace(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		name       string
		p          objective.Placement
		wantDevice string // the device param of one run
		wantPrec   any    // the precision param (nil: untouched)
		wantSlots  int
		wantNotice string
		wantErr    string
	}{
		{name: "DefaultCPU", p: objective.Placement{Device: "cpu", Devices: devsched.Spec{Auto: true}, Found: gpus(2, 80*gib)}, wantDevice: "cpu"},
		{name: "CPUWithGPUList", p: objective.Placement{Device: "cpu", Devices: devsched.Spec{IDs: []int{0, 1}}}, wantErr: "devices lists GPUs [0 1] but device is cpu; set device: cuda or auto"},
		{name: "SpecCPUWins", p: objective.Placement{Device: "cuda", Devices: devsched.Spec{CPU: true}, Found: gpus(2, 80*gib)}, wantDevice: "cpu"},
		{name: "AutoNoGPU", p: objective.Placement{Device: "auto", Precision: "bf16", Devices: devsched.Spec{Auto: true}, Found: noDriver},
			wantDevice: "cpu", wantPrec: "bf16", wantNotice: "sweep: device auto: cuda: libcuda.so.1 not found; trials train on the CPU in bf16"},
		{name: "AutoNoGPUFP16", p: objective.Placement{Device: "auto", Precision: "fp16", Devices: devsched.Spec{Auto: true}, Found: noDriver},
			wantDevice: "cpu", wantPrec: "fp32", wantNotice: "sweep: device auto: cuda: libcuda.so.1 not found; trials train on the CPU in fp32"},
		{name: "AutoNoGPUSearchReport", p: objective.Placement{Device: "auto", Devices: devsched.Spec{Auto: true}, Found: func() ([]devsched.Device, error) {
			return nil, errors.New("dynlib: CUDA driver not found (libcuda.so.1); searched:\n  dynamic loader  libcuda.so.1: no such file")
		}}, wantDevice: "cpu", wantPrec: "fp32",
			wantNotice: "sweep: device auto: dynlib: CUDA driver not found (libcuda.so.1) (sweep doctor -v shows where); trials train on the CPU in fp32"},
		{name: "CUDANoGPU", p: objective.Placement{Device: "cuda", Devices: devsched.Spec{Auto: true}, Found: noDriver},
			wantErr: "place cifar10 trials: devsched: no CUDA device found; set devices: cpu, or cpu_fallback: true to train on the CPU (cuda: libcuda.so.1 not found)"},
		{name: "CUDAFallbackAsked", p: objective.Placement{Device: "cuda", Devices: devsched.Spec{Auto: true, CPUFallback: true}, Found: gpus(0, 0)},
			wantDevice: "cpu", wantPrec: "fp32", wantNotice: "no CUDA device found; trials train on the CPU"},
		{name: "AutoTwoGPUs", p: objective.Placement{Device: "auto", Devices: devsched.Spec{Auto: true, PerDevice: 2}, Found: gpus(2, 80*gib)},
			wantDevice: "cuda:0", wantSlots: 4, wantNotice: "4 trial slot(s) on cuda:0 ×2, cuda:1 ×2"},
		{name: "PinnedOrdinal", p: objective.Placement{Device: "cuda:1", Devices: devsched.Spec{Auto: true}, Found: gpus(2, 80*gib)},
			wantDevice: "cuda:1", wantSlots: 1},
		{name: "ListedMissing", p: objective.Placement{Device: "cuda", Devices: devsched.Spec{IDs: []int{3}}, Found: gpus(2, 80*gib)},
			wantErr: "devsched: no such device: GPU 3 (found 0: FakeGPU, 1: FakeGPU)"},
		{name: "Memory", p: objective.Placement{Device: "cuda", Devices: devsched.Spec{Auto: true, PerDevice: 4, TrialBytes: 30 * gib}, Found: gpus(1, 80*gib)},
			wantErr: "devsched: not enough free device memory: GPU 0 (FakeGPU) has 80.0 GiB free, 4 trials need 120.0 GiB"},
		{name: "BadDevice", p: objective.Placement{Device: "gpu"}, wantErr: `device "gpu": want cpu, auto, cuda or cuda:N`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []objective.Params
			pl, notice, err := objective.Place(recordParams(&mu, &got), tc.p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(notice, tc.wantNotice) || (tc.wantNotice == "" && tc.wantSlots == 0 && notice != "") {
				t.Errorf("notice = %q, want %q", notice, tc.wantNotice)
			}
			if pl.Slots() != tc.wantSlots {
				t.Errorf("slots = %d, want %d", pl.Slots(), tc.wantSlots)
			}
			res, err := pl.Run(context.Background(), objective.Params{"lr": 0.1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got[0]["device"] != tc.wantDevice || got[0]["precision"] != tc.wantPrec || got[0]["lr"] != 0.1 {
				t.Errorf("params = %v, want device %s precision %v lr 0.1", got[0], tc.wantDevice, tc.wantPrec)
			}
			if res.Attrs["device"] != tc.wantDevice {
				t.Errorf("attr device = %q, want %q", res.Attrs["device"], tc.wantDevice)
			}
		})
	}
}

// TestPlaced_Run runs more trials than device slots at once: no device
// ever holds more than its share, every GPU is used, and a trial waiting
// for a slot gives up when its context ends.
func TestPlaced_Run(t *testing.T) {
	var mu sync.Mutex
	busy, peak := map[string]int{}, map[string]int{}
	release := make(chan struct{})
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, _ objective.Reporter) (objective.Result, error) {
		d := p["device"].(string)
		mu.Lock()
		busy[d]++
		peak[d] = max(peak[d], busy[d])
		mu.Unlock()
		<-release
		mu.Lock()
		busy[d]--
		mu.Unlock()
		return objective.Result{}, nil
	})
	pl, _, err := objective.Place(obj, objective.Placement{Device: "cuda", Devices: devsched.Spec{Auto: true, PerDevice: 2}, Found: gpus(2, 1<<34)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 7 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := pl.Run(context.Background(), nil, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	// Four trials hold the four slots; three wait. One more waiting trial
	// is cancelled.
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return busy["cuda:0"]+busy["cuda:1"] == 4 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := pl.Run(ctx, nil, nil); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: error = %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	if peak["cuda:0"] != 2 || peak["cuda:1"] != 2 || len(peak) != 2 {
		t.Errorf("peak trials per device = %v, want 2 on each of cuda:0 and cuda:1", peak)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPlace_SearchedPrecisionOnCPU: a searched precision param of a trial
// that falls back to the CPU keeps bf16 (the CPU's bf16 GEMM) and turns
// fp16, which the CPU lacks, into fp32; on a GPU slot it is left alone.
func TestPlace_SearchedPrecisionOnCPU(t *testing.T) {
	for _, tc := range []struct {
		found    func() ([]devsched.Device, error)
		searched string
		want     string
	}{
		{noDriver, "bf16", "bf16"},
		{noDriver, "fp16", "fp32"},
		{noDriver, "fp32", "fp32"},
		{gpus(1, 80<<30), "fp16", "fp16"},
	} {
		var mu sync.Mutex
		var got []objective.Params
		pl, _, err := objective.Place(recordParams(&mu, &got), objective.Placement{Device: "auto", Precision: "fp32", Devices: devsched.Spec{Auto: true}, Found: tc.found})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pl.Run(context.Background(), objective.Params{"precision": tc.searched}, nil); err != nil {
			t.Fatal(err)
		}
		if got[0]["precision"] != tc.want {
			t.Errorf("searched %s, slot %s: precision %v, want %s", tc.searched, got[0]["device"], got[0]["precision"], tc.want)
		}
	}
}

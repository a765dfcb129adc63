package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sweep/objective"
	"sweep/search"
	"sweep/trainer/engine/cuda/devsched"
)

func TestPlaceCIFAR10(t *testing.T) {
	const spec = `study: s
direction: maximize
trials: 4
workers: 3
objective:
  type: cifar10
  device: %s
params:
  lr: {type: float, low: 0.01, high: 0.1}
%s`
	oneGPU := func() ([]devsched.Device, error) {
		return []devsched.Device{{Ordinal: 0, Name: "FakeGPU", FreeBytes: 40 << 30, TotalBytes: 80 << 30}}, nil
	}
	none := func() ([]devsched.Device, error) { return nil, nil }
	for _, tc := range []struct {
		name, device, extra string
		found               func() ([]devsched.Device, error)
		wantDevice          string
		wantOut, wantErr    string
	}{
		{name: "CUDAOneGPUTwoPer", device: "cuda", extra: "trials_per_device: 2\ntrial_memory_gb: 10\n", found: oneGPU, wantDevice: "cuda:0",
			wantOut: "sweep: 2 trial slot(s) on cuda:0 ×2; trials beyond that wait for a free GPU (3 trial slots here, so 1 wait at a time)\n"},
		{name: "CUDAMemory", device: "cuda", extra: "trials_per_device: 2\ntrial_memory_gb: 30\n", found: oneGPU,
			wantErr: "s.yaml:7: objective.device: place cifar10 trials: devsched: not enough free device memory: GPU 0 (FakeGPU) has 40.0 GiB free, 2 trials need 60.0 GiB"},
		{name: "CUDANone", device: "cuda", found: none,
			wantErr: "s.yaml:7: objective.device: place cifar10 trials: devsched: no CUDA device found; set devices: cpu, or cpu_fallback: true to train on the CPU"},
		{name: "AutoNone", device: "auto", found: none, wantDevice: "cpu",
			wantOut: "sweep: device auto: no CUDA device found; trials train on the CPU in fp32\n"},
		{name: "DevicesCPU", device: "cuda", extra: "devices: cpu\n", found: oneGPU, wantDevice: "cpu"},
		{name: "CPUWithList", device: "cpu", extra: "devices: [0]\n", found: oneGPU,
			wantErr: "s.yaml:7: objective.device: devices lists GPUs [0] but device is cpu; set device: cuda or auto"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := search.ParseSpec("s.yaml", []byte(strings.Replace(strings.Replace(spec, "%s", tc.device, 1), "%s", tc.extra, 1)))
			if err != nil {
				t.Fatal(err)
			}
			var got objective.Params
			inner := objectiveFunc(func(_ context.Context, p objective.Params, _ objective.Reporter) (objective.Result, error) {
				got = p
				return objective.Result{}, nil
			})
			var out bytes.Buffer
			obj, err := placeCIFAR10(s, inner, tc.found)
			if err == nil {
				err = prepareObjective(obj, s.Workers, &out)
			}
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v\nwant    %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.wantOut {
				t.Errorf("notice = %q, want %q", out.String(), tc.wantOut)
			}
			if _, err := obj.Run(context.Background(), objective.Params{"lr": 0.05}, nil); err != nil {
				t.Fatal(err)
			}
			if got["device"] != tc.wantDevice {
				t.Errorf("trial device = %v, want %s", got["device"], tc.wantDevice)
			}
		})
	}
}

// TestPlaceCIFAR10_NoProbeUntilPrepared parses a GPU spec on a machine
// without GPUs: building the objective succeeds (dry runs and validation
// work anywhere), and the placement error comes from Prepare, or from Run
// when nothing prepared it.
func TestPlaceCIFAR10_NoProbeUntilPrepared(t *testing.T) {
	s, err := search.ParseSpec("s.yaml", []byte("study: s\ndirection: maximize\ntrials: 1\nobjective:\n  type: cifar10\n  device: cuda\nparams:\n  lr: {type: float, low: 0.01, high: 0.1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	probes := 0
	found := func() ([]devsched.Device, error) { probes++; return nil, nil }
	obj, err := placeCIFAR10(s, objectiveFunc(nil), found)
	if err != nil || probes != 0 {
		t.Fatalf("construction: error %v after %d probes; want none and no probe", err, probes)
	}
	_, err = obj.Run(context.Background(), nil, nil)
	const want = "s.yaml:6: objective.device: place cifar10 trials: devsched: no CUDA device found; set devices: cpu, or cpu_fallback: true to train on the CPU"
	if err == nil || err.Error() != want || probes != 1 {
		t.Errorf("run: error %v after %d probes\nwant %s after 1", err, probes, want)
	}
	if err2 := prepareObjective(obj, 1, nil); err2 == nil || err2.Error() != want || probes != 1 {
		t.Errorf("prepare after run: error %v after %d probes; want the same error, no new probe", err2, probes)
	}
}

type objectiveFunc func(context.Context, objective.Params, objective.Reporter) (objective.Result, error)

func (f objectiveFunc) Run(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
	return f(ctx, p, r)
}

// TestRunStart_PlacementBeforeStore starts a study whose GPU cannot exist
// (63): the placement error is reported at the device line before the
// database is opened (the DSN is unusable), so nothing is stored.
func TestRunStart_PlacementBeforeStore(t *testing.T) {
	file := filepath.Join(t.TempDir(), "s.yaml")
	spec := "study: s\ndirection: maximize\ntrials: 1\ndevices: [63]\nobjective:\n  type: cifar10\n  device: cuda\nparams:\n  lr: {type: float, low: 0.01, high: 0.1}\n"
	if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _, errOut, _ := newTestEnv(false)
	err := runStart(context.Background(), &startOptions{env: e, File: file, DB: "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"})
	if err == nil || err.Error() != file+": 1 problem; nothing was stored" {
		t.Fatalf("error = %v, want the spec-problem summary", err)
	}
	if want := file + ":7: objective.device: place cifar10 trials: devsched: no such device: GPU 63"; !strings.HasPrefix(errOut.String(), want) {
		t.Errorf("stderr = %q, want it to start with %q", errOut.String(), want)
	}
}

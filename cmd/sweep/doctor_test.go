package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"sweep/trainer/engine/cuda"
	"sweep/trainer/engine/cuda/driver"
)

func TestNewDoctorCmd(t *testing.T) {
	for _, c := range []struct {
		args    []string
		verbose bool
		err     string
	}{
		{nil, false, ""},
		{[]string{"--verbose"}, true, ""},
		{[]string{"-v"}, true, ""},
		{[]string{"extra"}, false, `unknown command "extra" for "doctor"`},
	} {
		var got *doctorOptions
		cmd := newDoctorCmd(&env{}, func(_ context.Context, o *doctorOptions) error { got = o; return nil })
		cmd.SetArgs(c.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%v: err = %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || got.Verbose != c.verbose {
			t.Errorf("%v: err %v, verbose %v", c.args, err, got != nil && got.Verbose)
		}
	}
}

func doctorEnv() (*env, *bytes.Buffer, *bytes.Buffer) {
	out, errb := &bytes.Buffer{}, &bytes.Buffer{}
	return &env{Out: out, Err: errb, Now: func() time.Time { return time.Unix(0, 0) },
		Getenv: func(k string) string {
			if k == "SWEEP_BLAS" {
				return "go" // the same line with or without OpenBLAS installed
			}
			return ""
		}}, out, errb
}

func TestRunDoctor(t *testing.T) {
	t.Run("WithGPU", func(t *testing.T) {
		e, out, _ := doctorEnv()
		opts := &doctorOptions{env: e, probe: func(func(string) string) cuda.Report {
			return cuda.Report{
				Libraries: []cuda.LibStatus{
					{Name: "CUDA driver", Version: "CUDA 12.4", Path: "/usr/lib/x86_64-linux-gnu/libcuda.so.1", Where: "dynamic loader"},
					{Name: "cuBLAS", Version: "12.4.5", Path: "/usr/local/cuda/lib64/libcublas.so.12", Where: "CUDA toolkit"},
					{Name: "cuDNN", Err: errors.New("dynlib: cuDNN not found (libcudnn.so.9, libcudnn.so); searched:\n  ...")},
					{Name: "NVRTC", Version: "12.4", Path: "/usr/local/cuda/lib64/libnvrtc.so.12", Where: "CUDA toolkit"},
				},
				Devices: []cuda.DeviceStatus{{DeviceInfo: driver.DeviceInfo{Ordinal: 0, Name: "NVIDIA H100 80GB HBM3",
					Major: 9, Minor: 0, SMs: 132, TotalBytes: 80 << 30}, FreeBytes: 79 << 30}},
			}
		}}
		if err := runDoctor(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"cpu      ok       cpu/go, ",
			"cuda     ok       1 GPU(s)\n",
			"cudnn    missing  convolutions will run as im2col + cuBLAS, several times slower; install cuDNN 9",
			"cuDNN        -          dynlib: cuDNN not found (libcudnn.so.9, libcudnn.so)\n",
			"cuBLAS       12.4.5     /usr/local/cuda/lib64/libcublas.so.12 (CUDA toolkit)",
			"0    NVIDIA H100 80GB HBM3  sm_90, 132 SMs  79.0 / 80.0 GiB",
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	})
	t.Run("WithCuDNN", func(t *testing.T) {
		e, out, errb := doctorEnv()
		opts := &doctorOptions{env: e, probe: func(func(string) string) cuda.Report {
			return cuda.Report{
				Libraries: []cuda.LibStatus{{Name: "CUDA driver", Version: "CUDA 13.0"}, {Name: "cuBLAS", Version: "13.0.0"},
					{Name: "cuDNN", Version: "9.13.0", Path: "/v/nvidia/cudnn/lib/libcudnn.so.9", Where: "pip wheel"}, {Name: "NVRTC", Version: "13.0"}},
				Devices: []cuda.DeviceStatus{{DeviceInfo: driver.DeviceInfo{Name: "GPU"}}},
			}
		}}
		if err := runDoctor(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "cudnn ") || errb.Len() != 0 || !strings.Contains(out.String(), "9.13.0") {
			t.Errorf("cuDNN present, output:\n%s\nstderr: %s", out, errb)
		}
	})
	t.Run("NoDriver", func(t *testing.T) {
		e, out, errb := doctorEnv()
		opts := &doctorOptions{env: e, probe: func(func(string) string) cuda.Report {
			err := errors.New("dynlib: CUDA driver not found (libcuda.so.1, libcuda.so); searched:\n  dynamic loader   libcuda.so.1: no such file")
			return cuda.Report{Err: err, Libraries: []cuda.LibStatus{{Name: "CUDA driver", Err: err}}}
		}}
		if err := runDoctor(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"cuda     unavailable  dynlib: CUDA driver not found (libcuda.so.1, libcuda.so)\n", "none found"} {
			if !strings.Contains(out.String(), w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
		if !strings.Contains(errb.String(), "--verbose") {
			t.Errorf("no hint about --verbose on stderr: %q", errb)
		}
	})
}

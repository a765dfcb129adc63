package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestNewBenchCmd(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    benchOptions
		wantErr string
	}{
		{"Defaults", "trainer", benchOptions{Model: "tiny", Batch: 128, Steps: 10, Device: "cpu", Precision: "fp32", Stem: "standard", Width: 1}, ""},
		{"Flags", "trainer --model resnet18 --batch 64 --steps 3 --json --stem article --se --width 0.5",
			benchOptions{Model: "resnet18", Batch: 64, Steps: 3, Device: "cpu", Precision: "fp32", Stem: "article", SE: true, Width: 0.5, JSON: true}, ""},
		{"CUDAFastNetBF16", "trainer --device cuda:1 --model fastnet --precision bf16",
			benchOptions{Model: "fastnet", Batch: 128, Steps: 10, Device: "cuda:1", Precision: "bf16", Stem: "standard", Width: 1}, ""},
		{"UnknownPrecision", "trainer --precision fp8", benchOptions{}, `--precision "fp8": want fp32, bf16 or fp16`},
		{"UnknownModel", "trainer --model vgg", benchOptions{}, `--model "vgg": want one of tiny, resnet18, resnet34, fastnet, fastnet94, fastnet95`},
		{"ZeroBatch", "trainer --batch 0", benchOptions{}, "--batch 0 --steps 10: both must be ≥ 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArgv(t, newBenchCmd, tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.env = nil
			if *got != tt.want {
				t.Fatalf("opts = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestRunBench(t *testing.T) {
	e, out, _, _ := newTestEnv(false)
	opts := &benchOptions{env: e, Model: "tiny", Batch: 4, Steps: 1, Device: "cpu", Stem: "standard", Width: 0.25, JSON: true}
	if err := runBench(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"img_per_s", "train_gflops", "sgemm_gflops", "ratio", "allocs_per_step", "peak_rss_mb"} {
		if v, ok := r[k].(float64); !ok || (k != "allocs_per_step" && v <= 0) {
			t.Errorf("%s = %v", k, r[k])
		}
	}

	out.Reset()
	opts.JSON = false
	if err := runBench(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"conv1", "img/s", "ratio"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, out)
		}
	}
	opts.Device = "tpu"
	if err := runBench(context.Background(), opts); err == nil || err.Error() != `--device "tpu": want cpu, cuda or cuda:N` {
		t.Errorf("err = %v", err)
	}
}

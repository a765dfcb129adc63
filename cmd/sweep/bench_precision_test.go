package main

import (
	"context"
	"encoding/json"
	"testing"
)

// TestRunBench_Precision runs fastnet on the CPU in fp32 (the precision is
// reported) and checks that 16-bit precisions are refused on the CPU.
func TestRunBench_Precision(t *testing.T) {
	e, out, _, _ := newTestEnv(false)
	opts := &benchOptions{env: e, Model: "fastnet", Batch: 2, Steps: 1, Device: "cpu", Precision: "fp32", Stem: "standard", Width: 0.125, JSON: true}
	if err := runBench(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Model, Precision string
		ImgPerS          float64 `json:"img_per_s"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if r.Model != "fastnet" || r.Precision != "fp32" || !(r.ImgPerS > 0) {
		t.Errorf("result = %+v", r)
	}
	for _, p := range []string{"bf16", "fp16"} {
		opts.Precision = p
		want := "--precision " + p + ": the cpu backend computes in fp32 only; use --device cuda"
		if err := runBench(context.Background(), opts); err == nil || err.Error() != want {
			t.Errorf("precision %s on cpu: error %v, want %q", p, err, want)
		}
	}
}

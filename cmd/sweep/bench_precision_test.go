package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestRunBench_Precision runs fastnet on the CPU in fp32 and bf16 (the
// precision is reported, and in bf16 the bf16 GEMM's rate beside SGEMM's)
// and checks that fp16 is refused on the CPU.
func TestRunBench_Precision(t *testing.T) {
	for _, p := range []string{"fp32", "bf16"} {
		e, out, _, _ := newTestEnv(false)
		opts := &benchOptions{env: e, Model: "fastnet", Batch: 2, Steps: 1, Device: "cpu", Precision: p, Stem: "standard", Width: 0.125, JSON: true}
		if err := runBench(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		var r struct {
			Model, Precision, Backend string
			ImgPerS                   float64 `json:"img_per_s"`
			SGEMM                     float64 `json:"sgemm_gflops"`
			GEMM                      float64 `json:"gemm_gflops"`
			GEMMRatio                 float64 `json:"gemm_ratio"`
		}
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if r.Model != "fastnet" || r.Precision != p || !(r.ImgPerS > 0) || !(r.SGEMM > 0) {
			t.Errorf("%s: result = %+v", p, r)
		}
		if bf := p == "bf16"; bf != (r.GEMM > 0 && r.GEMMRatio > 0) || bf != strings.HasPrefix(r.Backend, "cpu/bf16") {
			t.Errorf("%s: backend %s, GEMM %g GFLOP/s, ratio %g", p, r.Backend, r.GEMM, r.GEMMRatio)
		}
	}
	e, _, _, _ := newTestEnv(false)
	opts := &benchOptions{env: e, Model: "fastnet", Batch: 2, Steps: 1, Device: "cpu", Precision: "fp16", Stem: "standard", Width: 0.125, JSON: true}
	want := "--precision fp16: the cpu backend computes in fp32 or bf16; use --device cuda"
	if err := runBench(context.Background(), opts); err == nil || err.Error() != want {
		t.Errorf("fp16 on cpu: error %v, want %q", err, want)
	}
}

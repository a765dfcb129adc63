package bench_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"sweep/trainer/bench"
	"sweep/trainer/engine/cpu"
)

func newCPU(tb testing.TB) *cpu.Backend {
	tb.Helper()
	b, err := cpu.New(cpu.OptionsFromEnv(os.Getenv)) // SWEEP_BLAS=go measures the pure-Go path
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

func TestRun_Tiny(t *testing.T) {
	r, err := bench.Run(context.Background(), newCPU(t), bench.Config{Model: "tiny", Batch: 8, Steps: 2, SGEMMSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if r.ImgPerS <= 0 || r.SGEMMGFLOPs <= 0 || r.Ratio <= 0 || len(r.Layers) != 8 {
		t.Fatalf("result %+v", r)
	}
	// conv 3→32 at 32², 32→64 at 16², 64→128 at 8², linear 128→10.
	want := int64(2 * (32*27*1024 + 64*288*256 + 128*576*64 + 1280))
	if r.FwdFLOPsImg != want {
		t.Errorf("forward FLOPs per image %d, want %d", r.FwdFLOPsImg, want)
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"conv1", "fc", "img/s", "ratio"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestRun_UnknownModel(t *testing.T) {
	_, err := bench.Run(context.Background(), newCPU(t), bench.Config{Model: "vgg"})
	if err == nil || !strings.Contains(err.Error(), `unknown model "vgg"`) {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkTrainStep reports img/s and the ratio to SGEMM GFLOP/s measured
// in the same run; b.N is the number of timed steps.
func BenchmarkTrainStep(b *testing.B) {
	for _, model := range []string{"tiny", "resnet18"} {
		b.Run(model, func(b *testing.B) {
			r, err := bench.Run(context.Background(), newCPU(b), bench.Config{Model: model, Batch: 128, Steps: b.N, Warmup: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.ImgPerS, "img/s")
			b.ReportMetric(r.Ratio, "ratio")
			b.ReportMetric(r.AllocsPerStep, "allocs/step")
			b.ReportMetric(r.PeakRSSMB, "peakRSS_MB")
		})
	}
}

// BenchmarkTrainStep_FastNet reports the img/s of fastnet and fastnet94
// (the 94% recipe's network) in fp32 (SGEMM) and bf16 (the bf16 GEMM), with
// the ratio to SGEMM's 1024³ GFLOP/s and, for bf16, to the bf16 GEMM's, all
// measured in the same run.
func BenchmarkTrainStep_FastNet(b *testing.B) {
	for _, mg := range []struct {
		model string
		g     cpu.GEMM
	}{{"fastnet", cpu.FP32}, {"fastnet", cpu.BF16}, {"fastnet94", cpu.FP32}, {"fastnet94", cpu.BF16}} {
		model, g := mg.model, mg.g
		b.Run(model+"/"+g.String(), func(b *testing.B) {
			o := cpu.OptionsFromEnv(os.Getenv)
			o.GEMM = g
			be, err := cpu.New(o)
			if err != nil {
				b.Fatal(err)
			}
			defer be.Close()
			r, err := bench.Run(context.Background(), be, bench.Config{Model: model, Batch: 256, Steps: b.N, Warmup: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.ImgPerS, "img/s")
			b.ReportMetric(r.CPUMSPerStep/float64(256), "cpu_ms/img")
			b.ReportMetric(r.Ratio, "ratio")
			if r.GEMMRatio > 0 {
				b.ReportMetric(r.GEMMRatio, "bf16_ratio")
			}
		})
	}
}

func BenchmarkSGEMM1024(b *testing.B) {
	be := newCPU(b)
	b.ReportMetric(bench.SGEMM(be, 1024, b.N), "GFLOP/s")
}

package bench_test

import (
	"context"
	"slices"
	"testing"

	"sweep/trainer/bench"
	"sweep/trainer/models"
)

// TestRun_FastNet measures fastnet like the other models: one timed row
// per block (stem, three stages, head) and its convolution FLOPs counted
// through the wrappers (tap, frozen conv) that FastNet uses.
func TestRun_FastNet(t *testing.T) {
	if !slices.Contains(bench.Models, "fastnet") {
		t.Fatalf("bench.Models = %v, want fastnet listed", bench.Models)
	}
	r, err := bench.Run(context.Background(), newCPU(t), bench.Config{
		Model: "fastnet", Options: models.Options{Seed: 1, Width: 0.125}, Batch: 2, Steps: 1, Warmup: 1, SGEMMSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Layers) != 5 {
		t.Errorf("%d layer rows, want 5 (stem, stage1-3, head)", len(r.Layers))
	}
	// Width 0.125: stem 3→24 and stages of 8, 32, 32 channels; each
	// stage's first conv runs before its pool. 2 FLOPs per multiply-add.
	conv := func(cin, cout, hw int) int64 { return int64(2 * 9 * cin * cout * hw * hw) }
	want := conv(3, 24, 32) + conv(24, 8, 32) + conv(8, 8, 16) + conv(8, 32, 16) + conv(32, 32, 8) +
		conv(32, 32, 8) + conv(32, 32, 4) + 2*32*10
	if r.FwdFLOPsImg != want {
		t.Errorf("forward FLOPs per image = %d, want %d (every convolution counted)", r.FwdFLOPsImg, want)
	}
	if r.Model != "fastnet" || !(r.ImgPerS > 0) {
		t.Errorf("result = %+v", r)
	}
}

// TestRun_FastNet94 measures the 94% recipe's network (whitening stem,
// GELU, frozen-scale batch norm): the stem is the 2×2 whitening conv
// (32→31), so every stage works on odd sizes, and each count below differs
// from plain fastnet's.
func TestRun_FastNet94(t *testing.T) {
	r, err := bench.Run(context.Background(), newCPU(t), bench.Config{
		Model: "fastnet94", Options: models.Options{Seed: 1, Width: 0.125}, Batch: 2, Steps: 1, Warmup: 1, SGEMMSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	// Whitening 2×2 conv 3→24 with bias (32→31), then stages of 8, 32,
	// 32 channels at 31, 15 and 7 (each pool halves, rounding down).
	conv := func(cin, cout, hw int) int64 { return int64(2 * 9 * cin * cout * hw * hw) }
	want := int64(2*4*3*24*31*31) + conv(24, 8, 31) + conv(8, 8, 15) + conv(8, 32, 15) + conv(32, 32, 7) +
		conv(32, 32, 7) + conv(32, 32, 3) + 2*32*10
	if r.FwdFLOPsImg != want {
		t.Errorf("forward FLOPs per image = %d, want %d", r.FwdFLOPsImg, want)
	}
	if r.Model != "fastnet94" || !(r.ImgPerS > 0) || !(r.FinalLoss > 0) {
		t.Errorf("result = %+v", r)
	}
}

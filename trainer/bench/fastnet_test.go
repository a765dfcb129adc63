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

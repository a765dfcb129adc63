package trainer

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"sweep/trainer/calib"
	"sweep/trainer/data"
)

// dataDir returns the development copy of CIFAR-10 (../shared/data/cifar10
// from the module root), skipping the test when it is absent.
func dataDir(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared", "data", "cifar10")
	if _, err := data.FindDir(dir); err != nil {
		tb.Skipf("CIFAR-10 not found at %s (%v): skipping training test", dir, err)
	}
	return dir
}

// smallConfig trains tiny on 1000 synthetic images: 900 train / 100 val,
// 200 test images, batches of 50 (18 steps per epoch). The tests using it
// check the training loop (loss decreases, pruning, cancel, SWA, ensembles,
// time budget, TTA and calibration), not CIFAR-10 itself, so they run on
// any clone; realConfig is the same on the real files.
func smallConfig(tb testing.TB) Config {
	c := Defaults()
	c.Data = "synthetic"
	c.TrainLimit, c.TestLimit = 1000, 200
	c.Split.ValSize = 100
	c.BatchSize = 50
	c.Epochs = 3
	c.LR = 0.1
	c.Loaders = 2
	c.MonitorEvery = 5
	return c
}

// realConfig is smallConfig on the first 1000 CIFAR-10 images; the test
// is skipped (and counted by make test) where the files are absent.
func realConfig(tb testing.TB) Config {
	c := smallConfig(tb)
	c.Data, c.DataDir = "cifar10", dataDir(tb)
	return c
}

type recorder struct {
	epochs  map[int]map[string]float64
	steps   map[int]map[string]float64
	reports []float64
}

func (r *recorder) hooks(pruneAt int) Hooks {
	r.epochs, r.steps = map[int]map[string]float64{}, map[int]map[string]float64{}
	return Hooks{
		Report: func(epoch int, v float64) (bool, error) {
			r.reports = append(r.reports, v)
			return pruneAt > 0 && epoch >= pruneAt, nil
		},
		Record: func(step int, m map[string]float64) error {
			for k := range m {
				if len(k) > 4 && k[:4] == "mon/" {
					r.steps[step] = m
					return nil
				}
			}
			r.epochs[step] = m
			return nil
		},
	}
}

func TestTrain_LossDecreases(t *testing.T) {
	c := smallConfig(t)
	c.CheckpointDir = t.TempDir()
	c.Study, c.Trial = "st", "3"
	c.TTA = calib.TTA{Flip: true}
	c.Calibrate = true
	var rec recorder
	var log bytes.Buffer
	h := rec.hooks(0)
	h.Log = &log
	res, err := Train(context.Background(), c, h)
	if err != nil {
		t.Fatalf("Train: %v\n%s", err, log.String())
	}
	t.Logf("\n%s", log.String())
	first, last := rec.epochs[1]["train_loss"], rec.epochs[3]["train_loss"]
	if !(last < first) {
		t.Errorf("train loss did not decrease: epoch 1 %.4f, epoch 3 %.4f", first, last)
	}
	if len(rec.reports) != 3 || res.Epochs != 3 || res.Steps != 54 {
		t.Errorf("reports %v, epochs %d, steps %d; want 3 reports, 3 epochs, 54 steps", rec.reports, res.Epochs, res.Steps)
	}
	m := res.Metrics()
	for _, k := range []string{"val_acc", "train_seconds", "params_m", "ece", "ece_raw"} {
		if v, ok := m[k]; !ok || !(v >= 0) {
			t.Errorf("final metric %s = %v (present %v): %v", k, v, ok, m)
		}
	}
	if m["params_m"] <= 0 || m["params_m"] != float64(res.Params)/1e6 {
		t.Errorf("params_m %g for %d params", m["params_m"], res.Params)
	}
	for _, k := range []string{"train_loss", "val_loss", "val_acc", "lr", "img_per_s", "wall_s", "grad_norm"} {
		if _, ok := rec.epochs[2][k]; !ok {
			t.Errorf("epoch metric %s missing: %v", k, rec.epochs[2])
		}
	}
	if len(rec.steps) == 0 || rec.steps[1]["mon/grad_norm"] <= 0 {
		t.Errorf("monitoring samples missing or zero: %v", rec.steps[1])
	}
	if math.IsNaN(res.TestAcc) || res.TestAcc < 0.15 {
		t.Errorf("test accuracy %g after 3 epochs, want > chance", res.TestAcc)
	}
	if res.Calibration == nil || math.IsNaN(res.TTAValAcc) {
		t.Errorf("calibration %v and TTA %g not measured", res.Calibration, res.TTAValAcc)
	}
	for _, p := range []string{res.BestCheckpoint, res.FinalCheckpoint} {
		if filepath.Dir(p) != filepath.Join(c.CheckpointDir, "st", "3") {
			t.Errorf("checkpoint %q not under <dir>/st/3", p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("checkpoint: %v", err)
		}
	}
}

// TestTrain_CIFAR10 is the one training test whose point is the real
// files: it reads the CIFAR-10 binaries and learns above chance from them.
func TestTrain_CIFAR10(t *testing.T) {
	c := realConfig(t)
	var rec recorder
	res, err := Train(context.Background(), c, rec.hooks(0))
	if err != nil {
		t.Fatal(err)
	}
	if first, last := rec.epochs[1]["train_loss"], rec.epochs[3]["train_loss"]; !(last < first) || math.IsNaN(res.TestAcc) || res.TestAcc < 0.15 {
		t.Errorf("train loss %.4f → %.4f, test accuracy %g on CIFAR-10: want it to decrease and beat chance", first, last, res.TestAcc)
	}
}

func TestTrain_PruneStopsPromptly(t *testing.T) {
	c := smallConfig(t)
	c.Epochs = 50
	var rec recorder
	start := time.Now()
	res, err := Train(context.Background(), c, rec.hooks(1))
	if !errors.Is(err, ErrPruned) {
		t.Fatalf("err = %v, want ErrPruned", err)
	}
	if len(rec.reports) != 1 || res.Epochs != 1 || res.Steps != 18 {
		t.Fatalf("ran %d epochs (%d steps, %d reports) after a prune at epoch 1", res.Epochs, res.Steps, len(rec.reports))
	}
	t.Logf("pruned run took %v", time.Since(start))
}

func TestTrain_Cancel(t *testing.T) {
	c := smallConfig(t)
	c.Epochs = 50
	ctx, cancel := context.WithCancel(context.Background())
	var rec recorder
	h := rec.hooks(0)
	h.Report = func(int, float64) (bool, error) { cancel(); return false, nil }
	_, err := Train(ctx, c, h)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestTrain_SWA(t *testing.T) {
	c := smallConfig(t)
	c.SWAStart, c.SWALR = 2, 0.05
	c.EMADecay = 0.9
	var rec recorder
	res, err := Train(context.Background(), c, rec.hooks(0))
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(res.SWAValAcc) || math.IsNaN(res.EMAValAcc) || res.ValAcc != res.SWAValAcc {
		t.Fatalf("swa %g ema %g final %g: SWA must be measured and be the final model", res.SWAValAcc, res.EMAValAcc, res.ValAcc)
	}
	if lr := rec.epochs[3]["lr"]; lr != 0.05 {
		t.Fatalf("lr in the SWA phase %g, want 0.05", lr)
	}
}

func TestConfig_Validate(t *testing.T) {
	for _, tt := range []struct {
		field string
		edit  func(*Config)
	}{
		{"model", func(c *Config) { c.Model = "vgg" }},
		{"lr", func(c *Config) { c.LR = 0 }},
		{"momentum", func(c *Config) { c.Momentum = 1 }},
		{"batch_size", func(c *Config) { c.BatchSize = 0 }},
		{"epochs", func(c *Config) { c.Epochs, c.Steps = 0, 0 }},
		{"smoothing", func(c *Config) { c.Smoothing = 1 }},
		{"scheduler", func(c *Config) { c.Schedule = "exp" }},
		{"augment", func(c *Config) { c.Augment.Flip = 2 }},
		{"precision", func(c *Config) { c.Precision = "fp8" }},
		{"act", func(c *Config) { c.Act = "gelu" }}, // tiny has no act option
		{"act", func(c *Config) { c.Model, c.Act = "fastnet", "tanh" }},
		{"bn_momentum", func(c *Config) { c.Model, c.BNMomentum = "fastnet", 1.5 }},
		{"init", func(c *Config) { c.Model, c.Init = "fastnet", "xavier" }},
		{"decoupled", func(c *Config) { c.Optimizer, c.Decoupled = "adamw", true }},
		{"tta_level", func(c *Config) { c.TTA.Level = 3 }},
		{"lookahead_decay", func(c *Config) { c.Lookahead, c.LookaheadDecay = true, 2 }},
		{"scheduler", func(c *Config) { c.Schedule, c.EndFactor = "triangle", -1 }},
	} {
		t.Run(tt.field, func(t *testing.T) {
			c := Defaults()
			tt.edit(&c)
			var fe *FieldError
			if err := c.Validate(); !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate = %v, want a FieldError for %s", err, tt.field)
			}
		})
	}
	c := Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Defaults invalid: %v", err)
	}
}

func TestEnsemble(t *testing.T) {
	c := smallConfig(t)
	c.Epochs = 2
	c.MonitorEvery = 0
	c.CheckpointDir = t.TempDir()
	c.Study = "ens"
	var paths []string
	var accs []float64
	for seed := uint64(1); seed <= 2; seed++ {
		c.Seed, c.Trial = seed, string(rune('a'+seed))
		res, err := Train(context.Background(), c, Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, res.FinalCheckpoint)
		accs = append(accs, res.TestAcc)
	}
	e, err := Ensemble(context.Background(), c, paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range accs {
		if math.Abs(e.TestAcc[i]-accs[i]) > 1e-9 {
			t.Errorf("member %d reloaded: test acc %g, trained run measured %g", i, e.TestAcc[i], accs[i])
		}
	}
	t.Logf("members %v, vote %.3f, prob %.3f", e.TestAcc, e.TestVote, e.TestProb)
	for _, acc := range []float64{e.TestVote, e.TestProb, e.ValVote, e.ValProb} {
		if acc <= 0.1 || acc > 1 {
			t.Errorf("ensemble accuracy %g is not better than chance", acc)
		}
	}
	if _, err := Ensemble(context.Background(), c, []string{filepath.Join(t.TempDir(), "missing.ckpt")}, nil); err == nil {
		t.Error("missing checkpoint accepted")
	}
}

func TestConfig_FitBudget(t *testing.T) {
	c := Defaults()
	c.Epochs, c.TimeBudget, c.TTA = 20, 100, calib.TTA{Flip: true}
	// 1 ms per training image: an epoch of 9000 images is 9 s plus 1000
	// validation images at 1/3 ms; the final passes cost (1000+2000)/3 ms
	// × 2 views = 2 s. (100 − 4 − 2)/9.33 = 10.07 epochs.
	if got := c.fitBudget(4*time.Second, 1e-3, 9000, 1000, 2000); got != 10 {
		t.Errorf("fitBudget = %d, want 10", got)
	}
	c.Epochs = 5
	if got := c.fitBudget(4*time.Second, 1e-3, 9000, 1000, 2000); got != 5 {
		t.Errorf("fitBudget = %d, want the configured 5", got)
	}
	c.TimeBudget = 5
	if got := c.fitBudget(4*time.Second, 1e-3, 9000, 1000, 2000); got != 1 {
		t.Errorf("fitBudget over budget = %d, want 1", got)
	}
}

func TestTrain_TimeBudget(t *testing.T) {
	c := smallConfig(t)
	c.Epochs, c.TimeBudget = 50, 0.001 // far too little on any machine: one epoch must still run
	var rec recorder
	res, err := Train(context.Background(), c, rec.hooks(0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Epochs != 1 || len(rec.reports) != 1 {
		t.Fatalf("ran %d epochs under a 1 ms budget, want 1", res.Epochs)
	}
	if lr := rec.epochs[1]["lr"]; lr > 1e-3 {
		t.Fatalf("last lr %g: the schedule was not refitted to one epoch", lr)
	}
}

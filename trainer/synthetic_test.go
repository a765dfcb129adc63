package trainer

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"sweep/trainer/calib"
	"sweep/trainer/data"
)

func TestSyntheticSet(t *testing.T) {
	a, b := syntheticSet(25, 7, 0), syntheticSet(25, 7, 0)
	if !bytes.Equal(a.Pixels, b.Pixels) || !bytes.Equal(a.Labels, b.Labels) {
		t.Error("same seed and part gave different images")
	}
	if a.Len() != 25 || len(a.Classes) != 10 || a.Labels[13] != 3 {
		t.Errorf("len %d, %d classes, label[13] %d; want 25, 10, 3", a.Len(), len(a.Classes), a.Labels[13])
	}
	if test := syntheticSet(25, 7, 1); bytes.Equal(test.Pixels, a.Pixels) {
		t.Error("test images repeat the training images")
	}
	// Images of one class are closer to each other than to another class's.
	dist := func(x, y []byte) float64 {
		var s float64
		for i := range x {
			d := float64(x[i]) - float64(y[i])
			s += d * d
		}
		return s
	}
	if same, other := dist(a.Image(0), a.Image(10)), dist(a.Image(0), a.Image(1)); same >= other {
		t.Errorf("class 0 to class 0: %g, to class 1: %g; want the same class closer", same, other)
	}
}

// TestTrain_Synthetic trains tiny on generated images, with no CIFAR-10
// directory: accuracy far above chance (10%) shows the data is learnable.
func TestTrain_Synthetic(t *testing.T) {
	c := Defaults()
	c.Data, c.DataDir = "synthetic", t.TempDir() // an empty directory: nothing is read
	c.TrainLimit, c.TestLimit = 1000, 200
	c.Split.ValSize = 200
	c.BatchSize, c.Epochs, c.LR, c.Loaders = 50, 2, 0.1, 2
	c.Width = 0.5
	res, err := Train(context.Background(), c, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ValAcc < 0.5 || res.TestAcc < 0.5 {
		t.Errorf("val_acc %.3f test_acc %.3f after 2 epochs on synthetic data; want both ≥ 0.5", res.ValAcc, res.TestAcc)
	}
	t.Logf("val_acc %.3f test_acc %.3f", res.ValAcc, res.TestAcc)
	c.Data = "imagenet"
	var fe *FieldError
	if _, err := Train(context.Background(), c, Hooks{}); !errors.As(err, &fe) || fe.Field != "data" {
		t.Errorf("data imagenet: error %v, want a data FieldError", err)
	}
}

// airbenchConfig is fastnet with every airbench94 option on, at a size a
// test can train: synthetic images, width 0.25, 3 epochs of 10 steps.
func airbenchConfig(tb testing.TB) Config {
	c := Defaults()
	c.Data, c.DataDir = "synthetic", tb.TempDir()
	c.TrainLimit, c.TestLimit = 600, 200
	c.Split.ValSize = 100
	c.BatchSize, c.Epochs, c.Loaders = 50, 3, 2
	c.Model, c.Width = "fastnet", 0.25
	c.Act, c.BNMomentum, c.BNEps, c.BNFrozenScale, c.Init = "gelu", 0.4, 1e-12, true, "airbench"
	c.WhitenBiasEpochs = 1
	c.Optimizer, c.LR, c.Momentum, c.Nesterov, c.WeightDecay = "sgd", 11.5, 0.85, true, 0.0153
	c.Decoupled, c.DecayBNBias, c.BNBiasLR = true, true, 64
	c.Schedule, c.PctStart, c.StartFactor, c.EndFactor = "triangle", 0.23, 0.2, 0.07
	c.Smoothing = 0.2
	c.Lookahead, c.LookaheadStart, c.LookaheadEvery = true, 1, 2
	c.Augment = data.Config{PadCrop: data.PadCropConfig{Pad: 2, Mode: "reflect"}, AltFlip: true}
	c.TTA = calib.TTA{Level: 2}
	return c
}

func TestTrain_Airbench(t *testing.T) {
	c := airbenchConfig(t)
	var log bytes.Buffer
	lrs := map[int]float64{}
	res, err := Train(context.Background(), c, Hooks{Log: &log, Record: func(step int, m map[string]float64) error {
		lrs[step] = m["lr"]
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", log.String())
	if !strings.Contains(log.String(), "whitening bias frozen from epoch 2") {
		t.Error("the whitening bias was not frozen after epoch 1")
	}
	if !strings.Contains(log.String(), "tta: 6 views") || math.IsNaN(res.TTAValAcc) {
		t.Errorf("TTA level 2 did not run 6 views (tta val %g)", res.TTAValAcc)
	}
	// Decoupled: the peak rate is 11.5·50/1024/(1 + 1/0.15); the last step
	// of epoch 1 (step 9 of 30, peak at step 6) is on the falling side.
	peak := 11.5 * 50 / 1024 / (1 + 1/0.15)
	if want := peak * (1 - 0.93*3/24); math.Abs(lrs[1]-want) > 1e-9 {
		t.Errorf("lr at the end of epoch 1 = %g, want %g", lrs[1], want)
	}
	if res.ValAcc < 0.3 {
		t.Errorf("val_acc %.3f after 3 epochs on synthetic data, want ≥ 0.3 (chance 0.1)", res.ValAcc)
	}
}

package trainer

import (
	"bytes"
	"context"
	"errors"
	"testing"
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

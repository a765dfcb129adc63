package objective_test

import (
	"testing"

	"sweep/objective"
	"sweep/objective/objectivetest"
)

// The built-in objectives pass the conformance suite the command objective
// runs too (objective/command).
func TestSynthetic_Conformance(t *testing.T) {
	objectivetest.Suite{
		New: func(tb testing.TB) objective.Objective {
			return newSynthetic(tb, func(c *objective.SyntheticConfig) { c.Epochs, c.EpochSeconds = 4, 0.01 })
		},
		Params: objective.Params{"lr": 0.03, "momentum": 0.9, "opt": "adamw"},
	}.Run(t)
}

// cifar10 trains the tiny CNN on a few hundred generated images, so the
// suite runs without CIFAR-10 and in seconds.
func TestCIFAR10_Conformance(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a CNN (-short)")
	}
	objectivetest.Suite{
		New: func(tb testing.TB) objective.Objective {
			o, err := objective.NewCIFAR10(objective.DefaultCIFAR10Options(), "conformance")
			if err != nil {
				tb.Fatal(err)
			}
			return o
		},
		Params: objective.Params{"data": "synthetic", "train_limit": 256, "test_limit": 64, "val_size": 64,
			"model": "tiny", "epochs": 3, "batch_size": 64, "loaders": 1},
	}.Run(t)
}

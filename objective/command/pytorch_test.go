package command_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"sweep/objective"
	"sweep/objective/command"
	"sweep/objective/objectivetest"
)

// torchPython returns a python3 that imports torch, or skips the test
// saying why not.
func torchPython(t *testing.T) string {
	t.Helper()
	var why []string
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		out, err := exec.Command(py, "-c", "import torch").CombinedOutput()
		if err == nil {
			return py
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		why = append(why, py+": "+lines[len(lines)-1])
	}
	t.Skipf("examples/command/pytorch_cifar10.py not run: torch does not import (%s)", strings.Join(why, "; "))
	return ""
}

// writeCIFAR writes n random records in CIFAR-10's binary layout (a label
// byte, then 3072 pixel bytes).
func writeCIFAR(t *testing.T, path string, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	b := make([]byte, n*3073)
	for i := range b {
		b[i] = byte(rng.IntN(256))
		if i%3073 == 0 {
			b[i] = byte(rng.IntN(10))
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The PyTorch example trains one tiny epoch on generated CIFAR-10 files,
// through the command objective, with the article's recipe: SGD, onecycle,
// layer-wise learning rates, the classic augmentations. (One run: starting
// PyTorch costs seconds; AdamW, cosine and the cheap preset were run by
// hand.)
func TestPyTorchExample(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PyTorch (-short)")
	}
	py := torchPython(t)
	script, err := filepath.Abs("../../examples/command/pytorch_cifar10.py")
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	writeCIFAR(t, filepath.Join(data, "data_batch_1.bin"), 64)
	writeCIFAR(t, filepath.Join(data, "test_batch.bin"), 16)
	cfg := command.DefaultConfig()
	cfg.Argv = []string{py, script, "--train_limit=32", "--val_size=32", "--test_limit=16", "--epochs=1", "--batch_size=16", "--width=4", "--threads=1"}
	cfg.Dir, cfg.Study, cfg.Metric = t.TempDir(), "torch", "val_acc"
	cfg.Params = []string{"optimizer", "scheduler", "aug_preset", "layer_lr", "lr"}
	cfg.Env = map[string]string{"SWEEP_DATA": data}
	o, err := command.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	configs := []objective.Params{
		{"optimizer": "sgd", "scheduler": "onecycle", "aug_preset": "classic", "layer_lr": "classic", "lr": 0.05},
	}
	var wg sync.WaitGroup
	for i, p := range configs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := &objectivetest.Reporter{Study: "torch", Number: i}
			res, err := o.Run(context.Background(), p, rep)
			if err != nil {
				t.Errorf("%v: %v", p, err)
				var stderr []byte
				if errors.Is(err, command.ErrProgram) {
					stderr, _ = os.ReadFile(filepath.Join(cfg.Dir, "runs", "torch", strconv.Itoa(i), "stderr.log"))
				}
				t.Logf("stderr:\n%s", stderr)
				return
			}
			m := rep.Metrics(1)
			if res.Value < 0 || res.Value > 1 || len(rep.Steps()) != 1 || m["train_loss"] <= 0 || m["img_per_s"] <= 0 {
				t.Errorf("%v: value %g steps %v metrics %v", p, res.Value, rep.Steps(), m)
			}
			if _, ok := res.Attrs["test_acc"]; !ok {
				t.Errorf("%v: attrs %v lack test_acc", p, res.Attrs)
			}
		}()
	}
	wg.Wait()
}

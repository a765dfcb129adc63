package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sweep/objective"
	"sweep/search"
)

func TestNewTrainCmd(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    trainOptions
		wantErr string
	}{
		{"File", "cfg.yaml", trainOptions{File: "cfg.yaml"}, ""},
		{"Flags", "cfg.yaml --data-dir /d --set lr=0.1 --set epochs=2 --json --ensemble a.ckpt --ensemble b.ckpt",
			trainOptions{File: "cfg.yaml", DataDir: "/d", Set: []string{"lr=0.1", "epochs=2"}, JSON: true, Ensemble: []string{"a.ckpt", "b.ckpt"}}, ""},
		{"NoFile", "", trainOptions{}, "accepts 1 arg(s), received 0"},
		{"BadSet", "cfg.yaml --set lr", trainOptions{}, `--set "lr": want key=value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArgv(t, newTrainCmd, tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.File != tt.want.File || got.DataDir != tt.want.DataDir || got.JSON != tt.want.JSON ||
				strings.Join(got.Set, ",") != strings.Join(tt.want.Set, ",") ||
				strings.Join(got.Ensemble, ",") != strings.Join(tt.want.Ensemble, ",") {
				t.Fatalf("opts = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRunTrain_BadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte("objective:\n  type: cifar10\n  lr: -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _, _, _ := newTestEnv(false)
	err := runTrain(context.Background(), &trainOptions{env: e, File: path})
	if want := path + ":3: lr: -1 must be positive"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("epochs: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = runTrain(context.Background(), &trainOptions{env: e, File: good, Set: []string{"lr=0.1", "colour=red"}})
	if err == nil || !strings.Contains(err.Error(), "param colour: unknown option") {
		t.Fatalf("err = %v, want an unknown-option error for colour", err)
	}
}

// TestRunTrain_Smoke trains tiny for one epoch on a 600-image slice of the
// development CIFAR-10 copy and checks the printed result.
func TestRunTrain_Smoke(t *testing.T) {
	dataDir := filepath.Join("..", "..", "..", "shared", "data", "cifar10")
	if _, err := os.Stat(filepath.Join(dataDir, "test_batch.bin")); err != nil {
		t.Skipf("CIFAR-10 not at %s: %v", dataDir, err)
	}
	dir := t.TempDir()
	cfg := "study: smoke\ntrial: one\nobjective:\n  type: cifar10\n  epochs: 1\n  train_limit: 600\n  val_size: 100\n  test_limit: 100\n  batch_size: 50\n  checkpoint_dir: " + dir + "\n"
	path := filepath.Join(dir, "cfg.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	e, out, errOut, _ := newTestEnv(false)
	if err := runTrain(context.Background(), &trainOptions{env: e, File: path, DataDir: dataDir, JSON: false}); err != nil {
		t.Fatalf("runTrain: %v\n%s", err, errOut)
	}
	for _, want := range []string{"val_acc\t", "test_acc\t", "final_checkpoint\t" + filepath.Join(dir, "smoke", "one", "final.ckpt")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut.String(), "epoch   1/1") {
		t.Errorf("no epoch line on stderr:\n%s", errOut)
	}
}

// TestExamples_CIFAR10 parses every cifar10 example study with the real
// spec parser and objective constructor, and checks that each searched
// param is an option of the objective.
func TestExamples_CIFAR10(t *testing.T) {
	for _, name := range []string{"cifar10-cpu.yaml", "cifar10-gpu.yaml", "article-optimizers.yaml", "article-cpu.yaml", "cifar10-demo.yaml"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "..", "examples", name)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := search.ParseSpec(path, src)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newObjective(spec, func(string) string { return "" }); err != nil {
				t.Fatal(err)
			}
			var walk func([]search.Param)
			walk = func(ps []search.Param) {
				for _, p := range ps {
					if err := objective.CheckCIFAR10Param(p.Name); err != nil {
						t.Errorf("%s:%d: %v", path, p.Line, err)
					}
					for _, c := range p.Choices {
						walk(p.Conditional[search.ChoiceString(c)])
					}
				}
			}
			walk(spec.Params)
		})
	}
	for _, name := range []string{"tiny-5min.yaml", "fastnet-94.yaml", "airbench94.yaml"} {
		src, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := objective.ParseTrainFile(name, src); err != nil {
			t.Fatal(err)
		}
	}
}

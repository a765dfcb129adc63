package objective

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"sweep/trainer"
	"sweep/trainer/calib"
	"sweep/trainer/optim"
)

func TestCIFAR10Options_WithParams(t *testing.T) {
	o := DefaultCIFAR10Options()
	got, err := o.WithParams(Params{"lr": 0.05, "batch_size": 128, "optimizer": "adamw", "nesterov": false, "epochs": 3.0, "lr_stem": 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if got.LR != 0.05 || got.BatchSize != 128 || got.Optimizer != "adamw" || got.Nesterov || got.Epochs != 3 || *got.LRStem != 0.2 {
		t.Fatalf("params not applied: %+v", got)
	}
	if o.LR == 0.05 {
		t.Fatal("WithParams modified its receiver")
	}
	for _, tt := range []struct {
		name   string
		params Params
		want   string
	}{
		{"Unknown", Params{"learning_rate": 0.1}, "param learning_rate: unknown option"},
		{"WrongType", Params{"batch_size": "big"}, "param batch_size:"},
		{"Fraction", Params{"epochs": 2.5}, "param epochs:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := o.WithParams(tt.params); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCIFAR10Options_Config(t *testing.T) {
	o := DefaultCIFAR10Options()
	o.LayerLRKind = "classic"
	s4 := 3.0
	o.LRStage4 = &s4
	half := 0.5
	o.AugStrength = &half
	o.Schedule, o.StepEpochs, o.Gamma = "step", 3, 0.5
	c, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	if c.LayerLR.Of(optim.GroupStem) != 0.1 || c.LayerLR.Of(optim.GroupStage4) != 3 {
		t.Errorf("layer-wise multipliers %v", c.LayerLR)
	}
	if c.Augment.PadCrop.Pad != 2 || c.Augment.Flip != 0.25 {
		t.Errorf("aug_strength 0.5 of cheap: pad %d flip %g, want 2 and 0.25", c.Augment.PadCrop.Pad, c.Augment.Flip)
	}
	if c.Schedule != "step" || c.StepEpochs != 3 || c.Gamma != 0.5 {
		t.Errorf("schedule %q step %d gamma %g", c.Schedule, c.StepEpochs, c.Gamma)
	}
	bad := DefaultCIFAR10Options()
	bad.Momentum = 1.5
	if _, err := bad.Config(); err == nil {
		t.Fatal("momentum 1.5 accepted")
	} else if key, _ := FieldOf(err); key != "momentum" {
		t.Fatalf("FieldOf = %q, want momentum", key)
	}
}

func TestApplyRecipe(t *testing.T) {
	for _, name := range []string{"sgd", "sgd_swa", "adamw", "sgd_cosine"} {
		o := DefaultCIFAR10Options()
		o.Recipe, o.Epochs = name, 20
		c, err := o.Config()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch name {
		case "sgd":
			if c.Optimizer != "sgd" || c.LR != 0.1 || c.Schedule != optim.MultiStep || c.Milestones[0] != 10 || c.Milestones[1] != 15 || c.SWAStart != 0 {
				t.Errorf("sgd: %+v", c)
			}
		case "sgd_swa":
			if c.SWAStart != 16 || c.SWALR != 0.05 {
				t.Errorf("sgd_swa: swa from %d at %g", c.SWAStart, c.SWALR)
			}
		case "adamw":
			if c.Optimizer != "adamw" || c.LR != 1e-3 {
				t.Errorf("adamw: %s %g", c.Optimizer, c.LR)
			}
		case "sgd_cosine":
			if c.LR != 0.05 || c.Schedule != optim.Cosine {
				t.Errorf("sgd_cosine: %g %s", c.LR, c.Schedule)
			}
		}
	}
}

// fakeReporter prunes at epoch pruneAt (0 = never) and records metrics.
type fakeReporter struct {
	pruneAt int
	reports []float64
	metrics map[int]map[string]float64
}

func (f *fakeReporter) Report(step int, v float64) (bool, error) {
	f.reports = append(f.reports, v)
	return f.pruneAt > 0 && step >= f.pruneAt, nil
}

func (f *fakeReporter) RecordMetrics(step int, m map[string]float64) error {
	if f.metrics == nil {
		f.metrics = map[int]map[string]float64{}
	}
	f.metrics[step] = m
	return nil
}

func (f *fakeReporter) TrialID() (string, int) { return "s", 7 }

// fakeTrain reports epochs·0.1 accuracy per epoch until pruned.
func fakeTrain(ctx context.Context, c trainer.Config, h trainer.Hooks) (trainer.Result, error) {
	res := trainer.Result{}
	for e := 1; e <= c.Epochs; e++ {
		res.Epochs, res.ValAcc = e, float64(e)/10
		if err := h.Record(e, map[string]float64{"val_acc": res.ValAcc, "lr": c.LR}); err != nil {
			return res, err
		}
		if prune, _ := h.Report(e, res.ValAcc); prune {
			return res, trainer.ErrPruned
		}
	}
	res.TestAcc, res.Params, res.Wall = 0.42, 2_500_000, 3*time.Second
	res.Calibration = &calib.Calibration{ECEBefore: 0.05, ECEAfter: 0.03}
	return res, nil
}

func TestCIFAR10_Run(t *testing.T) {
	obj, err := NewCIFAR10(DefaultCIFAR10Options(), "study")
	if err != nil {
		t.Fatal(err)
	}
	var got trainer.Config
	obj.train = func(ctx context.Context, c trainer.Config, h trainer.Hooks) (trainer.Result, error) {
		got = c
		return fakeTrain(ctx, c, h)
	}
	rep := &fakeReporter{}
	res, err := obj.Run(context.Background(), Params{"lr": 0.3, "epochs": 4}, rep)
	if err != nil {
		t.Fatal(err)
	}
	if res.Value != 0.4 || res.Attrs["test_acc"] != "0.42" || len(rep.reports) != 4 {
		t.Fatalf("value %g attrs %v reports %v", res.Value, res.Attrs, rep.reports)
	}
	want := map[string]float64{"val_acc": 0.4, "test_acc": 0.42, "train_seconds": 3, "params_m": 2.5, "ece": 0.03, "ece_raw": 0.05}
	if !maps.Equal(res.Metrics, want) {
		t.Fatalf("metrics %v, want %v", res.Metrics, want)
	}
	if got.LR != 0.3 || got.Study != "s" || got.Trial != "7" || rep.metrics[2]["lr"] != 0.3 {
		t.Fatalf("config lr %g study %q trial %q metrics %v", got.LR, got.Study, got.Trial, rep.metrics)
	}

	t.Run("Pruned", func(t *testing.T) {
		rep := &fakeReporter{pruneAt: 2}
		_, err := obj.Run(context.Background(), Params{"epochs": 9}, rep)
		if !errors.Is(err, ErrPruned) || len(rep.reports) != 2 {
			t.Fatalf("err %v after %d reports, want ErrPruned after 2", err, len(rep.reports))
		}
	})
	t.Run("BadParam", func(t *testing.T) {
		if _, err := obj.Run(context.Background(), Params{"momentum": 2.0}, rep); err == nil || !strings.Contains(err.Error(), "momentum") {
			t.Fatalf("err = %v, want a momentum error", err)
		}
	})
}

func TestParseTrainFile(t *testing.T) {
	structured := `study: base
objective:
  type: cifar10
  epochs: 3
  lr: 0.1
params:
  lr: 0.2
`
	tf, err := ParseTrainFile("t.yaml", []byte(structured))
	if err != nil {
		t.Fatal(err)
	}
	if tf.Study != "base" || tf.Options.Epochs != 3 || tf.Options.LR != 0.2 {
		t.Fatalf("structured: %+v", tf)
	}
	flat := "# Best trial 3\nepochs: 5 # per trial\nlr: 0.05\noptimizer: adamw\n"
	if tf, err = ParseTrainFile("best.yaml", []byte(flat)); err != nil {
		t.Fatal(err)
	}
	if tf.Options.Epochs != 5 || tf.Options.Optimizer != "adamw" {
		t.Fatalf("flat: %+v", tf.Options)
	}
	for _, tt := range []struct {
		name, src, want string
	}{
		{"UnknownOption", "epochs: 3\nepoch_seconds: 0.05\n", "f.yaml:2: epoch_seconds: unknown option"},
		{"BadValue", "objective:\n  type: cifar10\n  lr: -1\n", "f.yaml:3: lr: -1 must be positive"},
		{"BadType", "objective:\n  type: cifar10\n  batch_size: many\n", "f.yaml:3: objective.batch_size:"},
		{"OtherObjective", "objective:\n  type: synthetic\n", "f.yaml:2: objective.type: sweep train runs objective cifar10"},
		{"SearchRange", "objective: {type: cifar10}\nparams:\n  lr: {type: float, low: 0.1, high: 1}\n", "f.yaml:3: params.lr: needs a fixed value"},
		{"Empty", "", "f.yaml:1: (file): file is empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTrainFile("f.yaml", []byte(tt.src))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestCheckCIFAR10Param(t *testing.T) {
	for _, ok := range []string{"lr", "batch_size", "recipe", "aug_strength", "lr_stage4"} {
		if err := CheckCIFAR10Param(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"learning_rate", "data_dir", ""} {
		if err := CheckCIFAR10Param(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The airbench94 keys are options like any other: params reach the
// embedded trainer.Config, tta_level builds the TTA, and a key only fastnet
// has is refused, named, for tiny.
func TestCIFAR10Options_AirbenchKeys(t *testing.T) {
	o := DefaultCIFAR10Options()
	o, err := o.WithParams(Params{"model": "fastnet", "act": "gelu", "bn_frozen_scale": true, "bn_momentum": 0.4,
		"lookahead": true, "decoupled": true, "bn_bias_lr": 64, "scheduler": "triangle", "tta_level": 2, "seed": 3})
	if err != nil {
		t.Fatal(err)
	}
	c, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	if c.Act != "gelu" || !c.BNFrozenScale || c.BNMomentum != 0.4 || !c.Lookahead || !c.Decoupled ||
		c.BNBiasLR != 64 || c.Schedule != "triangle" || c.TTA.Level != 2 || c.Seed != 3 {
		t.Fatalf("airbench keys not applied: %+v", c)
	}
	pg, err := DefaultCIFAR10Options().WithParams(Params{"layer_lr": "per_group", "lr_stem": 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := pg.Config(); err != nil || c.LayerLR.Of(optim.GroupStem) != 0.3 || c.LayerLR.Of(optim.GroupStage1) != 1 {
		t.Fatalf("layer_lr per_group with lr_stem 0.3: %v, %v", c.LayerLR, err)
	}
	af, _ := DefaultCIFAR10Options().WithParams(Params{"alt_flip": true})
	if c, err := af.Config(); err != nil || !c.Augment.AltFlip {
		t.Fatalf("alt_flip param: augment %+v, %v", c.Augment, err)
	}
	wide, err := o.WithParams(Params{"widths": []any{128, 384, 384}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := wide.Config(); err != nil || !slices.Equal(c.Widths, []int{128, 384, 384}) {
		t.Fatalf("widths [128, 384, 384]: %v, %v", c.Widths, err)
	}
	two, _ := o.WithParams(Params{"widths": []any{128, 384}})
	if _, err := two.Config(); err == nil {
		t.Fatal("two widths accepted")
	} else if key, _ := FieldOf(err); key != "widths" {
		t.Fatalf("FieldOf = %q, want widths", key)
	}
	tinyWide, _ := DefaultCIFAR10Options().WithParams(Params{"widths": []any{8, 16, 16}})
	if _, err := tinyWide.Config(); err == nil {
		t.Fatal("widths accepted for tiny")
	}
	tiny, _ := DefaultCIFAR10Options().WithParams(Params{"act": "gelu"})
	if _, err := tiny.Config(); err == nil {
		t.Fatal("act gelu accepted for tiny")
	} else if key, _ := FieldOf(err); key != "act" {
		t.Fatalf("FieldOf = %q, want act", key)
	}
	if _, err := o.WithParams(Params{"seed": -1}); err == nil {
		t.Fatal("negative seed accepted")
	}
}

func TestCIFAR10_Steps(t *testing.T) {
	// The epochs option, overridden by a searched epochs param; 0 when the
	// params make no valid configuration (Run reports that itself).
	o := DefaultCIFAR10Options()
	o.Epochs = 6
	obj, err := NewCIFAR10(o, "study")
	if err != nil {
		t.Fatal(err)
	}
	placed := &Placed{inner: obj}
	for _, tt := range []struct {
		params Params
		want   int
	}{
		{Params{"lr": 0.1}, 6},
		{Params{"epochs": 3}, 3},
		{Params{"learning_rate": 0.1}, 0},
	} {
		if got, viaPlaced := obj.Steps(tt.params), StepsOf(placed, tt.params); got != tt.want || viaPlaced != tt.want {
			t.Errorf("Steps(%v) = %d (placed %d), want %d", tt.params, got, viaPlaced, tt.want)
		}
	}
}

// logReporter is a fakeReporter that takes the objective's log lines.
type logReporter struct {
	fakeReporter
	log bytes.Buffer
}

func (l *logReporter) LogWriter() io.Writer { return &l.log }

func TestCIFAR10_LogToReporter(t *testing.T) {
	// With `log: true` the per-epoch lines go to the reporter when it
	// takes them (a worker's display), not straight to stderr.
	o := DefaultCIFAR10Options()
	o.Log = true
	obj, err := NewCIFAR10(o, "study")
	if err != nil {
		t.Fatal(err)
	}
	obj.train = func(ctx context.Context, c trainer.Config, h trainer.Hooks) (trainer.Result, error) {
		fmt.Fprintf(h.Log, "epoch 1 of %d\n", c.Epochs)
		return fakeTrain(ctx, c, h)
	}
	rep := &logReporter{}
	if _, err := obj.Run(context.Background(), Params{"epochs": 2}, rep); err != nil {
		t.Fatal(err)
	}
	if rep.log.String() != "epoch 1 of 2\n" {
		t.Errorf("reporter's log %q, want the trainer's line", rep.log.String())
	}
}

package trainer

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"sweep/trainer/calib"
	"sweep/trainer/data"
	"sweep/trainer/optim"
)

// ErrConfig is wrapped by every configuration error from [Config.Validate].
var ErrConfig = errors.New("trainer: bad config")

// FieldError is a configuration problem in one field, named as the cifar10
// objective's option key (lr, batch_size...), so that callers can point at
// the line of a spec that set it.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes every FieldError match ErrConfig.
func (e *FieldError) Unwrap() error { return ErrConfig }

// Config is one training run, complete: data, model, optimizer, schedule,
// regularisation, evaluation extras and where outputs go. [Defaults] gives
// the recipe the tiny model trains well with on two CPU cores; the cifar10
// objective starts from it, applies the study's options, then the trial's
// params. Epoch-based settings are converted to steps inside Train, with
// steps per epoch = floor(train images / BatchSize) (the last partial batch
// is dropped so that batch-norm statistics never see a tiny batch).
//
// The yaml tags are the cifar10 objective's option keys: the objective
// decodes a study's options and a trial's params straight into these
// fields. Fields tagged "-" are built by the objective from keys of its own
// (val_size, layer_lr, aug_preset, tta_flip...).
type Config struct {
	// Data. DataDir holds the CIFAR-10 binary files. TrainLimit and
	// TestLimit (0 = all) take the first images only: tests and smoke runs.
	// Data "synthetic" generates learnable random images instead (TrainLimit
	// and TestLimit of them, 0 = 10000 and 2000), for machines without
	// CIFAR-10; "" and "cifar10" read DataDir.
	Data       string           `yaml:"data"`
	DataDir    string           `yaml:"data_dir"`
	TrainLimit int              `yaml:"train_limit"`
	TestLimit  int              `yaml:"test_limit"`
	Split      data.SplitConfig `yaml:"-"`
	Augment    data.Config      `yaml:"-"`
	Loaders    int              `yaml:"loaders"` // augmentation goroutines; 0 = GOMAXPROCS

	// Model: tiny, resnet18, resnet34 or fastnet, with the resnet options.
	// Widths sets fastnet's three stage widths and overrides Width
	// (default 64/256/256; airbench95's are [128, 384, 384]).
	Model       string  `yaml:"model"`
	Width       float64 `yaml:"width"` // channel multiplier; 0 = 1
	Widths      []int   `yaml:"widths"`
	Stem        string  `yaml:"stem"` // "standard" (3x3) or "article" (three 3x3, first stride 2)
	SE          bool    `yaml:"se"`   // squeeze-excitation blocks
	SEReduction int     `yaml:"se_reduction"`

	// fastnet's airbench94 options (see models.FastNetOptions): Act is
	// "relu" (default) or "gelu"; BNMomentum (PyTorch convention, 0 = 0.1;
	// airbench's 0.6 is 0.4 here), BNEps (0 = 1e-5) and BNFrozenScale
	// configure every batch norm; Init is "kaiming" (default) or "airbench";
	// WhitenBiasEpochs > 0 trains the whitening stem's bias for that many
	// epochs only, then freezes it (airbench: 3).
	Act              string  `yaml:"act"`
	BNMomentum       float64 `yaml:"bn_momentum"`
	BNEps            float64 `yaml:"bn_eps"`
	BNFrozenScale    bool    `yaml:"bn_frozen_scale"`
	Init             string  `yaml:"init"`
	WhitenBiasEpochs int     `yaml:"whiten_bias_epochs"`

	// Optimizer: "sgd" (momentum, Nesterov) or "adamw" (decoupled decay).
	Optimizer   string            `yaml:"optimizer"`
	LR          float64           `yaml:"lr"` // peak learning rate for the schedule
	Momentum    float64           `yaml:"momentum"`
	Nesterov    bool              `yaml:"nesterov"`
	WeightDecay float64           `yaml:"weight_decay"`
	DecayBNBias bool              `yaml:"decay_bn_bias"` // also decay BN and bias (1-D) parameters; off = exempt
	Beta1       float64           `yaml:"beta1"`         // AdamW; 0 = 0.9
	Beta2       float64           `yaml:"beta2"`         // AdamW; 0 = 0.999
	Eps         float64           `yaml:"eps"`           // AdamW; 0 = 1e-8
	LayerLR     optim.Multipliers `yaml:"-"`
	// Decoupled (SGD only) reads LR and WeightDecay in airbench94's
	// decoupled form: LR is per 1024 examples and per unit of momentum
	// gain, so the step size is LR·B/1024/(1 + 1/(1−μ)) for batch B and
	// momentum μ; WeightDecay is likewise WeightDecay·B/1024/(1 + 1/(1−μ))
	// of each weight per step at the schedule's peak, following the
	// schedule but not the layer-wise multipliers or BNBiasLR. Tuning
	// batch size, momentum or learning rate then leaves the others' effect
	// alone. airbench94: lr 11.5, weight_decay 0.0153, batch 1024, μ 0.85.
	Decoupled bool `yaml:"decoupled"`
	// BNBiasLR multiplies the learning rate of batch-norm parameters (the
	// shifts; the scales too when they train); 0 = 1. airbench94's
	// bias_scaler is 64.
	BNBiasLR float64 `yaml:"bn_bias_lr"`

	// Schedule. Kind is one of optim's schedule kinds; epoch-valued fields
	// are converted to steps.
	Schedule       string  `yaml:"scheduler"`
	WarmupEpochs   float64 `yaml:"warmup_epochs"`
	StepEpochs     int     `yaml:"step_size"`  // step: decay every StepEpochs epochs
	Gamma          float64 `yaml:"gamma"`      // step, multistep
	Milestones     []int   `yaml:"milestones"` // multistep, in epochs
	MinLR          float64 `yaml:"min_lr"`     // cosine, linear
	PctStart       float64 `yaml:"pct_start"`  // onecycle, triangle
	DivFactor      float64 `yaml:"div_factor"` // onecycle
	FinalDivFactor float64 `yaml:"final_div_factor"`
	StartFactor    float64 `yaml:"start_factor"` // triangle (airbench: 0.2)
	EndFactor      float64 `yaml:"end_factor"`   // triangle (airbench: 0.07)

	// Budget: Epochs, or Steps when > 0 (validation still runs at every
	// epoch boundary and at the end). TimeBudget > 0 (seconds of wall
	// time, epoch budgets only) lowers Epochs to what fits, final
	// evaluation included, judged from the speed of the first 20 steps:
	// for time-to-accuracy baselines, not for studies, since the result
	// then depends on the machine's speed.
	Epochs     int     `yaml:"epochs"`
	Steps      int     `yaml:"steps"`
	TimeBudget float64 `yaml:"time_budget_s"`
	BatchSize  int     `yaml:"batch_size"`
	Smoothing  float64 `yaml:"smoothing"` // label smoothing of the cross-entropy

	// Weight averages. SWAStart > 0 averages the weights at the end of each
	// epoch from SWAStart on (at SWALR when set) and evaluates the average
	// after a BN recalibration pass. EMADecay > 0 keeps an EMA of the weights
	// updated every EMAEvery steps, evaluated at the end.
	SWAStart int     `yaml:"swa_start"`
	SWALR    float64 `yaml:"swa_lr"`
	EMADecay float64 `yaml:"ema_decay"`
	EMAEvery int     `yaml:"ema_every"`
	// Lookahead turns on airbench94's lookahead state (optim.Lookahead),
	// which pulls the weights and batch-norm statistics back to a slow copy
	// every LookaheadEvery steps (0 = 5) after LookaheadStart epochs (airbench:
	// 3), with decay LookaheadDecay^every·progress^LookaheadPow (0 = 0.95
	// and 3); the slow copy is the final model.
	Lookahead      bool    `yaml:"lookahead"`
	LookaheadStart int     `yaml:"lookahead_start"`
	LookaheadEvery int     `yaml:"lookahead_every"`
	LookaheadDecay float64 `yaml:"lookahead_decay"`
	LookaheadPow   float64 `yaml:"lookahead_pow"`

	// Evaluation extras, run once at the end: TTA views for the final
	// validation and test accuracy, and temperature scaling fitted on the
	// validation logits.
	TTA       calib.TTA `yaml:"-"`
	Calibrate bool      `yaml:"calibrate"`

	// Monitoring every MonitorEvery steps (0 = off): gradient norms,
	// activation statistics, dead ReLUs, per-example loss spread.
	MonitorEvery int `yaml:"monitor_every"`

	// Runtime. Device is "cpu" or "cuda[:N]"; Precision "fp32", "bf16" or
	// "fp16" (passed to backends that support mixed precision). Seed drives
	// initialisation, shuffling and augmentation.
	Device    string `yaml:"device"`
	Precision string `yaml:"precision"`
	Seed      uint64 `yaml:"seed"`

	// Outputs. With CheckpointDir set, best and final weights are written to
	// CheckpointDir/Study/Trial/{best,final}.ckpt.
	CheckpointDir string `yaml:"checkpoint_dir"`
	Study, Trial  string `yaml:"-"`
}

// Defaults returns the CPU recipe for the tiny model: SGD with Nesterov
// momentum 0.9, weight decay 5e-4 off BN and biases, onecycle to lr 0.4,
// batch 128, label smoothing 0.1, pad-crop + flip, 10 epochs.
func Defaults() Config {
	aug := data.Cheap(1)
	aug.Cutout = data.CutoutConfig{}
	return Config{
		DataDir:     data.DefaultDir,
		Augment:     aug,
		Model:       "tiny",
		Stem:        "standard",
		Optimizer:   "sgd",
		LR:          0.4,
		Momentum:    0.9,
		Nesterov:    true,
		WeightDecay: 5e-4,
		Schedule:    optim.OneCycle,
		PctStart:    0.25,
		Epochs:      10,
		BatchSize:   128,
		Smoothing:   0.1,
		Device:      "cpu",
		Precision:   "fp32",
		Seed:        1,
	}
}

// Validate reports the first setting that cannot run, naming the field as
// the cifar10 objective spells it.
func (c *Config) Validate() error {
	bad := func(field, format string, a ...any) error {
		return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	pos := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	switch {
	case !oneOf(c.Data, "", "cifar10", "synthetic"):
		return bad("data", "%q is not cifar10 or synthetic", c.Data)
	case !oneOf(c.Model, "tiny", "resnet18", "resnet34", "fastnet"):
		return bad("model", "%q is not tiny, resnet18, resnet34 or fastnet", c.Model)
	case !oneOf(c.Stem, "", "standard", "article"):
		return bad("stem", "%q is not standard or article", c.Stem)
	case c.Width < 0 || c.Width > 16:
		return bad("width", "%g is not in (0, 16]", c.Width)
	case !oneOf(c.Optimizer, "sgd", "adamw"):
		return bad("optimizer", "%q is not sgd or adamw", c.Optimizer)
	case !pos(c.LR):
		return bad("lr", "%g must be positive", c.LR)
	case c.Momentum < 0 || c.Momentum >= 1:
		return bad("momentum", "%g is not in [0, 1)", c.Momentum)
	case c.Nesterov && c.Optimizer == "sgd" && c.Momentum == 0:
		return bad("nesterov", "needs momentum > 0")
	case c.WeightDecay < 0:
		return bad("weight_decay", "%g must not be negative", c.WeightDecay)
	case c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1:
		return bad("beta1/beta2", "%g, %g are not in [0, 1)", c.Beta1, c.Beta2)
	case c.Epochs <= 0 && c.Steps <= 0:
		return bad("epochs", "need epochs > 0 or steps > 0")
	case c.TimeBudget < 0:
		return bad("time_budget_s", "%g must not be negative", c.TimeBudget)
	case c.Epochs < 0 || c.Steps < 0:
		return bad("epochs", "epochs %d and steps %d must not be negative", c.Epochs, c.Steps)
	case c.BatchSize <= 0 || c.BatchSize > 8192:
		return bad("batch_size", "%d is not in [1, 8192]", c.BatchSize)
	case c.Smoothing < 0 || c.Smoothing >= 1:
		return bad("smoothing", "%g is not in [0, 1)", c.Smoothing)
	case c.WarmupEpochs < 0:
		return bad("warmup_epochs", "%g must not be negative", c.WarmupEpochs)
	case c.SWAStart < 0 || c.SWALR < 0:
		return bad("swa_start", "swa_start %d and swa_lr %g must not be negative", c.SWAStart, c.SWALR)
	case c.EMADecay < 0 || c.EMADecay >= 1:
		return bad("ema_decay", "%g is not in [0, 1)", c.EMADecay)
	case c.EMAEvery < 0 || c.MonitorEvery < 0:
		return bad("monitor_every", "ema_every %d and monitor_every %d must not be negative", c.EMAEvery, c.MonitorEvery)
	case c.TTA.Translations < 0 || c.TTA.Translations > calib.MaxTranslations:
		return bad("tta_translations", "%d is not in [0, %d]", c.TTA.Translations, calib.MaxTranslations)
	case !oneOf(c.Precision, "", "fp32", "bf16", "fp16"):
		return bad("precision", "%q is not fp32, bf16 or fp16", c.Precision)
	case c.TTA.Level < 0 || c.TTA.Level > calib.MaxLevel:
		return bad("tta_level", "%d is not in [0, %d]", c.TTA.Level, calib.MaxLevel)
	case c.Decoupled && c.Optimizer != "sgd":
		return bad("decoupled", "applies to optimizer sgd, not %s", c.Optimizer)
	case c.BNBiasLR < 0 || math.IsInf(c.BNBiasLR, 0):
		return bad("bn_bias_lr", "%g must be ≥ 0", c.BNBiasLR)
	case c.Lookahead && (c.LookaheadStart < 0 || c.LookaheadEvery < 0 || c.LookaheadPow < 0):
		return bad("lookahead_start", "lookahead_start %d, lookahead_every %d and lookahead_pow %g must not be negative",
			c.LookaheadStart, c.LookaheadEvery, c.LookaheadPow)
	case c.Lookahead && (c.LookaheadDecay < 0 || c.LookaheadDecay > 1):
		return bad("lookahead_decay", "%g is not in [0, 1]", c.LookaheadDecay)
	}
	if err := c.validateFastNet(); err != nil {
		return err
	}
	for g, m := range c.LayerLR {
		if !(m >= 0) || math.IsInf(m, 0) {
			return bad("lr_"+g, "multiplier %g must be ≥ 0", m)
		}
	}
	if err := c.Augment.Validate(); err != nil {
		return bad("augment", "%s", strings.TrimPrefix(err.Error(), "augment: "))
	}
	// The schedule's own checks, on a nominal run length.
	if err := c.schedule(100).Validate(); err != nil {
		return bad("scheduler", "%s", strings.TrimPrefix(err.Error(), optim.ErrSchedule.Error()+": "))
	}
	return nil
}

// validateFastNet checks the options only fastnet has.
func (c *Config) validateFastNet() error {
	bad := func(field, format string, a ...any) error {
		return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	switch {
	case !oneOf(c.Act, "", "relu", "gelu"):
		return bad("act", "%q is not relu or gelu", c.Act)
	case c.BNMomentum < 0 || c.BNMomentum > 1:
		return bad("bn_momentum", "%g is not in [0, 1]", c.BNMomentum)
	case c.BNEps < 0:
		return bad("bn_eps", "%g must not be negative", c.BNEps)
	case !oneOf(c.Init, "", "kaiming", "airbench"):
		return bad("init", "%q is not kaiming or airbench", c.Init)
	case c.WhitenBiasEpochs < 0:
		return bad("whiten_bias_epochs", "%d must not be negative", c.WhitenBiasEpochs)
	case len(c.Widths) != 0 && len(c.Widths) != 3:
		return bad("widths", "has %d entries; want 3 stage widths, e.g. [128, 384, 384]", len(c.Widths))
	}
	for _, w := range c.Widths {
		if w < 1 || w > 4096 {
			return bad("widths", "%d is not in [1, 4096]", w)
		}
	}
	if c.Model == "fastnet" {
		return nil
	}
	for _, f := range []struct {
		key string
		set bool
	}{{"act", c.Act != "" && c.Act != "relu"}, {"bn_momentum", c.BNMomentum != 0}, {"bn_eps", c.BNEps != 0},
		{"bn_frozen_scale", c.BNFrozenScale}, {"init", c.Init != "" && c.Init != "kaiming"},
		{"whiten_bias_epochs", c.WhitenBiasEpochs != 0}, {"widths", len(c.Widths) != 0}} {
		if f.set {
			return bad(f.key, "only model fastnet has this option (model is %s)", c.Model)
		}
	}
	return nil
}

// momentumGain is airbench94's 1 + 1/(1−μ) per 1024 examples, divided by
// the batch size: the factor that turns Decoupled's LR and WeightDecay
// into PyTorch SGD's (on the mean loss). 1 without Decoupled.
func (c *Config) momentumGain() float64 {
	if !c.Decoupled {
		return 1
	}
	return 1024 * (1 + 1/(1-c.Momentum)) / float64(c.BatchSize)
}

// peakLR is the schedule's base rate as the optimizer sees it.
func (c *Config) peakLR() float64 { return c.LR / c.momentumGain() }

// schedule builds the learning-rate schedule for a run of stepsPerEpoch
// steps per epoch.
func (c *Config) schedule(stepsPerEpoch int) optim.Schedule {
	total := c.totalSteps(stepsPerEpoch)
	ms := make([]int, len(c.Milestones))
	for i, e := range c.Milestones {
		ms[i] = e * stepsPerEpoch
	}
	return optim.Schedule{
		Kind:           c.Schedule,
		BaseLR:         c.peakLR(),
		TotalSteps:     total,
		WarmupSteps:    int(math.Round(c.WarmupEpochs * float64(stepsPerEpoch))),
		StepSize:       c.StepEpochs * stepsPerEpoch,
		Gamma:          c.Gamma,
		Milestones:     ms,
		MinLR:          c.MinLR,
		PctStart:       c.PctStart,
		DivFactor:      c.DivFactor,
		FinalDivFactor: c.FinalDivFactor,
		StartFactor:    c.StartFactor,
		EndFactor:      c.EndFactor,
	}
}

// totalSteps is the run length in optimizer steps.
func (c *Config) totalSteps(stepsPerEpoch int) int {
	if c.Steps > 0 {
		return c.Steps
	}
	return c.Epochs * stepsPerEpoch
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

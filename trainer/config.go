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
type Config struct {
	// Data. DataDir holds the CIFAR-10 binary files. TrainLimit and
	// TestLimit (0 = all) take the first images only: tests and smoke runs.
	// Data "synthetic" generates learnable random images instead (TrainLimit
	// and TestLimit of them, 0 = 10000 and 2000), for machines without
	// CIFAR-10; "" and "cifar10" read DataDir.
	Data       string
	DataDir    string
	TrainLimit int
	TestLimit  int
	Split      data.SplitConfig
	Augment    data.Config
	Loaders    int // augmentation goroutines; 0 = GOMAXPROCS

	// Model: tiny, resnet18, resnet34 or fastnet, with the resnet options.
	Model       string
	Width       float64 // channel multiplier; 0 = 1
	Stem        string  // "standard" (3x3) or "article" (three 3x3, first stride 2)
	SE          bool    // squeeze-excitation blocks
	SEReduction int     // SE reduction r; 0 = 16

	// Optimizer: "sgd" (momentum, Nesterov) or "adamw" (decoupled decay).
	Optimizer    string
	LR           float64 // peak learning rate for the schedule
	Momentum     float64 // SGD momentum; AdamW's beta1 is Beta1
	Nesterov     bool
	WeightDecay  float64
	DecayBNBias  bool    // also decay BN and bias (1-D) parameters; off = exempt
	Beta1, Beta2 float64 // AdamW; 0 = 0.9, 0.999
	Eps          float64 // AdamW; 0 = 1e-8
	LayerLR      optim.Multipliers

	// Schedule. Kind is one of optim's schedule kinds; epoch-valued fields
	// are converted to steps.
	Schedule       string
	WarmupEpochs   float64
	StepEpochs     int     // step: decay every StepEpochs epochs
	Gamma          float64 // step, multistep
	Milestones     []int   // multistep, in epochs
	MinLR          float64 // cosine, linear
	PctStart       float64 // onecycle
	DivFactor      float64 // onecycle
	FinalDivFactor float64 // onecycle

	// Budget: Epochs, or Steps when > 0 (validation still runs at every
	// epoch boundary and at the end). TimeBudget > 0 (seconds of wall
	// time, epoch budgets only) lowers Epochs to what fits, final
	// evaluation included, judged from the speed of the first 20 steps:
	// for time-to-accuracy baselines, not for studies, since the result
	// then depends on the machine's speed.
	Epochs     int
	Steps      int
	TimeBudget float64
	BatchSize  int
	Smoothing  float64 // label smoothing of the cross-entropy

	// Weight averages. SWAStart > 0 averages the weights at the end of each
	// epoch from SWAStart on (at SWALR when set) and evaluates the average
	// after a BN recalibration pass. EMADecay > 0 keeps an EMA of the weights
	// updated every EMAEvery steps, evaluated at the end.
	SWAStart int
	SWALR    float64
	EMADecay float64
	EMAEvery int

	// Evaluation extras, run once at the end: TTA views for the final
	// validation and test accuracy, and temperature scaling fitted on the
	// validation logits.
	TTA       calib.TTA
	Calibrate bool

	// Monitoring every MonitorEvery steps (0 = off): gradient norms,
	// activation statistics, dead ReLUs, per-example loss spread.
	MonitorEvery int

	// Runtime. Device is "cpu" or "cuda[:N]"; Precision "fp32", "bf16" or
	// "fp16" (passed to backends that support mixed precision). Seed drives
	// initialisation, shuffling and augmentation.
	Device    string
	Precision string
	Seed      uint64

	// Outputs. With CheckpointDir set, best and final weights are written to
	// CheckpointDir/Study/Trial/{best,final}.ckpt.
	CheckpointDir string
	Study, Trial  string
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
		BaseLR:         c.LR,
		TotalSteps:     total,
		WarmupSteps:    int(math.Round(c.WarmupEpochs * float64(stepsPerEpoch))),
		StepSize:       c.StepEpochs * stepsPerEpoch,
		Gamma:          c.Gamma,
		Milestones:     ms,
		MinLR:          c.MinLR,
		PctStart:       c.PctStart,
		DivFactor:      c.DivFactor,
		FinalDivFactor: c.FinalDivFactor,
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

package objective

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"sweep/trainer"
	"sweep/trainer/calib"
	"sweep/trainer/data"
	"sweep/trainer/optim"
)

// CIFAR10Options are the settings of objective `cifar10`. The same keys
// serve as the study's objective options (fixed for every trial) and as
// trial params (searched): a param overrides the option of the same name.
// Epoch-valued keys count epochs; everything else is in the unit the name
// says.
//
// Most keys are trainer.Config's own fields (embedded, their yaml tags are
// the keys: lr, batch_size, act, lookahead...), so a new trainer setting is
// an option as soon as it has a tag. The fields below are the keys that
// build a composite setting: the validation split, layer-wise learning
// rates, augmentation and test-time augmentation, a named recipe, logging.
type CIFAR10Options struct {
	trainerConfig `yaml:",inline"`

	ValSize   int `yaml:"val_size"` // 0 = 5000 (a tenth of a slice)
	SplitSeed int `yaml:"split_seed"`

	// LayerLRKind is "none", "classic" (stem 0.1, stage1 0.5, stage2-3 1,
	// stage4 2) or "per_group" (×1 everywhere, like none, for studies that
	// search the lr_<group> keys as params conditional on this choice); the
	// lr_<group> keys then override single groups.
	LayerLRKind string   `yaml:"layer_lr"`
	LRStem      *float64 `yaml:"lr_stem"`
	LRStage1    *float64 `yaml:"lr_stage1"`
	LRStage2    *float64 `yaml:"lr_stage2"`
	LRStage3    *float64 `yaml:"lr_stage3"`
	LRStage4    *float64 `yaml:"lr_stage4"`
	LRHead      *float64 `yaml:"lr_head"`

	AugPreset   string   `yaml:"aug_preset"`   // classic, cheap
	AugStrength *float64 `yaml:"aug_strength"` // rebuilds augment from the preset
	Augment     any      `yaml:"augment"`      // per-transform mapping, see data.Config
	// AltFlip, when set, overrides augment's alt_flip (airbench94's
	// alternating flip), so that a study can search it as a param.
	AltFlip *bool `yaml:"alt_flip"`

	TTAFlip         bool `yaml:"tta_flip"`
	TTATranslations int  `yaml:"tta_translations"`
	TTALevel        int  `yaml:"tta_level"` // airbench94's: 1 mirror, 2 mirror + translate; overrides the two above

	// Recipe names a whole optimisation recipe for comparison studies (see
	// [applyRecipe]); it overrides the keys it sets.
	Recipe string `yaml:"recipe"`
	Log    bool   `yaml:"log"` // per-epoch lines on stderr
}

// DefaultCIFAR10Options returns the options of [trainer.Defaults], with
// monitoring every 50 steps.
func DefaultCIFAR10Options() CIFAR10Options {
	c := trainer.Defaults()
	c.MonitorEvery = 50
	return CIFAR10Options{trainerConfig: c, LayerLRKind: "none", AugPreset: "cheap"}
}

// trainerConfig names the embedded trainer.Config so that its field name
// does not collide with the Config method.
type trainerConfig = trainer.Config

// WithParams returns o with a trial's params applied: each param name must
// be an option key, and its value must fit the key's type.
func (o CIFAR10Options) WithParams(p Params) (CIFAR10Options, error) {
	if len(p) == 0 {
		return o, nil
	}
	// One conversion path for every key: YAML encodes the params and the
	// decoder fills only the fields present, checking names and types.
	b, err := yaml.Marshal(map[string]any(p))
	if err != nil {
		return o, fmt.Errorf("encode params: %w", err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return o, fmt.Errorf("decode params: %w", err)
	}
	if err := decodeOptions(&o, n.Content[0], func(key string, err error) error {
		return fmt.Errorf("param %s: %w", key, err)
	}); err != nil {
		return o, err
	}
	return o, nil
}

// Config turns the options into a trainer configuration and validates it.
// A problem comes back as a *trainer.FieldError naming the option key.
func (o CIFAR10Options) Config() (trainer.Config, error) {
	c := o.trainerConfig // a copy
	c.Split = data.SplitConfig{ValSize: o.ValSize, Seed: uint64(o.SplitSeed)}
	c.TTA = calib.TTA{Flip: o.TTAFlip, Translations: o.TTATranslations, Level: o.TTALevel}
	switch o.LayerLRKind {
	case "", "none", "per_group":
		c.LayerLR = optim.Multipliers{}
	case "classic":
		c.LayerLR = optim.ClassicLayerwise()
	default:
		return c, &trainer.FieldError{Field: "layer_lr", Msg: fmt.Sprintf("%q is not none, classic or per_group", o.LayerLRKind)}
	}
	for g, m := range map[string]*float64{optim.GroupStem: o.LRStem, optim.GroupStage1: o.LRStage1,
		optim.GroupStage2: o.LRStage2, optim.GroupStage3: o.LRStage3, optim.GroupStage4: o.LRStage4, optim.GroupHead: o.LRHead} {
		if m != nil {
			c.LayerLR[g] = *m
		}
	}
	if err := o.augment(&c); err != nil {
		return c, err
	}
	if err := applyRecipe(&c, o.Recipe); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// augment builds the augmentation: the preset at aug_strength (1 when
// unset), then the explicit per-transform mapping on top.
func (o CIFAR10Options) augment(c *trainer.Config) error {
	s := 1.0
	if o.AugStrength != nil {
		s = *o.AugStrength
		if s < 0 || s > 1 {
			return &trainer.FieldError{Field: "aug_strength", Msg: fmt.Sprintf("%g is not in [0, 1]", s)}
		}
	}
	aug, err := data.FromStrength(o.AugPreset, s)
	if err != nil {
		return &trainer.FieldError{Field: "aug_preset", Msg: err.Error()}
	}
	if o.AugPreset == "cheap" || o.AugPreset == "" {
		aug.Cutout = data.CutoutConfig{} // cutout only when asked for explicitly
	}
	if o.Augment != nil {
		b, err := yaml.Marshal(o.Augment)
		if err != nil {
			return &trainer.FieldError{Field: "augment", Msg: err.Error()}
		}
		// Decode on top of the preset: keys present override it. The
		// mapping's own preset/strength keys, if any, restart from scratch.
		var n yaml.Node
		if err := yaml.Unmarshal(b, &n); err != nil || len(n.Content) == 0 {
			return &trainer.FieldError{Field: "augment", Msg: "must be a mapping"}
		}
		type plain data.Config
		if hasKey(n.Content[0], "preset") || hasKey(n.Content[0], "strength") {
			err = n.Content[0].Decode(&aug)
		} else {
			err = n.Content[0].Decode((*plain)(&aug))
		}
		if err != nil {
			return &trainer.FieldError{Field: "augment", Msg: err.Error()}
		}
	}
	if o.AltFlip != nil {
		aug.AltFlip = *o.AltFlip
	}
	c.Augment = aug
	return nil
}

func hasKey(m *yaml.Node, key string) bool {
	if m.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// CIFAR10 is objective `cifar10`: each trial trains a CIFAR-10 classifier
// with the study's options plus the trial's params, reports validation
// accuracy every epoch, and returns the final validation accuracy. Test
// accuracy is measured once at the end, for reporting only (attr test_acc).
// It is safe for concurrent use: every Run builds its own trainer.
type CIFAR10 struct {
	opts  CIFAR10Options
	study string
	trial string    // fixed trial name for checkpoints; "" = from the reporter
	log   io.Writer // per-epoch lines; nil = os.Stderr when opts.Log
	// train runs one configuration; tests replace it.
	train func(ctx context.Context, c trainer.Config, h trainer.Hooks) (trainer.Result, error)
}

// CIFAR10Option adjusts a [CIFAR10] objective at construction.
type CIFAR10Option func(*CIFAR10)

// WithLog sends the per-epoch lines to w (and turns them on).
func WithLog(w io.Writer) CIFAR10Option { return func(o *CIFAR10) { o.log = w } }

// WithTrialName fixes the trial part of checkpoint paths (for `sweep train`).
func WithTrialName(name string) CIFAR10Option { return func(o *CIFAR10) { o.trial = name } }

// NewCIFAR10 validates opts and returns the objective. study names the
// checkpoint directory when the reporter cannot tell (see [TrialIdentifier]).
func NewCIFAR10(opts CIFAR10Options, study string, extra ...CIFAR10Option) (*CIFAR10, error) {
	if _, err := opts.Config(); err != nil {
		return nil, err
	}
	o := &CIFAR10{opts: opts, study: study, train: trainer.Train}
	for _, f := range extra {
		f(o)
	}
	return o, nil
}

// FieldOf splits a configuration error into the option key it concerns
// ("" when none) and its message, for callers that locate keys in a file.
func FieldOf(err error) (key, msg string) {
	var fe *trainer.FieldError
	if errors.As(err, &fe) {
		return fe.Field, fe.Msg
	}
	return "", err.Error()
}

// Run trains one configuration. Pruning surfaces as ErrPruned.
func (o *CIFAR10) Run(ctx context.Context, params Params, r Reporter) (Result, error) {
	opts, err := o.opts.WithParams(params)
	if err != nil {
		return Result{}, err
	}
	cfg, err := opts.Config()
	if err != nil {
		return Result{}, fmt.Errorf("configure cifar10 trial: %w", err)
	}
	cfg.Study, cfg.Trial = o.study, time.Now().UTC().Format("20060102T150405.000")
	if id, ok := r.(TrialIdentifier); ok {
		study, number := id.TrialID()
		cfg.Study, cfg.Trial = study, strconv.Itoa(number)
	}
	if o.trial != "" {
		cfg.Trial = o.trial
	}
	h := trainer.Hooks{Report: r.Report}
	if mr, ok := r.(MetricsRecorder); ok {
		h.Record = mr.RecordMetrics
	}
	switch {
	case o.log != nil:
		h.Log = o.log
	case opts.Log:
		h.Log = os.Stderr
		if lw, ok := r.(LogWriter); ok {
			h.Log = lw.LogWriter()
		}
	}
	res, err := o.train(ctx, cfg, h)
	if errors.Is(err, trainer.ErrPruned) {
		return Result{Value: res.ValAcc, Attrs: res.Attrs()}, fmt.Errorf("%w at epoch %d", ErrPruned, res.Epochs)
	}
	if err != nil {
		return Result{}, err
	}
	return Result{Value: res.ValAcc, Attrs: res.Attrs(), Metrics: res.Metrics()}, nil
}

// Steps implements StepCounter: the epochs a trial with params trains, 0
// when the params do not make a valid configuration (Run reports that).
func (o *CIFAR10) Steps(params Params) int {
	opts, err := o.opts.WithParams(params)
	if err != nil {
		return 0
	}
	cfg, err := opts.Config()
	if err != nil {
		return 0
	}
	return cfg.Epochs
}

// applyRecipe sets the optimiser, learning rate, schedule and averaging of
// recipe name ("" leaves the config alone). The recipes are the ones
// examples/article-optimizers.yaml compares, after the classic CIFAR
// optimiser write-ups: sgd (0.1, momentum 0.9), sgd_swa (the same plus SWA),
// adamw (1e-3, decoupled decay 0.05) and sgd_cosine (0.05, cosine). The
// step-decay ones follow He et al. 2016 (lr ÷10 at 50% and 75% of the
// epochs); SWA follows Izmailov et al. 2018 (average every epoch of the last
// quarter at a constant 0.05).
func applyRecipe(c *trainer.Config, name string) error {
	if name == "" {
		return nil
	}
	e := max(c.Epochs, 1)
	steps := func() {
		c.Schedule, c.Gamma = optim.MultiStep, 0.1
		c.Milestones = []int{max(e/2, 1), max(3*e/4, 1)}
		if c.Milestones[1] <= c.Milestones[0] {
			c.Milestones = c.Milestones[:1]
		}
	}
	switch name {
	case "sgd", "sgd_swa":
		c.Optimizer, c.LR, c.Momentum, c.Nesterov, c.WeightDecay = "sgd", 0.1, 0.9, false, 5e-4
		steps()
		if name == "sgd_swa" {
			c.SWAStart, c.SWALR = max(3*e/4, 1)+1, 0.05
		}
	case "adamw":
		c.Optimizer, c.LR, c.WeightDecay = "adamw", 1e-3, 5e-2
		steps()
	case "sgd_cosine":
		c.Optimizer, c.LR, c.Momentum, c.Nesterov, c.WeightDecay = "sgd", 0.05, 0.9, false, 5e-4
		c.Schedule, c.MinLR = optim.Cosine, 0
	default:
		return &trainer.FieldError{Field: "recipe", Msg: fmt.Sprintf("%q is not sgd, sgd_swa, adamw or sgd_cosine", name)}
	}
	return nil
}

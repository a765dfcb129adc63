// Package search holds the study specification (the YAML a user writes), the
// search space built from it, and the glue from spec to samplers and pruners.
//
// It does not run trials or touch the database: package sweep does that. The
// algorithms themselves live in the subpackages tpe, sampler and prune.
package search

// Spec is a parsed and validated study specification.
//
// CONTRACT (shared by several packages; fields may be added, not renamed):
// parsing and validation live in this file; see ParseSpec.
type Spec struct {
	Study     string        `yaml:"study"`
	Direction string        `yaml:"direction"` // "maximize" or "minimize"
	Metric    string        `yaml:"metric"`    // e.g. "val_acc"
	Trials    int           `yaml:"trials"`    // study total across all workers
	Workers   int           `yaml:"workers"`   // trial slots in this process
	Sampler   SamplerSpec   `yaml:"sampler"`
	Pruner    PrunerSpec    `yaml:"pruner"`
	Objective ObjectiveSpec `yaml:"objective"`
	Params    []Param       `yaml:"-"` // in file order; parsed from the params mapping
	Heartbeat HeartbeatSpec `yaml:"heartbeat"`
	Retry     RetrySpec     `yaml:"retry"`
	Devices   []int         `yaml:"-"` // nil = auto
}

// SamplerSpec selects and configures the sampler. Zero values mean the
// sampler's defaults. Seed nil means "derive from the study name".
type SamplerSpec struct {
	Type          string `yaml:"type"` // tpe (default), random, grid, cmaes
	Seed          *int64 `yaml:"seed"`
	StartupTrials int    `yaml:"startup_trials"`
	EICandidates  int    `yaml:"ei_candidates"`
	Multivariate  bool   `yaml:"multivariate"`
	Group         bool   `yaml:"group"`
	ConstantLiar  bool   `yaml:"constant_liar"`
}

// PrunerSpec selects and configures the pruner. Steps are the objective's
// report steps (epochs for the built-in objectives).
type PrunerSpec struct {
	Type                 string  `yaml:"type"` // none (default), median, percentile, asha, hyperband
	StartupTrials        int     `yaml:"startup_trials"`
	WarmupSteps          int     `yaml:"warmup_steps"`
	Interval             int     `yaml:"interval"`
	Percentile           float64 `yaml:"percentile"`
	MinResource          int     `yaml:"min_resource"`
	MaxResource          int     `yaml:"max_resource"`
	ReductionFactor      int     `yaml:"reduction_factor"`
	MinEarlyStoppingRate int     `yaml:"min_early_stopping_rate"`
}

// ObjectiveSpec names the objective and carries its options. Type selects a
// constructor in cmd/sweep; Options holds every other key of the mapping, as
// decoded YAML, for that constructor to validate.
type ObjectiveSpec struct {
	Type    string         `yaml:"type"`
	Options map[string]any `yaml:"-"`
}

// HeartbeatSpec configures trial liveness; durations are seconds.
type HeartbeatSpec struct {
	Interval float64 `yaml:"interval"` // default 30
	Grace    float64 `yaml:"grace"`    // default 3 × Interval
}

// RetrySpec configures re-running failed trials.
type RetrySpec struct {
	Max                 int  `yaml:"max"`
	InheritIntermediate bool `yaml:"inherit_intermediate"`
}

// ParamType is the kind of a search-space parameter.
type ParamType string

const (
	Float       ParamType = "float"
	Int         ParamType = "int"
	Categorical ParamType = "categorical"
)

// Param is one search-space parameter. For categorical params, Choices holds
// scalar YAML values (string, int, float64, bool) in file order, and
// Conditional maps a choice (as its string form) to the params that exist
// only when that choice is drawn.
type Param struct {
	Name        string
	Type        ParamType
	Low, High   float64
	Log         bool
	Step        float64 // 0 = continuous (float) or 1 (int)
	Choices     []any
	Conditional map[string][]Param
	Line        int // line in the spec file, for error messages
}

// Package search holds the study specification (the YAML a user writes), the
// search space built from it, and the glue from spec to samplers and pruners.
//
// It does not run trials or touch the database: package sweep does that. The
// algorithms themselves live in the subpackages tpe, sampler and prune.
package search

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits on what a spec may ask for. They reject input that is certainly a
// mistake or an attack (trials: 1e12, a YAML bomb) before anything is stored.
const (
	MaxSpecBytes = 1 << 20 // spec file size
	MaxSpecNodes = 100_000 // YAML nodes after alias expansion
	MaxTrials    = 1_000_000
	MaxWorkers   = 256
	MaxParams    = 1000 // params in the whole space, conditional ones included
	MaxChoices   = 10_000
	MaxNameLen   = 200 // bytes, for study and param names
	MaxDepth     = 8   // nesting of conditional params
)

// Known names, in the order error messages list them.
var (
	samplerTypes = []string{"tpe", "random", "grid", "cmaes", "nsga2", "motpe"}
	prunerTypes  = []string{"none", "median", "percentile", "asha", "hyperband"}
	directions   = []string{"maximize", "minimize"}
	// topKeys are the keys of a spec's root mapping.
	topKeys = []string{"study", "direction", "metric", "directions", "metrics", "constraints", "prune_metric", "trials", "workers", "sampler", "pruner", "objective", "params",
		"heartbeat", "retry", "stop", "devices", "trials_per_device", "trial_memory_gb", "cpu_fallback"}
)

// Spec is a parsed and validated study specification.
//
// CONTRACT (shared by several packages; fields may be added, not renamed):
// parsing and validation live in this file; see ParseSpec.
type Spec struct {
	Study     string `yaml:"study"`
	Direction string `yaml:"direction"` // "maximize" or "minimize"
	Metric    string `yaml:"metric"`    // e.g. "val_acc"
	// Directions and Metrics make a multi-objective study: one direction
	// per metric, in the same order (nil for a single-objective spec). With
	// them, Direction and Metric hold those of PruneMetric, or of the first
	// metric when PruneMetric is empty: the metric a trial's single value,
	// its intermediate reports and the pruner are about.
	Directions  []string      `yaml:"directions"`
	Metrics     []string      `yaml:"metrics"`
	PruneMetric string        `yaml:"prune_metric"`
	Constraints []Constraint  `yaml:"-"`       // in file order
	Trials      int           `yaml:"trials"`  // study total across all workers; failed and retried trials count (docs/reliability.md)
	Workers     int           `yaml:"workers"` // trial slots in this process
	Sampler     SamplerSpec   `yaml:"sampler"`
	Pruner      PrunerSpec    `yaml:"pruner"`
	Objective   ObjectiveSpec `yaml:"objective"`
	Params      []Param       `yaml:"-"` // in file order; parsed from the params mapping
	Heartbeat   HeartbeatSpec `yaml:"heartbeat"`
	Retry       RetrySpec     `yaml:"retry"`
	Stop        StopSpec      `yaml:"stop"`
	Devices     []int         `yaml:"-"` // nil = auto
	// Device placement companions (per machine, ignored by Equivalent).
	// DevicesCPU is `devices: cpu`: every trial trains on the CPU.
	// TrialsPerDevice is how many trials share one GPU (0 means 1);
	// TrialMemoryGB, when > 0, is the device memory one trial needs, checked
	// against each GPU's free memory. CPUFallback lets a study that finds
	// no GPU train on the CPU instead of failing.
	DevicesCPU      bool    `yaml:"-"`
	TrialsPerDevice int     `yaml:"trials_per_device"`
	TrialMemoryGB   float64 `yaml:"trial_memory_gb"`
	CPUFallback     bool    `yaml:"cpu_fallback"`
	// Dir is the directory relative paths in the spec are resolved
	// against (the command objective's workdir and run_dir). ParseSpec
	// leaves it empty, meaning the current directory; sweep start sets
	// it to the spec file's directory. It is not part of the study.
	Dir string `yaml:"-" json:"-"`
}

// SamplerSpec selects and configures the sampler. Seed nil means "derive
// from the study name"; StartupTrials nil means the sampler's default (10
// for TPE, none for CMA-ES), and an explicit 0 means none; a zero
// EICandidates means TPE's default (24 for params drawn one at a time, for
// joint draws of 3 or more params tpe.AutoCandidates: 2 per finished
// trial between 24 and 200;
// Optuna always uses 24). Multivariate and ConstantLiar nil
// mean on, as in Optuna 4+ (docs/search-benchmarks.md compares the modes);
// an explicit false turns them off.
type SamplerSpec struct {
	Type          string `yaml:"type"` // tpe (default; MOTPE for several metrics), random, grid, cmaes, nsga2, motpe
	Seed          *int64 `yaml:"seed"`
	StartupTrials *int   `yaml:"startup_trials"`
	EICandidates  int    `yaml:"ei_candidates"`
	Multivariate  *bool  `yaml:"multivariate"`
	Group         bool   `yaml:"group"`
	ConstantLiar  *bool  `yaml:"constant_liar"`
	// CategoricalPriorWeight smooths the categorical kernels of joint TPE
	// draws; 0 means sweep's 4 (tpe.DefaultCategoricalPriorWeight), 1 is
	// Optuna's. With ei_candidates 24 it gives Optuna's algorithm.
	CategoricalPriorWeight float64 `yaml:"categorical_prior_weight"`
	// NSGA-II only: individuals per generation (0 means 50) and the
	// crossover of float and int params, "uniform" (the default, as
	// Optuna's) or "sbx" (simulated binary crossover).
	PopulationSize int    `yaml:"population_size"`
	Crossover      string `yaml:"crossover"`
}

// PrunerSpec selects and configures the pruner. Steps are the objective's
// report steps (epochs for the built-in objectives). StartupTrials and
// Percentile are nil when the spec does not set them (defaults 5 and 25),
// so that an explicit 0 (prune from the first completed trial; prune all
// but the best) means 0. A zero Interval or ReductionFactor means the
// default (1; 4 for ASHA, 3 for Hyperband): the spec refuses them as
// explicit values.
type PrunerSpec struct {
	Type                 string   `yaml:"type"` // none (default), median, percentile, asha, hyperband
	StartupTrials        *int     `yaml:"startup_trials"`
	WarmupSteps          int      `yaml:"warmup_steps"`
	Interval             int      `yaml:"interval"`
	Percentile           *float64 `yaml:"percentile"`
	MinResource          int      `yaml:"min_resource"`
	MaxResource          int      `yaml:"max_resource"`
	ReductionFactor      int      `yaml:"reduction_factor"`
	MinEarlyStoppingRate int      `yaml:"min_early_stopping_rate"`
}

// ObjectiveSpec names the objective and carries its options. Type selects a
// constructor in cmd/sweep; Options holds every other key of the mapping, as
// decoded YAML, for that constructor to validate.
type ObjectiveSpec struct {
	Type    string         `yaml:"type"`
	Options map[string]any `yaml:"-"`

	// File, Line and Lines locate the mapping and each option key, so that
	// constructors report "study.yaml:9: objective.epochs: ..." through
	// [ObjectiveSpec.Checker].
	File  string         `yaml:"-"`
	Line  int            `yaml:"-"`
	Lines map[string]int `yaml:"-"`
	nodes map[string]*yaml.Node
}

// HeartbeatSpec configures trial liveness. The spec writes each duration
// as 30s, 2m, 1h or a plain number of seconds (see decoder.duration).
type HeartbeatSpec struct {
	Interval time.Duration `yaml:"interval"` // default 30s
	Grace    time.Duration `yaml:"grace"`    // default 3 × Interval
}

// RetrySpec configures re-running failed trials.
type RetrySpec struct {
	Max                 int  `yaml:"max"`
	InheritIntermediate bool `yaml:"inherit_intermediate"`
}

// StopSpec ends a study before its trial budget is spent: once one of its
// conditions holds, workers claim no new trial (running ones finish) and
// the study records why. Zero values mean "no such condition".
type StopSpec struct {
	// Timeout is the study's wall time, counted from its creation in the
	// database (not from this run: a resumed study keeps its clock).
	Timeout time.Duration `yaml:"timeout"`
	// MaxFailed stops the study once this many trials are FAIL, those
	// stopped by an interrupt (reason "interrupted") excepted.
	MaxFailed int `yaml:"max_failed"`
	// Target stops the study once a COMPLETE trial's value reaches it: ≥
	// when the study maximizes, ≤ when it minimizes. nil: no target.
	Target *float64 `yaml:"target"`
}

// Set reports whether any stop condition is configured.
func (s StopSpec) Set() bool { return s.Timeout > 0 || s.MaxFailed > 0 || s.Target != nil }

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

// ParseSpec parses and validates a study spec. filename only labels error
// messages. On any problem it returns a [SpecErrors] listing every problem
// found, each with file, line and field, and a nil Spec: callers can rely on
// a non-nil Spec being complete and valid, with defaults filled in.
func ParseSpec(filename string, data []byte) (*Spec, error) {
	s, err := ParsePartial(filename, data)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ParsePartial is ParseSpec for callers that go on checking after a
// problem: with SpecErrors it also returns the spec as far as it could be
// decoded (nil when the file is not YAML at all), so that, for example, an
// objective's options are validated in the same run and every problem is
// reported at once. Fields with problems hold zero or default values.
func ParsePartial(filename string, data []byte) (*Spec, error) {
	if len(data) > MaxSpecBytes {
		return nil, SpecErrors{{File: filename, Err: fmt.Errorf("%w: more than %d bytes", ErrSpecTooLarge, MaxSpecBytes)}}
	}
	root, err := parseYAML(filename, data)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: filename, budget: MaxSpecNodes}
	if !d.charge(root) {
		return nil, SpecErrors{{File: filename, Line: 1, Err: fmt.Errorf("%w: more than %d YAML nodes once aliases are expanded", ErrSpecTooComplex, MaxSpecNodes)}}
	}
	s := &Spec{
		Metric:    "value",
		Workers:   1,
		Sampler:   SamplerSpec{Type: "tpe"},
		Pruner:    PrunerSpec{Type: "none"},
		Heartbeat: HeartbeatSpec{Interval: 30 * time.Second},
	}
	seen := map[string]*yaml.Node{}
	d.mapping(root, "", func(key string, k, v *yaml.Node) {
		seen[key] = v
		d.topLevel(s, key, k, v)
	})
	d.checkObjectives(s, root, seen)
	for _, key := range []string{"study", "trials", "objective", "params"} {
		if _, ok := seen[key]; !ok && root.Kind == yaml.MappingNode {
			d.failf(root, key, "required")
		}
	}
	if s.Heartbeat.Grace == 0 {
		s.Heartbeat.Grace = 3 * s.Heartbeat.Interval
	} else if s.Heartbeat.Grace <= s.Heartbeat.Interval {
		d.failf(lookup(seen["heartbeat"], "grace"), "heartbeat.grace", "must be > heartbeat.interval (got %v ≤ %v)", s.Heartbeat.Grace, s.Heartbeat.Interval)
	}
	if s.Sampler.Type == "grid" {
		d.checkGrid(seen["sampler"], s.Params)
	}
	if len(d.errs) > 0 {
		return s, d.errs.sorted()
	}
	return s, nil
}

// yamlLine extracts the line from the parser's "yaml: line N: msg" errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses exactly one YAML document into a node tree, without
// expanding aliases.
func parseYAML(filename string, data []byte) (*yaml.Node, error) {
	if !utf8.Valid(data) {
		return nil, SpecErrors{{File: filename, Err: errors.New("not valid UTF-8 text")}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, SpecErrors{{File: filename, Line: 1, Err: errors.New("spec is empty")}}
		}
		return nil, yamlError(filename, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		line := extra.Line
		if err != nil {
			return nil, yamlError(filename, err)
		}
		return nil, SpecErrors{{File: filename, Line: line, Err: errors.New("more than one YAML document (remove the second ---)")}}
	}
	if len(doc.Content) == 0 {
		return nil, SpecErrors{{File: filename, Line: 1, Err: errors.New("spec is empty")}}
	}
	return doc.Content[0], nil
}

// yamlError turns a YAML syntax error into a located SpecError.
func yamlError(filename string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return SpecErrors{{File: filename, Line: line, Err: fmt.Errorf("invalid YAML: %s", msg)}}
}

// topLevel decodes one key of the spec's root mapping.
func (d *decoder) topLevel(s *Spec, key string, k, v *yaml.Node) {
	switch key {
	case "study":
		s.Study, _ = d.name(v, key)
	case "direction":
		if dir, ok := d.str(v, key); ok {
			if dir != "maximize" && dir != "minimize" {
				d.failf(v, key, "must be maximize or minimize (got %q)%s", clip(dir), DidYouMean(dir, directions))
			}
			s.Direction = dir
		}
	case "metric":
		s.Metric, _ = d.name(v, key)
	case "directions":
		s.Directions = d.directionList(v)
	case "metrics":
		s.Metrics = d.stringList(v, key)
	case "prune_metric":
		s.PruneMetric, _ = d.name(v, key)
	case "constraints":
		s.Constraints = d.constraints(v)
	case "trials":
		s.Trials = d.bounded(v, key, 1, MaxTrials)
	case "workers":
		s.Workers = d.bounded(v, key, 1, MaxWorkers)
	case "sampler":
		d.decodeStruct(v, key, &s.Sampler)
		d.checkSampler(v, s.Sampler)
	case "pruner":
		d.decodeStruct(v, key, &s.Pruner)
		d.checkPruner(v, s.Pruner)
	case "objective":
		s.Objective = d.objective(k, v)
	case "params":
		s.Params = d.params(v, key, 0, map[string]int{})
	case "heartbeat":
		d.decodeStruct(v, key, &s.Heartbeat)
		d.checkHeartbeat(v, s.Heartbeat)
	case "retry":
		d.decodeStruct(v, key, &s.Retry)
		if s.Retry.Max < 0 || s.Retry.Max > 100 {
			d.failf(lookup(v, "max"), "retry.max", "must be between 0 and 100 (got %d)", s.Retry.Max)
		}
	case "stop":
		d.decodeStruct(v, key, &s.Stop)
		d.checkStop(v, s.Stop)
	case "devices":
		if r := resolve(v); r != nil && r.Kind == yaml.ScalarNode && r.Value == "cpu" {
			s.DevicesCPU = true
			return
		}
		s.Devices = d.devices(v)
	case "trials_per_device":
		s.TrialsPerDevice = d.bounded(v, key, 1, 64)
	case "trial_memory_gb":
		if f, ok := d.number(v, key); ok && (f <= 0 || f > 4096) {
			d.failf(v, key, "must be in (0, 4096] GiB (got %s)", resolve(v).Value)
		} else {
			s.TrialMemoryGB = f
		}
	case "cpu_fallback":
		s.CPUFallback, _ = d.boolean(v, key)
	default:
		d.failf(k, key, "unknown key (want one of %s)%s", strings.Join(topKeys, ", "), DidYouMean(key, topKeys))
	}
}

// lookup returns the value node of key in mapping n, or n itself when the
// key is absent, so a problem is reported at the nearest line.
func lookup(n *yaml.Node, key string) *yaml.Node {
	r := resolve(n)
	if r == nil || r.Kind != yaml.MappingNode {
		return n
	}
	for i := 0; i+1 < len(r.Content); i += 2 {
		if r.Content[i].Value == key {
			return r.Content[i+1]
		}
	}
	return n
}

// name decodes a study, metric or param name: non-empty, printable, at most
// MaxNameLen bytes. Quotes, unicode and SQL metacharacters are allowed; the
// store keeps names as data, never as SQL text.
func (d *decoder) name(n *yaml.Node, field string) (string, bool) {
	s, ok := d.str(n, field)
	if !ok {
		return "", false
	}
	switch {
	case strings.TrimSpace(s) == "":
		d.failf(n, field, "must not be empty")
	case len(s) > MaxNameLen:
		d.failf(n, field, "must be at most %d bytes (got %d)", MaxNameLen, len(s))
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		d.failf(n, field, "must not contain control characters (got %q)", clip(s))
	default:
		return s, true
	}
	return s, false
}

// bounded decodes an integer in [lo, hi].
func (d *decoder) bounded(n *yaml.Node, field string, lo, hi int) int {
	i, ok := d.integer(n, field)
	if ok && (i < lo || i > hi) {
		d.failf(n, field, "must be between %d and %d (got %s)", lo, hi, resolve(n).Value)
	}
	return i
}

// devices decodes `devices: auto` or a list of device indexes (`devices:
// cpu` is handled by the caller).
func (d *decoder) devices(n *yaml.Node) []int {
	if r := resolve(n); r != nil && r.Kind == yaml.ScalarNode {
		if r.Value != "auto" {
			d.failf(n, "devices", "must be auto, cpu or a list of GPU ordinals such as [0, 1] (got %q)", clip(r.Value))
		}
		return nil
	}
	var ids []int
	d.set(n, "devices", reflectValue(&ids))
	seen := map[int]bool{}
	for i, id := range ids {
		if id < 0 || id > 63 || seen[id] {
			d.failf(n, fmt.Sprintf("devices[%d]", i), "must be distinct device indexes between 0 and 63 (got %d)", id)
		}
		seen[id] = true
	}
	if ids == nil {
		ids = []int{}
	}
	return ids
}

// Package command is objective `command`: it runs any training program
// (PyTorch, JAX, a shell script) as a trial. The program gets the trial's
// params on its command line, in SWEEP_PARAMS and in params.json, reports
// on stdout (JSON lines, key=value lines or a regex's groups), and is
// stopped through its process group when the pruner, a timeout or a hard
// interrupt says so.
//
// The package does not sample, store or prune: it hands reports to the
// objective.Reporter and obeys its answer. It does not find GPUs either:
// the device scheduler (objective.Place) picks a slot and Run's caller
// passes it to [Objective.RunOn], which sets CUDA_VISIBLE_DEVICES.
package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"sweep/objective"
	"sweep/trainer/engine/cuda/devsched"
)

// Objective runs a program per trial; see the package comment. It is safe
// for concurrent use: each Run has its own process, files and state.
type Objective struct {
	cfg    Config
	parse  Parser
	placed bool         // the spec lists placeholders for params
	anon   atomic.Int64 // trial numbers when the Reporter does not say
}

var (
	_ objective.Objective    = (*Objective)(nil)
	_ objective.DeviceRunner = (*Objective)(nil)
)

// New returns the objective for cfg, or the first problem Check finds.
func New(cfg Config) (*Objective, error) {
	var problems []string
	cfg.Check(func(key string, ok bool, format string, args ...any) {
		if !ok {
			problems = append(problems, key+": "+fmt.Sprintf(format, args...))
		}
	})
	if len(problems) > 0 {
		return nil, fmt.Errorf("command: %s", strings.Join(problems, "; "))
	}
	parse, err := NewParser(cfg.Report, cfg.Regex, cfg.Metric)
	if err != nil {
		return nil, fmt.Errorf("command: %w", err)
	}
	return &Objective{cfg: cfg, parse: parse, placed: cfg.usesPlaceholders()}, nil
}

// Run runs the program for one trial with the worker's
// CUDA_VISIBLE_DEVICES left as it is.
func (o *Objective) Run(ctx context.Context, params objective.Params, r objective.Reporter) (objective.Result, error) {
	return o.run(ctx, nil, params, r)
}

// RunOn runs the program for one trial on a device slot: CUDA_VISIBLE_DEVICES
// names the slot's GPU, or is empty for the CPU slot so the program sees
// no GPU.
func (o *Objective) RunOn(ctx context.Context, slot devsched.Slot, params objective.Params, r objective.Reporter) (objective.Result, error) {
	visible := ""
	if slot != devsched.CPU {
		visible = strconv.Itoa(slot.Device)
	}
	return o.run(ctx, &visible, params, r)
}

// ErrProgram is wrapped by every failure that is the program's doing: a
// non-zero exit, a signal, a timeout, no value or a non-finite one.
var ErrProgram = errors.New("command: program failed")

// trial is what one Run prepared: the trial's identity and files.
type trial struct {
	study   string
	number  int
	dir     string // SWEEP_TRIAL_DIR
	control string // SWEEP_CONTROL
}

// run prepares the trial directory, starts the program and follows it.
func (o *Objective) run(ctx context.Context, visible *string, params objective.Params, r objective.Reporter) (objective.Result, error) {
	t := o.identify(r)
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return objective.Result{}, fmt.Errorf("create trial directory: %w", err)
	}
	js, err := json.Marshal(params)
	if err != nil {
		return objective.Result{}, fmt.Errorf("encode params: %w", err)
	}
	if err := os.WriteFile(filepath.Join(t.dir, "params.json"), append(js, '\n'), 0o644); err != nil {
		return objective.Result{}, fmt.Errorf("write params.json: %w", err)
	}
	os.Remove(t.control) // a rerun of the same number starts unpruned
	argv := o.argv(params, t)
	env := o.env(t, string(js), visible)
	p, err := StartProcess(argv, o.cfg.ResolvedWorkdir(), env)
	if err != nil {
		return objective.Result{}, fmt.Errorf("%w: %w", ErrProgram, err)
	}
	f := newFollower(o, t, p, r)
	return f.follow(ctx)
}

// identify names the trial from the Reporter (or a counter) and places its
// directory under the run directory.
func (o *Objective) identify(r objective.Reporter) trial {
	study, number := o.cfg.Study, int(o.anon.Add(1)-1)
	if id, ok := r.(objective.TrialIdentifier); ok {
		study, number = id.TrialID()
	}
	dir := filepath.Join(o.cfg.ResolvedRunDir(), pathElement(study), strconv.Itoa(number))
	return trial{study: study, number: number, dir: dir, control: filepath.Join(dir, "control")}
}

// argv substitutes placeholders, and appends --name=value for every param
// when no element names a param.
func (o *Objective) argv(params objective.Params, t trial) []string {
	vars := map[string]string{"study": t.study, "trial": strconv.Itoa(t.number), "trial_dir": t.dir}
	for k, v := range params {
		vars[k] = formatValue(v)
	}
	out := make([]string, 0, len(o.cfg.Argv)+len(params))
	for _, a := range o.cfg.Argv {
		out = append(out, placeholder.ReplaceAllStringFunc(a, func(m string) string {
			name := m[1 : len(m)-1]
			if v, ok := vars[name]; ok {
				return v
			}
			return "" // a conditional param this trial did not draw
		}))
	}
	if !o.placed {
		for _, k := range sortedKeys(params) {
			out = append(out, "--"+k+"="+formatValue(params[k]))
		}
	}
	return out
}

// workerSecrets are the worker's own database credentials. A user's
// program inherits the worker's environment, but not these: it has no need
// for the study database, and a password there would reach its logs,
// crash dumps and child processes (docs/security.md). A spec that wants
// one passes it in its own env.
var workerSecrets = []string{"SWEEP_DB", "PGPASSWORD"}

// env is the program's environment: the base less workerSecrets, the
// spec's env, then sweep's variables, each overriding the one before.
func (o *Objective) env(t trial, paramsJSON string, visible *string) []string {
	base := o.cfg.BaseEnv
	if base == nil {
		base = os.Environ()
	}
	vars := map[string]string{}
	for _, kv := range base {
		if k, v, ok := strings.Cut(kv, "="); ok && !slices.Contains(workerSecrets, k) {
			vars[k] = v
		}
	}
	maps.Copy(vars, o.cfg.Env)
	vars["SWEEP_STUDY"] = t.study
	vars["SWEEP_TRIAL"] = strconv.Itoa(t.number)
	vars["SWEEP_TRIAL_DIR"] = t.dir
	vars["SWEEP_METRIC"] = o.cfg.Metric
	vars["SWEEP_PARAMS"] = paramsJSON
	vars["SWEEP_CONTROL"] = t.control
	if visible != nil {
		vars["CUDA_VISIBLE_DEVICES"] = *visible
	}
	env := make([]string, 0, len(vars))
	for _, k := range sortedKeys(vars) {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// since formats a duration for messages.
func since(d time.Duration) string { return d.Round(time.Millisecond).String() }

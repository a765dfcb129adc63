package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"sweep/objective"
	"sweep/search"
	"sweep/trainer"
	"sweep/trainer/data"
)

// trainOptions are the flags and argument of `sweep train`.
type trainOptions struct {
	env      *env
	File     string
	DataDir  string   // CIFAR-10 directory; overrides the file's data_dir
	Set      []string // key=value overrides, applied after the file
	Ensemble []string // checkpoints to evaluate together instead of training
	JSON     bool
}

func newTrainCmd(e *env, runF func(context.Context, *trainOptions) error) *cobra.Command {
	opts := &trainOptions{env: e}
	cmd := &cobra.Command{
		Use:   "train CONFIG.yaml",
		Short: "Train one cifar10 configuration (or rerun a synthetic study's best trial), without a study",
		Long: `Train one configuration of objective cifar10 and print its result: per-epoch
lines on standard error, then validation and test accuracy (test accuracy is
for reporting only). CONFIG.yaml is either the objective mapping of a study
spec with fixed params, or the flat mapping that sweep report writes for the
best trial. --set overrides single keys.

For a synthetic study, sweep report --format yaml writes the objective, the
best trial's params and the study's space; sweep train runs that trial's
synthetic curve again and reproduces its value (the trial number seeds the
noise). --set then overrides a param or an objective option.

The CIFAR-10 directory is --data-dir, else the file's data_dir, else
$SWEEP_DATA, else data/cifar10. data: synthetic trains on generated,
learnable images instead (train_limit of them, default 10000; test_limit,
default 2000): a smoke or throughput run on a machine without CIFAR-10.
device: auto uses the first GPU found, else the CPU (with a notice; bf16 stays
bf16, through the CPU's bf16 GEMM, and fp16 becomes fp32).`,
		Example: `  sweep train examples/tiny-5min.yaml
  sweep report mystudy | sed -n '/^# Best trial/,$p' > best.yaml && sweep train best.yaml
  sweep train best.yaml --set epochs=30 --set device=cuda --json
  sweep train best.yaml --set data=synthetic --set device=auto --set epochs=2
  sweep train best.yaml --ensemble runs/s/1/final.ckpt --ensemble runs/s/2/final.ckpt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			for _, s := range opts.Set {
				if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
					return usageErrorf("--set %q: want key=value", s)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runTrain(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.DataDir, "data-dir", "", "CIFAR-10 binary directory (default: data_dir, $SWEEP_DATA, data/cifar10)")
	f.StringArrayVar(&opts.Set, "set", nil, "override one option, `key=value` (repeatable)")
	f.StringArrayVar(&opts.Ensemble, "ensemble", nil, "evaluate these checkpoints (`FILE`, repeatable) of the config's model alone, by majority vote and by averaged probabilities, instead of training")
	f.BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return cmd
}

func runTrain(ctx context.Context, opts *trainOptions) error {
	e := opts.env
	src, err := os.ReadFile(opts.File)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if isSyntheticTrainFile(src) {
		res, metric, err := trainSynthetic(ctx, opts, src)
		if err != nil {
			return err
		}
		return printTrainResult(e, opts.JSON, metric, res)
	}
	tf, err := objective.ParseTrainFile(opts.File, src)
	if err != nil {
		return err
	}
	o := tf.Options
	if len(opts.Set) > 0 {
		params := objective.Params{}
		for _, s := range opts.Set {
			k, v, _ := strings.Cut(s, "=")
			var x any
			if err := yaml.Unmarshal([]byte(v), &x); err != nil {
				return fmt.Errorf("--set %s: %w", k, err)
			}
			params[k] = x
		}
		if o, err = o.WithParams(params); err != nil {
			return fmt.Errorf("--set: %w", err)
		}
	}
	switch {
	case opts.DataDir != "":
		o.DataDir = opts.DataDir
	case o.DataDir == objective.DefaultCIFAR10Options().DataDir:
		o.DataDir = data.ResolveDir("", e.Getenv)
	}
	o.Log = true
	res, err := trainOrEnsemble(ctx, opts, tf, o)
	if err != nil {
		return err
	}
	return printTrainResult(e, opts.JSON, "val_acc", res)
}

// printTrainResult prints the value and attrs of a run: as JSON, or one
// name-tab-value line each.
func printTrainResult(e *env, asJSON bool, metric string, res objective.Result) error {
	if asJSON {
		enc := json.NewEncoder(e.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"value": res.Value, "attrs": res.Attrs})
	}
	fmt.Fprintf(e.Out, "%s\t%.4f\n", metric, res.Value)
	keys := make([]string, 0, len(res.Attrs))
	for k := range res.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(e.Out, "%s\t%s\n", k, res.Attrs[k])
	}
	return nil
}

// trainOrEnsemble trains the configuration, or with --ensemble evaluates
// the given checkpoints of its model.
func trainOrEnsemble(ctx context.Context, opts *trainOptions, tf *objective.TrainFile, o objective.CIFAR10Options) (objective.Result, error) {
	if len(opts.Ensemble) > 0 {
		cfg, err := o.Config()
		if err != nil {
			return objective.Result{}, fmt.Errorf("%s: %w", opts.File, err)
		}
		er, err := trainer.Ensemble(ctx, cfg, opts.Ensemble, opts.env.Err)
		if err != nil {
			return objective.Result{}, err
		}
		return objective.Result{Value: er.ValProb, Attrs: er.Attrs()}, nil
	}
	obj, err := objective.NewCIFAR10(o, tf.Study, objective.WithLog(opts.env.Err), objective.WithTrialName(tf.Trial))
	if err != nil {
		return objective.Result{}, fmt.Errorf("%s: %w", opts.File, err)
	}
	return obj.Run(ctx, nil, nopReporter{})
}

// nopReporter never prunes and stores nothing: `sweep train` has no study.
type nopReporter struct{}

func (nopReporter) Report(int, float64) (bool, error) { return false, nil }

// newCIFAR10Objective builds objective cifar10 from a study spec's
// objective mapping, reporting every problem at its spec line. It is the
// constructor the objective-type map in this package uses for "cifar10".
func newCIFAR10Objective(spec search.ObjectiveSpec, study string, params []search.Param, getenv func(string) string) (objective.Objective, error) {
	c := spec.Checker()
	o := objective.DefaultCIFAR10Options()
	c.Decode(&o)
	if err := c.Err(); err != nil {
		return nil, err
	}
	if _, err := o.Config(); err != nil {
		key, msg := objective.FieldOf(err)
		c.Check(key, false, "%s", msg)
		return nil, c.Err()
	}
	if err := checkCIFAR10Space(spec.File, params, o); err != nil {
		return nil, err
	}
	if o.DataDir == data.DefaultDir {
		// No data_dir in the spec: $SWEEP_DATA, as for every command.
		o.DataDir = data.ResolveDir("", getenv)
	}
	return objective.NewCIFAR10(o, study)
}

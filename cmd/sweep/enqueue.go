package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
	"sweep/search"
	"sweep/sweep"
)

// enqueueOptions are the flags and arguments of `sweep enqueue`.
type enqueueOptions struct {
	env    *env
	Study  string
	Params map[string]string // --param NAME=VALUE, by name
	DB     string
	PGDir  string
}

func newEnqueueCmd(e *env, runF func(context.Context, *enqueueOptions) error) *cobra.Command {
	opts := &enqueueOptions{env: e}
	var params []string
	cmd := &cobra.Command{
		Use:   "enqueue STUDY --param NAME=VALUE...",
		Short: "Queue a trial with fixed params, to run before sampled ones",
		Long: `Queue a WAITING trial with the given params, as Optuna's enqueue_trial does:
a known good configuration, a baseline, a point from a paper. Workers run
WAITING trials before they ask the sampler for new ones, and the sampler
learns from its result like any other's.

Each value is checked against the study's stored search space: a number
within [low, high] and on the step of float and int params, one of the
choices of a categorical; a conditional param needs the parent choice that
enables it. Params left out are drawn by the sampler when the trial runs.
The trial takes one unit of the study's trial budget. It runs when a worker
of the study claims its next trial (sweep worker STUDY, or sweep start).`,
		Example: `  sweep enqueue demo --param lr=0.1 --param optimizer=sgd
  sweep enqueue demo --param lr=3e-4 --param optimizer=adamw --param scheduler=cosine`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeStudies(e, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Study = args[0]
			if len(params) == 0 {
				return errors.New("give at least one --param NAME=VALUE")
			}
			opts.Params = map[string]string{}
			for _, p := range params {
				name, value, ok := strings.Cut(p, "=")
				name = strings.TrimSpace(name)
				if !ok || name == "" {
					return fmt.Errorf("--param %q: want NAME=VALUE", p)
				}
				if _, dup := opts.Params[name]; dup {
					return fmt.Errorf("--param %s given twice", name)
				}
				opts.Params[name] = value
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runEnqueue(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&params, "param", "p", nil, "a param's value, `NAME=VALUE` (repeatable)")
	addDBFlags(f, &opts.DB, &opts.PGDir)
	_ = cmd.RegisterFlagCompletionFunc("param", completeParams(e))
	return cmd
}

// runEnqueue checks the values against the stored space and queues the
// trial.
func runEnqueue(ctx context.Context, opts *enqueueOptions) error {
	e := opts.env
	store, err := openExistingStore(ctx, e, opts.DB, opts.PGDir)
	if err != nil {
		return err
	}
	defer store.Close()
	info, spec, err := loadStudy(ctx, store, opts.Study)
	if err != nil {
		return err
	}
	internal, err := search.Assign(spec.Params, opts.Params)
	if err != nil {
		return fmt.Errorf("study %q: %w", opts.Study, err)
	}
	t, err := sweep.Enqueue(ctx, store, info, spec.Params, internal)
	if errors.Is(err, sweep.ErrBudgetExhausted) {
		return fmt.Errorf("study %q has all its %d trials; raise trials in its spec (sweep start SPEC --force-update) to queue more", opts.Study, info.Trials)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "trial %d queued (WAITING): %s\n", t.Number, safetext.Terminal(formatStored(spec.Params, t.Params)))
	if rest := search.Unassigned(spec.Params, internal); len(rest) > 0 {
		fmt.Fprintf(e.Err, "the sampler draws %s when it runs\n", safetext.Terminal(strings.Join(rest, ", ")))
	}
	if info.StopReason != "" {
		fmt.Fprintf(e.Err, "warning: the study stopped (%s): its workers start no trial, this one included, until stop: in its spec changes (sweep start SPEC --force-update)\n",
			safetext.Terminal(info.StopReason))
	}
	return nil
}

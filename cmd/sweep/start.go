package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
	"sweep/objective"
	"sweep/optuna"
	"sweep/search"
	"sweep/sweep"
)

// startOptions are the flags and arguments of `sweep start`.
type startOptions struct {
	env         *env
	File        string
	DB          string
	PGDir       string
	Workers     int // trial slots; 0 = the spec's workers
	MaxConns    int // connection budget (--max-conns)
	ForceUpdate bool
	DryRun      bool // validate and describe the study; touch no database
}

func newStartCmd(e *env, runF func(context.Context, *startOptions) error) *cobra.Command {
	opts := &startOptions{env: e}
	cmd := &cobra.Command{
		Use:   "start STUDY.yaml",
		Short: "Create or resume a study from its spec and run trials",
		Long: `Start validates the spec (every problem is reported with file:line and
field, and nothing is stored while any remains), creates the study in the
database or resumes it when the stored spec is equivalent, and runs trials in
--workers parallel slots until the study's trial budget is spent.

A changed spec is refused with a diff of stored against new unless
--force-update is given. Other machines join with sweep worker STUDY.

Interrupt once (Ctrl-C or SIGTERM) to start no new trials and let running ones
finish; interrupt again to stop now (running trials are marked FAIL with
reason "interrupted").

The database is --db, else $SWEEP_DB, else a private PostgreSQL cluster that
sweep starts itself in --pg-dir.`,
		Example: `  sweep start examples/synthetic.yaml
  sweep start study.yaml --workers 4 --db postgres://me@db/sweep
  sweep start study.yaml --force-update
  sweep start study.yaml --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.Workers < 0 || opts.Workers > search.MaxWorkers {
				return usageErrorf("--workers %d: want between 1 and %d", opts.Workers, search.MaxWorkers)
			}
			if err := checkMaxConns(opts.MaxConns); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStart(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addDBFlags(f, &opts.DB, &opts.PGDir)
	f.IntVarP(&opts.Workers, "workers", "w", 0, "parallel trial slots in this process (default: the spec's workers)")
	addMaxConnsFlag(f, &opts.MaxConns)
	f.BoolVar(&opts.ForceUpdate, "force-update", false, "replace the stored spec of an existing study with this one")
	f.BoolVarP(&opts.DryRun, "dry-run", "n", false, "validate the spec and describe the study; touch no database")
	return cmd
}

// runStart validates everything it can before touching the database, then
// ensures the study and runs its trials.
func runStart(ctx context.Context, opts *startOptions) error {
	e := opts.env
	raw, err := readSpec(opts.File)
	if err != nil {
		return err
	}
	spec, obj, err := parseStudy(opts.File, raw, e.Getenv)
	if err != nil {
		return specProblems(e.Err, opts.File, err)
	}
	if err := checkAlgorithms(spec); err != nil {
		return err
	}
	if opts.DryRun {
		describeStudy(e.Out, opts.File, spec, opts.Workers)
		return nil
	}
	// Plan device slots (find GPUs) before anything is stored; work's own
	// call is then a no-op.
	if err := prepareObjective(obj, cmp.Or(opts.Workers, spec.Workers), e.Err); err != nil {
		return specProblems(e.Err, opts.File, err)
	}
	store, err := openWorkerStore(ctx, e, opts.DB, opts.PGDir, opts.MaxConns)
	if err != nil {
		return err
	}
	defer store.Close()
	info, created, err := sweep.EnsureStudy(ctx, store, spec, raw, opts.ForceUpdate)
	var changed *sweep.SpecChangedError
	if errors.As(err, &changed) {
		// The stored spec is untrusted text (another user may have written it).
		fmt.Fprintf(e.Err, "--- stored spec of %s\n+++ %s\n%s", spec.Study, opts.File, cleanLines(changed.Diff))
		return fmt.Errorf("study %q exists with a different spec; rerun with --force-update to replace it, or rename the study", spec.Study)
	}
	if err != nil {
		return err
	}
	// The optuna.trial_params view reads each param's typed distribution
	// (64 stays an int) from what this records.
	if err := optuna.SyncDistributions(ctx, store.DB().DB, info.ID, spec.Params); err != nil {
		return err
	}
	verb := "resuming"
	if created {
		verb = "created"
	}
	return work(ctx, e, store, info, spec, obj, opts.Workers, verb)
}

// parseStudy parses a spec and builds its objective, reporting the spec's
// problems and the objective options' problems together.
func parseStudy(file string, raw []byte, getenv func(string) string) (*search.Spec, objective.Objective, error) {
	spec, err := search.ParsePartial(file, raw)
	if spec == nil {
		return nil, nil, err
	}
	spec.Dir = filepath.Dir(file) // the command objective's paths are relative to the spec file
	if err != nil && (spec.Objective.Type == "" || objectives()[spec.Objective.Type] == nil || hasObjectiveProblem(err)) {
		return nil, nil, err
	}
	obj, oerr := newObjective(spec, getenv)
	if err = search.Merge(err, oerr); err != nil {
		return nil, nil, err
	}
	return spec, obj, nil
}

// hasObjectiveProblem reports whether the spec's own problems already
// concern the objective mapping, in which case its options are not checked.
func hasObjectiveProblem(err error) bool {
	var list search.SpecErrors
	errors.As(err, &list)
	for _, p := range list {
		if p.Field == "objective" || strings.HasPrefix(p.Field, "objective.") {
			return true
		}
	}
	return false
}

// describeStudy prints what a valid spec asks for, for --dry-run.
func describeStudy(w io.Writer, file string, spec *search.Spec, slots int) {
	if slots == 0 {
		slots = spec.Workers
	}
	fmt.Fprintf(w, "%s: valid\n", file)
	metrics, dirs := spec.Objectives()
	goals := make([]string, len(metrics))
	for i := range metrics {
		goals[i] = dirs[i] + " " + metrics[i]
	}
	fmt.Fprintf(w, "study\t%s (%s, %d trials, %d slot(s) here)\n", spec.Study, strings.Join(goals, ", "), spec.Trials, slots)
	for _, c := range spec.Constraints {
		fmt.Fprintf(w, "constraint\t%s\n", c)
	}
	seed := "from the study name"
	if spec.Sampler.Seed != nil {
		seed = fmt.Sprint(*spec.Sampler.Seed)
	}
	fmt.Fprintf(w, "sampler\t%s (seed %s)\n", spec.Sampler.Type, seed)
	fmt.Fprintf(w, "pruner\t%s\n", spec.Pruner.Type)
	fmt.Fprintf(w, "objective\t%s\n", spec.Objective.Type)
	var walk func(ps []search.Param, depth int, when string)
	walk = func(ps []search.Param, depth int, when string) {
		for _, p := range ps {
			fmt.Fprintf(w, "param\t%s%s %s%s\n", strings.Repeat("  ", depth), p.Name, describeParam(p), when)
			for _, c := range p.Choices {
				cs := search.ChoiceString(c)
				walk(p.Conditional[cs], depth+1, fmt.Sprintf(" (when %s=%s)", p.Name, cs))
			}
		}
	}
	walk(spec.Params, 0, "")
}

// describeParam renders a param's distribution: "float [0.0001, 1] log".
func describeParam(p search.Param) string {
	if p.Type == search.Categorical {
		cs := make([]string, len(p.Choices))
		for i, c := range p.Choices {
			cs[i] = search.ChoiceString(c)
		}
		return "categorical {" + strings.Join(cs, ", ") + "}"
	}
	d := fmt.Sprintf("%s [%g, %g]", p.Type, p.Low, p.High)
	if p.Log {
		d += " log"
	}
	if p.Step > 0 && !(p.Type == search.Int && p.Step == 1) {
		d += fmt.Sprintf(" step %g", p.Step)
	}
	return d
}

// cleanLines applies safetext.Terminal to each line of s, keeping the lines.
func cleanLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safetext.Terminal(l)
	}
	return strings.Join(lines, "\n")
}

// readSpec reads a spec file, refusing oversized files before reading them.
func readSpec(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, usageErrorf("read spec: %w", err)
		}
		return nil, fmt.Errorf("read spec: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, search.MaxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	return b, nil
}

// specProblems prints each problem of a spec on its own line and returns
// the one-line error main prints last. Other errors pass through.
func specProblems(w io.Writer, file string, err error) error {
	var list search.SpecErrors
	if !errors.As(err, &list) {
		return err
	}
	for _, p := range list {
		fmt.Fprintln(w, p.Error())
	}
	noun := "problems"
	if len(list) == 1 {
		noun = "problem"
	}
	return usageErrorf("%s: %d %s; nothing was stored", file, len(list), noun)
}

// checkAlgorithms builds the sampler and pruner once, so that a spec they
// reject fails before anything is stored.
func checkAlgorithms(spec *search.Spec) error {
	if _, _, err := search.NewStudySampler(spec, 0); err != nil {
		return usageErrorf("sampler: %w", err)
	}
	if _, err := search.NewPruner(spec.Pruner); err != nil {
		return usageErrorf("pruner: %w", err)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"sweep/objective"
	"sweep/search"
	"sweep/sweep"
)

// startOptions are the flags and arguments of `sweep start`.
type startOptions struct {
	env         *env
	File        string
	DB          string
	DataDir     string
	Workers     int // trial slots; 0 = the spec's workers
	ForceUpdate bool
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
sweep starts itself in --data-dir.`,
		Example: `  sweep start examples/synthetic.yaml
  sweep start study.yaml --workers 4 --db postgres://me@db/sweep
  sweep start study.yaml --force-update`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.Workers < 0 || opts.Workers > search.MaxWorkers {
				return fmt.Errorf("--workers %d: want between 1 and %d", opts.Workers, search.MaxWorkers)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStart(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.DB, "db", "", "PostgreSQL DSN (default: $SWEEP_DB, else the private cluster)")
	f.StringVar(&opts.DataDir, "data-dir", "", "private cluster directory (default: the user's data dir)")
	f.IntVarP(&opts.Workers, "workers", "w", 0, "parallel trial slots in this process (default: the spec's workers)")
	f.BoolVar(&opts.ForceUpdate, "force-update", false, "replace the stored spec of an existing study with this one")
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
	spec, obj, err := parseStudy(opts.File, raw)
	if err != nil {
		return specProblems(e.Err, opts.File, err)
	}
	if err := checkAlgorithms(spec); err != nil {
		return err
	}
	store, err := openStore(ctx, e, opts.DB, opts.DataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	info, created, err := sweep.EnsureStudy(ctx, store, spec, raw, opts.ForceUpdate)
	var changed *sweep.SpecChangedError
	if errors.As(err, &changed) {
		fmt.Fprintf(e.Err, "--- stored spec of %s\n+++ %s\n%s", spec.Study, opts.File, changed.Diff)
		return fmt.Errorf("study %q exists with a different spec; rerun with --force-update to replace it, or rename the study", spec.Study)
	}
	if err != nil {
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
func parseStudy(file string, raw []byte) (*search.Spec, objective.Objective, error) {
	spec, err := search.ParsePartial(file, raw)
	if spec == nil {
		return nil, nil, err
	}
	if err != nil && (spec.Objective.Type == "" || objectives()[spec.Objective.Type] == nil || hasObjectiveProblem(err)) {
		return nil, nil, err
	}
	obj, oerr := newObjective(spec)
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

// readSpec reads a spec file, refusing oversized files before reading them.
func readSpec(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
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
	return fmt.Errorf("%s: %d %s; nothing was stored", file, len(list), noun)
}

// checkAlgorithms builds the sampler and pruner once, so that a spec they
// reject fails before anything is stored.
func checkAlgorithms(spec *search.Spec) error {
	if _, _, err := search.NewSampler(spec.Sampler, spec.Params, spec.Study, 0); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	if _, err := search.NewPruner(spec.Pruner); err != nil {
		return fmt.Errorf("pruner: %w", err)
	}
	return nil
}

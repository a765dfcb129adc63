package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
	"sweep/search"
	"sweep/sweep"
)

// studyRenameOptions are the flags and arguments of `sweep study rename`.
type studyRenameOptions struct {
	env     *env
	Study   string
	NewName string
	DB      string
	PGDir   string
}

func newStudyRenameCmd(e *env, runF func(context.Context, *studyRenameOptions) error) *cobra.Command {
	opts := &studyRenameOptions{env: e}
	cmd := &cobra.Command{
		Use:   "rename STUDY NEW-NAME",
		Short: "Give a study a new name, in the database and in its stored spec",
		Long: `Rename a study. The stored spec's study: line changes with it (the rest of
the file stays as written), so sweep worker NEW-NAME runs it; trials, notes
and tags follow, and this host's result journals move to the new name.

A study with RUNNING trials is refused: its workers know it by the old
name. Your own copy of the spec file still says the old name: sweep start
with it would create a new study, so edit it too. Trial directories and
checkpoints keep the old name.`,
		Example: `  sweep study rename demo demo-v1`,
		Args:    cobra.ExactArgs(2),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp // a new name: nothing to offer
			}
			return completeStudies(e, 1)(cmd, args, toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Study, opts.NewName = args[0], args[1]
			if opts.Study == opts.NewName {
				return fmt.Errorf("study %q already has that name", opts.Study)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStudyRename(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addDBFlags(f, &opts.DB, &opts.PGDir)
	return cmd
}

// runStudyRename rewrites the stored spec, renames the study, then moves
// this host's journal directory.
func runStudyRename(ctx context.Context, opts *studyRenameOptions) error {
	e := opts.env
	store, err := openExistingStore(ctx, e, opts.DB, opts.PGDir)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := reap(ctx, e, store, opts.Study); err != nil {
		return err
	}
	info, spec, err := loadStudy(ctx, store, opts.Study)
	if err != nil {
		return err
	}
	r, err := studyOverview(ctx, store, opts.Study)
	if err != nil {
		return err
	}
	if r.Running > 0 {
		return fmt.Errorf("study %q has %d RUNNING trial(s) whose workers know it by this name; rename it when they are done", opts.Study, r.Running)
	}
	if _, err := store.Study(ctx, opts.NewName); err == nil {
		return fmt.Errorf("a study named %q exists (sweep study rm it first, or pick another name)", opts.NewName)
	} else if !errors.Is(err, sweep.ErrStudyNotFound) {
		return err
	}
	raw, err := search.SetStudyName("stored spec of "+opts.Study, info.Spec, opts.NewName)
	if err != nil {
		return err
	}
	if err := store.RenameStudy(ctx, info.ID, opts.NewName, raw); err != nil {
		return err
	}
	fmt.Fprintf(e.Err, "renamed study %s to %s; its stored spec now says study: %s\n",
		safetext.Terminal(opts.Study), safetext.Terminal(opts.NewName), safetext.Terminal(opts.NewName))
	moveJournals(e, opts.Study, opts.NewName)
	if spec.Sampler.Seed == nil {
		fmt.Fprintln(e.Err, "note: the spec sets no sampler.seed, so the seed derives from the study name: new trials draw from the new name's stream")
	}
	fmt.Fprintf(e.Err, "edit your spec file to say study: %s before running sweep start with it again\n", safetext.Terminal(opts.NewName))
	return nil
}

// moveJournals moves this host's result journals of a renamed study to
// the directory of its new name, so the next worker replays them. Other
// hosts' journals stay where they are (their next worker of the old name
// would replay them); failures are reported, not fatal.
func moveJournals(e *env, from, to string) {
	base := runBase(e.Getenv)
	if base == "" {
		return
	}
	old, dst := sweep.StudyRunDir(base, from), sweep.StudyRunDir(base, to)
	if _, err := os.Stat(old); err != nil {
		return
	}
	if _, err := os.Stat(dst); err == nil {
		fmt.Fprintf(e.Err, "warning: %s exists; result journals of the old name stay in %s\n", dst, old)
		return
	}
	if err := os.Rename(old, dst); err != nil {
		fmt.Fprintf(e.Err, "warning: move result journals: %v\n", err)
	}
}

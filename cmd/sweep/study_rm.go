package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
)

// studyRmOptions are the flags and arguments of `sweep study rm`.
type studyRmOptions struct {
	env     *env
	Studies []string
	Yes     bool // delete without asking
	Force   bool // delete studies with RUNNING trials too
	DB      string
	PGDir   string
}

func newStudyRmCmd(e *env, runF func(context.Context, *studyRmOptions) error) *cobra.Command {
	opts := &studyRmOptions{env: e}
	cmd := &cobra.Command{
		Use:     "rm STUDY...",
		Aliases: []string{"delete"},
		Short:   "Delete studies and everything stored about them",
		Long: `Delete each study with its trials, params, intermediate values, metrics,
attrs, note and tags. There is no undo.

On a terminal sweep lists what will go and asks first; without a terminal
(a script, a pipe) it refuses unless --yes is given. A study with RUNNING
trials is refused unless --force: its workers are still writing to it.
Nothing is deleted unless every study named can be. Local files (trial
directories, checkpoints, result journals) stay where they are.`,
		Example: `  sweep study rm demo-synthetic
  sweep study rm old-a old-b --yes`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeStudies(e, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Studies = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStudyRm(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking")
	f.BoolVar(&opts.Force, "force", false, "delete studies that still have RUNNING trials")
	addDBFlags(f, &opts.DB, &opts.PGDir)
	return cmd
}

// errNotConfirmed is returned when the person at the terminal does not
// confirm a deletion.
var errNotConfirmed = errors.New("not confirmed; nothing was deleted")

// runStudyRm checks every study first, asks, then deletes them.
func runStudyRm(ctx context.Context, opts *studyRmOptions) error {
	e := opts.env
	if !opts.Yes && !e.InTTY {
		return errors.New("refusing to delete without confirmation: standard input is not a terminal (pass --yes)")
	}
	store, err := openExistingStore(ctx, e, opts.DB, opts.PGDir)
	if err != nil {
		return err
	}
	defer store.Close()
	var targets []overview
	for _, name := range opts.Studies {
		if _, err := studyOverview(ctx, store, name); err != nil {
			return fmt.Errorf("%w; nothing was deleted", err)
		}
		// Trials of dead workers would otherwise count as running.
		if err := reap(ctx, e, store, name); err != nil {
			fmt.Fprintf(e.Err, "study %s: %v\n", safetext.Terminal(name), err)
		}
		r, err := studyOverview(ctx, store, name)
		if err != nil {
			return fmt.Errorf("%w; nothing was deleted", err)
		}
		if r.Running > 0 && !opts.Force {
			return fmt.Errorf("study %q has %d RUNNING trial(s): stop its workers first, or pass --force; nothing was deleted", name, r.Running)
		}
		targets = append(targets, r)
	}
	if !opts.Yes {
		for _, r := range targets {
			fmt.Fprintf(e.Err, "study %s: %d trial(s): %d complete, %d pruned, %d failed, %d running, %d waiting; created %s\n",
				safetext.Terminal(r.Study), r.Trials, r.Complete, r.Pruned, r.Failed, r.Running, r.Waiting, r.Created.UTC().Format("2006-01-02 15:04"))
		}
		fmt.Fprintf(e.Err, "Delete %d stud%s and all their trials? This cannot be undone. [y/N] ", len(targets), map[bool]string{true: "y", false: "ies"}[len(targets) == 1])
		answer, _ := bufio.NewReader(e.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return errNotConfirmed
		}
	}
	for _, r := range targets {
		if err := store.DeleteStudy(r.ID); err != nil {
			return fmt.Errorf("delete study %q: %w", r.Study, err)
		}
		fmt.Fprintf(e.Err, "deleted study %s (%d trials)\n", safetext.Terminal(r.Study), r.Trials)
	}
	return nil
}

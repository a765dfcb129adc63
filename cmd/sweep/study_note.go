package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
)

// maxNote bounds a study's note: it is for a few lines of context, and
// sweep status prints all of it.
const maxNote = 64 << 10

// studyNoteOptions are the flags and arguments of `sweep study note`.
type studyNoteOptions struct {
	env     *env
	Study   string
	Text    string // the words after STUDY, joined by spaces
	HasText bool
	Append  bool // add Text as a new line instead of replacing the note
	Clear   bool
	DB      string
	PGDir   string
}

func newStudyNoteCmd(e *env, runF func(context.Context, *studyNoteOptions) error) *cobra.Command {
	opts := &studyNoteOptions{env: e}
	cmd := &cobra.Command{
		Use:   "note STUDY [TEXT...]",
		Short: "Set, append to or show a study's free-text note",
		Long: `Keep a note with a study: why it was run, what changed, what it showed.
With TEXT, the note becomes TEXT (the words joined by spaces); with --append,
TEXT is added as a new line. Without TEXT the note is printed. sweep status
STUDY shows it too, and the study_overview view has it as column note.`,
		Example: `  sweep study note demo "baseline before the augmentation change"
  sweep study note demo --append lr above 0.3 diverges
  sweep study note demo
  sweep study note demo --clear`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeStudies(e, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Study = args[0]
			opts.Text, opts.HasText = strings.Join(args[1:], " "), len(args) > 1
			switch {
			case opts.Clear && (opts.HasText || opts.Append):
				return errors.New("--clear takes no TEXT and no --append")
			case opts.Append && !opts.HasText:
				return errors.New("--append needs TEXT to add")
			case len(opts.Text) > maxNote:
				return fmt.Errorf("note of %d bytes: at most %d", len(opts.Text), maxNote)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStudyNote(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.Append, "append", "a", false, "add TEXT as a new line of the note")
	f.BoolVar(&opts.Clear, "clear", false, "remove the note")
	addDBFlags(f, &opts.DB, &opts.PGDir)
	return cmd
}

// runStudyNote sets, appends to, clears or prints the note.
func runStudyNote(ctx context.Context, opts *studyNoteOptions) error {
	e := opts.env
	store, err := openExistingStore(ctx, e, opts.DB, opts.PGDir)
	if err != nil {
		return err
	}
	defer store.Close()
	info, err := findStudy(ctx, store, opts.Study)
	if err != nil {
		return err
	}
	if !opts.HasText && !opts.Clear {
		note, err := store.StudyNote(ctx, info.ID)
		if err != nil {
			return err
		}
		if note == "" {
			fmt.Fprintf(e.Err, "study %s has no note (sweep study note %s TEXT sets one)\n", safetext.Terminal(opts.Study), safetext.Terminal(shellQuote(opts.Study)))
			return nil
		}
		for _, line := range strings.Split(note, "\n") {
			fmt.Fprintln(e.Out, safetext.Terminal(line))
		}
		return nil
	}
	if opts.Append {
		cur, err := store.StudyNote(ctx, info.ID)
		if err != nil {
			return err
		}
		if n := len(cur) + 1 + len(opts.Text); n > maxNote {
			return fmt.Errorf("the note would grow to %d bytes: at most %d (rewrite it without --append)", n, maxNote)
		}
	}
	note, err := store.SetStudyNote(ctx, info.ID, opts.Text, opts.Append)
	if err != nil {
		return err
	}
	switch {
	case opts.Clear:
		fmt.Fprintf(e.Err, "study %s: note removed\n", safetext.Terminal(opts.Study))
	default:
		fmt.Fprintf(e.Err, "study %s: note saved (%d line(s))\n", safetext.Terminal(opts.Study), strings.Count(note, "\n")+1)
	}
	return nil
}

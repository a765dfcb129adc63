package main

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
)

// maxTag bounds a tag's length in bytes.
const maxTag = 64

// studyTagOptions are the flags and arguments of `sweep study tag`.
type studyTagOptions struct {
	env    *env
	Study  string
	Tags   []string
	Remove bool // remove Tags instead of adding them
	DB     string
	PGDir  string
}

func newStudyTagCmd(e *env, runF func(context.Context, *studyTagOptions) error) *cobra.Command {
	opts := &studyTagOptions{env: e}
	cmd := &cobra.Command{
		Use:   "tag STUDY [TAG...]",
		Short: "Add or remove a study's tags, or list them",
		Long: `Tag a study to find and group studies later: sweep status STUDY shows its
tags, and the study_overview view has them as the text[] column tags
(SELECT study FROM study_overview WHERE 'resnet18' = ANY (tags)). Adding a
tag the study has, or removing one it lacks, changes nothing. Without TAG
the study's tags are printed, one per line. A tag is at most 64 bytes,
without spaces, commas or control characters.`,
		Example: `  sweep study tag demo resnet18 article
  sweep study tag demo --rm article
  sweep study tag demo`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeStudies(e, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Study, opts.Tags = args[0], args[1:]
			if opts.Remove && len(opts.Tags) == 0 {
				return fmt.Errorf("--rm needs the TAGs to remove")
			}
			for _, t := range opts.Tags {
				if err := checkTag(t); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStudyTag(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Remove, "rm", false, "remove the given tags instead of adding them")
	addDBFlags(f, &opts.DB, &opts.PGDir)
	return cmd
}

// checkTag refuses tags that would not read back as one word in a list.
func checkTag(t string) error {
	switch {
	case t == "":
		return fmt.Errorf("tag %q: must not be empty", t)
	case len(t) > maxTag:
		return fmt.Errorf("tag %q: at most %d bytes (got %d)", t, maxTag, len(t))
	case strings.IndexFunc(t, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' }) >= 0:
		return fmt.Errorf("tag %q: no spaces, commas or control characters", t)
	}
	return nil
}

// runStudyTag changes or lists the tags.
func runStudyTag(ctx context.Context, opts *studyTagOptions) error {
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
	var add, remove []string
	if opts.Remove {
		remove = opts.Tags
	} else {
		add = opts.Tags
	}
	tags, err := store.TagStudy(ctx, info.ID, add, remove)
	if err != nil {
		return err
	}
	if len(opts.Tags) == 0 {
		for _, t := range tags {
			fmt.Fprintln(e.Out, safetext.Terminal(t))
		}
		if len(tags) == 0 {
			fmt.Fprintf(e.Err, "study %s has no tags\n", safetext.Terminal(opts.Study))
		}
		return nil
	}
	shown := "none"
	if len(tags) > 0 {
		shown = strings.Join(tags, ", ")
	}
	fmt.Fprintf(e.Err, "study %s: tags %s\n", safetext.Terminal(opts.Study), safetext.Terminal(shown))
	return nil
}

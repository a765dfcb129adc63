package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"sweep/sweep"
	"sweep/sweep/postgres"
)

// newStudyCmd groups the commands that manage stored studies. It only adds
// its children, one file each (study_rm.go, study_rename.go,
// study_note.go, study_tag.go).
func newStudyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "study",
		Short: "Delete, rename, annotate or tag stored studies",
		Long: `Manage studies already in the database. Running a study is sweep start and
sweep worker; listing them is sweep status.`,
		Example: `  sweep study note demo "baseline before the augmentation change"
  sweep study tag demo resnet18 article
  sweep study rename demo demo-v1
  sweep study rm demo-v1`,
	}
	cmd.AddCommand(
		newStudyRmCmd(e, nil),
		newStudyRenameCmd(e, nil),
		newStudyNoteCmd(e, nil),
		newStudyTagCmd(e, nil),
	)
	return cmd
}

// studyOverview reads one study's study_overview row, or says there is no
// such study.
func studyOverview(ctx context.Context, store *postgres.Storage, name string) (overview, error) {
	rows, err := loadOverview(ctx, store, name)
	if err != nil {
		return overview{}, err
	}
	if len(rows) == 0 {
		return overview{}, fmt.Errorf("no study named %q (sweep status lists them)", name)
	}
	return rows[0], nil
}

// findStudy loads a study by name without parsing its spec (see loadStudy
// for that).
func findStudy(ctx context.Context, store *postgres.Storage, name string) (sweep.StudyInfo, error) {
	info, err := store.Study(ctx, name)
	if errors.Is(err, sweep.ErrStudyNotFound) {
		return info, fmt.Errorf("no study named %q (sweep status lists them)", name)
	}
	if err != nil {
		return info, fmt.Errorf("load study: %w", err)
	}
	return info, nil
}

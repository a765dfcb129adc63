package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
	"sweep/optuna"
)

// exportOptions are the flags and arguments of `sweep export`.
type exportOptions struct {
	env    *env
	Study  string
	DB     string
	PGDir  string
	Format string // optuna-journal
	Out    string // "" = standard output
}

// exportFormats are the formats sweep export writes. Flat tables (csv,
// json, jsonl) are sweep trials --format. Parquet is left out: the Go
// writers that exist pull in large dependency trees (Arrow) for what
// pandas reads as well from CSV or JSON lines.
var exportFormats = []string{"optuna-journal"}

func newExportCmd(e *env, runF func(context.Context, *exportOptions) error) *cobra.Command {
	opts := &exportOptions{env: e}
	cmd := &cobra.Command{
		Use:   "export STUDY --format optuna-journal [--out FILE]",
		Short: "Write a study in another tool's format (Optuna's journal log)",
		Long: `Write one study in a format other tools open without sweep's database.

optuna-journal is Optuna's JournalFileStorage log: every trial with its
params, distributions, values, intermediate values, states, datetimes and
attrs. optuna-dashboard FILE and
optuna.load_study(study_name=..., storage=JournalStorage(JournalFileStorage(FILE)))
open it. --out replaces FILE whole (Optuna appends to a journal, so it is
never appended to). For tables, see sweep trials --format csv|json|jsonl; to
read the live database from Optuna, sweep db url --optuna.`,
		Example: `  sweep export demo-synthetic --format optuna-journal --out demo.log
  optuna-dashboard demo.log`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeStudies(e, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Study = args[0]
			if opts.Format != "optuna-journal" {
				return usageErrorf("--format %q: want optuna-journal (tables: sweep trials --format csv|json|jsonl)", opts.Format)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runExport(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addDBFlags(f, &opts.DB, &opts.PGDir)
	f.StringVar(&opts.Format, "format", "optuna-journal", "output format: optuna-journal")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(exportFormats, cobra.ShellCompDirectiveNoFileComp))
	f.StringVarP(&opts.Out, "out", "o", "", "write to `FILE` (replaced whole) instead of standard output")
	return cmd
}

// runExport writes the journal, to --out only once it is complete, so a
// failure never leaves half a log that Optuna would replay.
func runExport(ctx context.Context, opts *exportOptions) error {
	e := opts.env
	store, err := openExistingStore(ctx, e, opts.DB, opts.PGDir)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := optuna.CheckSchema(ctx, store.DB().DB); err != nil {
		return err
	}
	// Typed distributions for studies made before the optuna views.
	if _, err := optuna.SyncAll(ctx, store.DB().DB); err != nil {
		return err
	}
	var buf bytes.Buffer
	err = optuna.WriteJournal(ctx, store.DB().DB, opts.Study, &buf)
	if errors.Is(err, optuna.ErrStudyNotFound) {
		return fmt.Errorf("no study named %q (sweep status lists them)", opts.Study)
	}
	if err != nil {
		return err
	}
	if opts.Out == "" {
		_, err = e.Out.Write(buf.Bytes())
		return err
	}
	tmp := opts.Out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := os.Rename(tmp, opts.Out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write journal: %w", err)
	}
	fmt.Fprintf(e.Err, "study %s written to %s (Optuna journal)\n", safetext.Terminal(opts.Study), opts.Out)
	return nil
}

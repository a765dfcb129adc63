package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"

	"sweep/reports"
)

// reportOptions are the flags and arguments of `sweep report`.
type reportOptions struct {
	env     *env
	Studies []string // one study, or two to compare
	DB      string
	PGDir   string
	Format  string
	Out     string
	GroupBy []string
	Show    []string
	Reach   *float64
	Bins    int
	Top     int
	Pareto  bool      // the multi-objective report instead
	Weights []float64 // trade-off weights, one per metric (with Pareto)
}

func newReportCmd(e *env, runF func(context.Context, *reportOptions) error) *cobra.Command {
	opts := &reportOptions{env: e}
	var reach float64
	cmd := &cobra.Command{
		Use:   "report STUDY [STUDY2]",
		Short: "Summarise a study: leaderboard, comparison tables, importance, plots",
		Long: `Report on a study: trials by state and compute saved by pruning, the top
trials, one comparison table per parameter (or one for --group-by) with best
and mean final value and the median epochs to reach --reach, parameter
importance, and the best configuration as YAML for sweep train.

With two studies, show them side by side: summaries and the best value each
had after the same number of finished trials.

With --pareto, report a multi-objective study instead: its Pareto front (the
COMPLETE feasible trials no other trial beats on every metric), the
hypervolume after each trial, and the trade-off trial --weights picks (one
weight per metric; each metric is scaled to [0, 1] over the front). The HTML
format draws the front as scatter plots, one per pair of metrics.

Every number comes from the report_* SQL views (see docs/reports.md).`,
		Example: `  sweep report demo
  sweep report demo --group-by optimizer,scheduler --reach 0.9
  sweep report demo --format html --out demo.html
  sweep report demo --format yaml > best.yaml && sweep train best.yaml
  sweep report demo-random demo-tpe --format markdown
  sweep report demo-mo --pareto --weights 1,0.2`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeStudies(e, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Studies = args
			if cmd.Flags().Changed("reach") {
				opts.Reach = &reach
			}
			if !slices.Contains(reports.Formats, opts.Format) {
				return usageErrorf("--format %q: want one of %s", opts.Format, strings.Join(reports.Formats, ", "))
			}
			if opts.Bins < 1 {
				return usageErrorf("--bins %d: want at least 1", opts.Bins)
			}
			if opts.Top < 1 {
				return usageErrorf("--top %d: want at least 1", opts.Top)
			}
			if len(args) == 2 && len(opts.GroupBy) > 0 {
				return usageErrorf("--group-by applies to one study, not a comparison of two")
			}
			if cmd.Flags().Changed("weights") && !opts.Pareto {
				return usageErrorf("--weights picks a trade-off trial of --pareto; add --pareto")
			}
			if opts.Pareto && (len(args) == 2 || len(opts.GroupBy) > 0 || len(opts.Show) > 0 || opts.Format == "yaml") {
				return usageErrorf("--pareto reports one study as table, markdown, csv, json or html, without --group-by or --show")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runReport(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addDBFlags(f, &opts.DB, &opts.PGDir)
	f.StringVar(&opts.Format, "format", "table", "output format: "+strings.Join(reports.Formats, ", "))
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(reports.Formats, cobra.ShellCompDirectiveNoFileComp))
	f.StringVarP(&opts.Out, "out", "o", "", "write the report to `FILE` instead of standard output")
	f.StringSliceVar(&opts.GroupBy, "group-by", nil, "one comparison table over these params, e.g. optimizer,scheduler")
	f.StringSliceVar(&opts.Show, "show", nil, "add each comparison row's best trial and its values of these params, e.g. lr (the article's optimizer, LR, accuracy table)")
	f.Float64Var(&reach, "reach", 0, "convergence target: epochs to reach this metric value (default: median final value)")
	f.IntVar(&opts.Bins, "bins", 4, "quantile bins for numeric params in comparison tables")
	f.IntVar(&opts.Top, "top", 10, "leaderboard rows")
	f.BoolVar(&opts.Pareto, "pareto", false, "multi-objective report: Pareto front, hypervolume over trials, trade-off trial")
	f.Float64SliceVar(&opts.Weights, "weights", nil, "with --pareto: one weight per metric for the trade-off trial, e.g. 1,0.2 (default: equal)")
	return cmd
}

// runReport loads, builds and renders the report, writing --out only once
// the whole report rendered, so a failure never leaves half a file.
func runReport(ctx context.Context, opts *reportOptions) error {
	store, err := openExistingStore(ctx, opts.env, opts.DB, opts.PGDir)
	if err != nil {
		return err
	}
	defer store.Close()
	if opts.Pareto {
		return runParetoReport(ctx, opts, store.DB())
	}
	ropts := reports.Options{GroupBy: opts.GroupBy, Show: opts.Show, Reach: opts.Reach, Bins: opts.Bins, Top: opts.Top}
	var built []*reports.Report
	for _, name := range opts.Studies {
		d, err := reports.Load(ctx, store.DB(), name)
		if err != nil {
			return err
		}
		r, err := reports.Build(d, ropts)
		if err != nil {
			return err
		}
		built = append(built, r)
	}
	var buf bytes.Buffer
	if len(built) == 2 {
		err = reports.RenderComparison(&buf, reports.Compare(built[0], built[1]), opts.Format)
	} else {
		err = reports.Render(&buf, built[0], opts.Format)
	}
	if err != nil {
		return err
	}
	return writeReport(opts, buf.Bytes())
}

// runParetoReport is `sweep report --pareto`.
func runParetoReport(ctx context.Context, opts *reportOptions, db *sqlx.DB) error {
	study, rows, err := reports.LoadObjectives(ctx, db, opts.Studies[0])
	if err != nil {
		return err
	}
	p, err := reports.BuildPareto(study, rows, opts.Weights)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reports.RenderPareto(&buf, p, opts.Format); err != nil {
		return err
	}
	return writeReport(opts, buf.Bytes())
}

// writeReport writes a rendered report to --out or standard output.
func writeReport(opts *reportOptions, out []byte) error {
	if opts.Out == "" {
		_, err := opts.env.Out.Write(out)
		return err
	}
	if err := os.WriteFile(opts.Out, out, 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(opts.env.Err, "report written to %s\n", opts.Out)
	return nil
}

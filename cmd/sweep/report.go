package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

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

Every number comes from the report_* SQL views (see docs/reports.md).`,
		Example: `  sweep report demo
  sweep report demo --group-by optimizer,scheduler --reach 0.9
  sweep report demo --format html --out demo.html
  sweep report demo --format yaml > best.yaml && sweep train best.yaml
  sweep report demo-random demo-tpe --format markdown`,
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
	if opts.Out == "" {
		_, err = opts.env.Out.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(opts.Out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(opts.env.Err, "report written to %s\n", opts.Out)
	return nil
}

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"sweep/internal/safetext"
	"sweep/search"
)

// trialsOptions are the flags and arguments of `sweep trials`.
type trialsOptions struct {
	env    *env
	Study  string
	DB     string
	PGDir  string
	State  string // "" = all
	Format string // table, csv, json, jsonl
}

// trialFormats are the formats of sweep trials: table is for people (a
// bordered table on a terminal, TSV when piped); csv, json and jsonl are
// flat exports for pandas and spreadsheets (flat.go).
var trialFormats = []string{"table", "csv", "json", "jsonl"}

var trialStates = []string{"WAITING", "RUNNING", "COMPLETE", "PRUNED", "FAIL"}

func newTrialsCmd(e *env, runF func(context.Context, *trialsOptions) error) *cobra.Command {
	opts := &trialsOptions{env: e}
	cmd := &cobra.Command{
		Use:   "trials STUDY",
		Short: "List a study's trials: state, value, steps, duration, params",
		Long: `List a study's trials in number order from the trial_summary view. On a
terminal the list is a table; otherwise it is tab-separated with a header
line, for scripts.

--format csv|json|jsonl writes one row per trial with one column per param
(params_NAME, empty or null where a conditional param was not drawn), value,
state, steps, duration, datetimes (UTC, RFC 3339) and user attrs
(user_attrs_KEY): the column names of Optuna's trials_dataframe. JSON keeps
each param's type as the spec writes it (a categorical 64 is a number).`,
		Example: `  sweep trials demo-synthetic
  sweep trials demo-synthetic --state FAIL
  sweep trials demo-synthetic --format csv > trials.csv    # pandas.read_csv("trials.csv")`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeStudies(e, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Study = args[0]
			opts.State = strings.ToUpper(opts.State)
			if opts.State != "" && !slices.Contains(trialStates, opts.State) {
				return usageErrorf("--state %q: want one of %s", opts.State, strings.Join(trialStates, ", "))
			}
			if !slices.Contains(trialFormats, opts.Format) {
				return usageErrorf("--format %q: want one of %s", opts.Format, strings.Join(trialFormats, ", "))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runTrials(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addDBFlags(f, &opts.DB, &opts.PGDir)
	f.StringVar(&opts.State, "state", "", "only trials in this state: "+strings.Join(trialStates, ", "))
	f.StringVar(&opts.Format, "format", "table", "output format: "+strings.Join(trialFormats, ", "))
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(trialFormats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions(trialStates, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// runTrials prints the study's trials.
func runTrials(ctx context.Context, opts *trialsOptions) error {
	e := opts.env
	store, err := openExistingStore(ctx, e, opts.DB, opts.PGDir)
	if err != nil {
		return err
	}
	defer store.Close()
	_, spec, err := loadStudy(ctx, store, opts.Study)
	if err != nil {
		return err
	}
	if opts.Format != "table" {
		ft, err := loadFlat(ctx, store, opts.Study, opts.State, spec.Params)
		if err != nil {
			return err
		}
		return writeFlat(e.Out, ft, opts.Format)
	}
	rows, err := store.DB().QueryContext(ctx, `SELECT number, state, value, steps, duration_s, params, COALESCE(reason, '')
FROM trial_summary WHERE study = $1 AND ($2 = '' OR state = $2) ORDER BY number`, opts.Study, opts.State)
	if err != nil {
		return fmt.Errorf("query trial_summary: %w", err)
	}
	defer rows.Close()
	var table [][]string
	for rows.Next() {
		var (
			number, steps  int
			state, reason  string
			value, seconds sql.NullFloat64
			params         []byte
		)
		if err := rows.Scan(&number, &state, &value, &steps, &seconds, &params, &reason); err != nil {
			return fmt.Errorf("scan trial_summary: %w", err)
		}
		var p map[string]any
		if err := json.Unmarshal(params, &p); err != nil {
			return fmt.Errorf("decode params of trial %d: %w", number, err)
		}
		table = append(table, []string{strconv.Itoa(number), state, formatValue(value), strconv.Itoa(steps),
			formatSeconds(seconds), formatStored(spec.Params, p), firstLine(reason)})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(table) == 0 {
		fmt.Fprintf(e.Err, "study %s has no trials%s yet\n", safetext.Terminal(opts.Study), map[bool]string{true: " in state " + opts.State}[opts.State != ""])
		return nil
	}
	return printTable(e.Out, e.IsTTY, []string{"#", "STATE", strings.ToUpper(spec.Metric), "STEPS", "TIME", "PARAMS", "REASON"}, table)
}

func formatValue(v sql.NullFloat64) string {
	if !v.Valid || math.IsNaN(v.Float64) {
		return "-"
	}
	return strconv.FormatFloat(v.Float64, 'f', 4, 64)
}

func formatSeconds(v sql.NullFloat64) string {
	if !v.Valid {
		return "-"
	}
	return strconv.FormatFloat(v.Float64, 'f', 1, 64) + "s"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// formatStored renders stored params as name=value in spec order (params
// no longer in the spec last, by name); floats to 4 significant digits.
func formatStored(space []search.Param, params map[string]any) string {
	var order []string
	var walk func([]search.Param)
	walk = func(ps []search.Param) {
		for _, p := range ps {
			order = append(order, p.Name)
			for _, c := range p.Choices {
				walk(p.Conditional[search.ChoiceString(c)])
			}
		}
	}
	walk(space)
	var rest []string
	for k := range params {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	var parts []string
	for _, k := range append(order, rest...) {
		v, ok := params[k]
		if !ok {
			continue
		}
		if f, isFloat := v.(float64); isFloat {
			parts = append(parts, fmt.Sprintf("%s=%s", k, strconv.FormatFloat(f, 'g', 4, 64)))
		} else {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}

// cleanCells returns cells made safe for a terminal (safetext.Terminal).
func cleanCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = safetext.Terminal(c)
	}
	return out
}

func cleanRows(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = cleanCells(r)
	}
	return out
}

// renderTable draws a bordered table for a terminal.
func renderTable(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off))
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	return t.Render()
}

// shellQuote quotes s for a command line shown to the user.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

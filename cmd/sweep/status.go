package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/spf13/cobra"

	"sweep/internal/safetext"
	"sweep/sweep"
	"sweep/sweep/postgres"
)

// statusOptions are the flags and arguments of `sweep status`.
type statusOptions struct {
	env    *env
	Study  string // "" = all studies
	DB     string
	PGDir  string
	Format string // table or json
}

func newStatusCmd(e *env, runF func(context.Context, *statusOptions) error) *cobra.Command {
	opts := &statusOptions{env: e}
	cmd := &cobra.Command{
		Use:   "status [STUDY]",
		Short: "List studies with trial counts by state, or show one study",
		Long: `Without a study, list every study with its trials by state and best value.
With one, show its details and the trials running now. Trials whose heartbeat
went silent for longer than the spec's heartbeat.grace are marked FAIL
(reason "stale") first, so the counts are current.`,
		Example: `  sweep status
  sweep status demo-synthetic
  sweep status --format json          # an array of studies; with STUDY, one object`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeStudies(e, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Study = args[0]
			}
			if opts.Format != "table" && opts.Format != "json" {
				return usageErrorf("--format %q: want table or json", opts.Format)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addDBFlags(f, &opts.DB, &opts.PGDir)
	f.StringVar(&opts.Format, "format", "table", "output format: table or json")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// overview is one row of the study_overview view.
type overview struct {
	Study, Direction, Metric, Status         string
	Budget, Trials, Complete, Pruned, Failed int
	Running, Waiting, Retries                int
	Best                                     sql.NullFloat64
	Created                                  time.Time
	Finished, LastActivity                   sql.NullTime
	ID                                       int
	Note, StopReason                         string
	Tags                                     []string
}

const overviewQuery = `SELECT study, direction, metric, status, budget, trials, complete, pruned, failed,
       running, waiting, retries, best_value, created, finished, last_activity, study_id, note, tags, stop_reason
FROM study_overview`

// loadOverview reads study_overview, all studies or one.
func loadOverview(ctx context.Context, store *postgres.Storage, study string) ([]overview, error) {
	q, args := overviewQuery+" ORDER BY created, study", []any{}
	if study != "" {
		q, args = overviewQuery+" WHERE study = $1", []any{study}
	}
	rows, err := store.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query study_overview: %w", err)
	}
	defer rows.Close()
	var out []overview
	for rows.Next() {
		var o overview
		if err := rows.Scan(&o.Study, &o.Direction, &o.Metric, &o.Status, &o.Budget, &o.Trials, &o.Complete, &o.Pruned,
			&o.Failed, &o.Running, &o.Waiting, &o.Retries, &o.Best, &o.Created, &o.Finished, &o.LastActivity,
			&o.ID, &o.Note, pq.Array(&o.Tags), &o.StopReason); err != nil {
			return nil, fmt.Errorf("scan study_overview: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// runStatus reaps stale trials, then prints the overview.
func runStatus(ctx context.Context, opts *statusOptions) error {
	e := opts.env
	store, err := openExistingStore(ctx, e, opts.DB, opts.PGDir)
	if err != nil {
		return err
	}
	defer store.Close()
	if opts.Study != "" {
		if err := reap(ctx, e, store, opts.Study); err != nil {
			return err
		}
	}
	rows, err := loadOverview(ctx, store, opts.Study)
	if err != nil {
		return err
	}
	if opts.Study == "" {
		for _, r := range rows {
			// One unreadable study must not hide the others.
			if err := reap(ctx, e, store, r.Study); err != nil {
				fmt.Fprintf(e.Err, "study %s: %v\n", safetext.Terminal(r.Study), err)
			}
		}
		if rows, err = loadOverview(ctx, store, ""); err != nil {
			return err
		}
		if opts.Format == "json" {
			return writeOverviewJSON(ctx, e.Out, store, rows, false)
		}
		if len(rows) == 0 {
			fmt.Fprintln(e.Err, "no studies yet (sweep start STUDY.yaml creates one)")
			return nil
		}
		return printTable(e.Out, e.IsTTY, []string{"STUDY", "STATUS", "TRIALS", "COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING", "BEST"}, overviewRows(rows))
	}
	if len(rows) == 0 {
		return fmt.Errorf("no study named %q (sweep status lists them)", opts.Study)
	}
	if opts.Format == "json" {
		return writeOverviewJSON(ctx, e.Out, store, rows, true)
	}
	return printStudy(ctx, e, store, rows[0])
}

// overviewJSON is one study of sweep status --format json, with the
// study_overview view's column names.
type overviewJSON struct {
	Study        string     `json:"study"`
	Direction    string     `json:"direction"`
	Metric       string     `json:"metric"`
	Status       string     `json:"status"`
	Budget       int        `json:"budget"`
	Trials       int        `json:"trials"`
	Complete     int        `json:"complete"`
	Pruned       int        `json:"pruned"`
	Failed       int        `json:"failed"`
	Running      int        `json:"running"`
	Waiting      int        `json:"waiting"`
	Retries      int        `json:"retries"`
	BestValue    *float64   `json:"best_value"`
	BestTrial    *int       `json:"best_trial"`
	Created      time.Time  `json:"created"`
	Finished     *time.Time `json:"finished"`
	LastActivity *time.Time `json:"last_activity"`
	Note         string     `json:"note"`
	Tags         []string   `json:"tags"`
	StopReason   string     `json:"stop_reason"`
}

// writeOverviewJSON writes the studies as a JSON array, or one object when
// one study was asked for.
func writeOverviewJSON(ctx context.Context, w io.Writer, store *postgres.Storage, rows []overview, one bool) error {
	out := make([]overviewJSON, len(rows))
	for i, r := range rows {
		o := overviewJSON{Study: r.Study, Direction: r.Direction, Metric: r.Metric, Status: r.Status, Budget: r.Budget,
			Trials: r.Trials, Complete: r.Complete, Pruned: r.Pruned, Failed: r.Failed, Running: r.Running,
			Waiting: r.Waiting, Retries: r.Retries, Created: r.Created.UTC(), Note: r.Note, Tags: r.Tags, StopReason: r.StopReason}
		if o.Tags == nil {
			o.Tags = []string{}
		}
		if r.Best.Valid && !math.IsInf(r.Best.Float64, 0) {
			o.BestValue = &r.Best.Float64
		}
		var n int
		if store.DB().QueryRowContext(ctx, `SELECT number FROM study_leaderboard WHERE study = $1 AND rank = 1
ORDER BY number LIMIT 1`, r.Study).Scan(&n) == nil {
			o.BestTrial = &n
		}
		for _, t := range []struct {
			from sql.NullTime
			to   **time.Time
		}{{r.Finished, &o.Finished}, {r.LastActivity, &o.LastActivity}} {
			if t.from.Valid {
				u := t.from.Time.UTC()
				*t.to = &u
			}
		}
		out[i] = o
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if one {
		return enc.Encode(out[0])
	}
	return enc.Encode(out)
}

// reap marks the study's silent RUNNING trials FAIL "stale" and queues
// their retries per the spec's retry policy.
func reap(ctx context.Context, e *env, store *postgres.Storage, study string) error {
	info, spec, err := loadStudy(ctx, store, study)
	if err != nil {
		return err
	}
	r, err := sweep.Reap(ctx, store, info.ID, spec.Heartbeat.Grace, spec.Retry)
	if len(r.Stale) > 0 {
		fmt.Fprintf(e.Err, "study %s: marked %d silent trial(s) FAIL (stale); %d retry(ies) queued\n", safetext.Terminal(study), len(r.Stale), len(r.Retried))
	}
	return err
}

func overviewRows(rows []overview) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		status := r.Status
		if r.StopReason != "" {
			status = "stopped" // by a stop condition; sweep status STUDY says which
		}
		out[i] = []string{r.Study, status, fmt.Sprintf("%d/%d", r.Trials, r.Budget), strconv.Itoa(r.Complete),
			strconv.Itoa(r.Pruned), strconv.Itoa(r.Failed), strconv.Itoa(r.Running), strconv.Itoa(r.Waiting), formatBest(r.Best)}
	}
	return out
}

func formatBest(v sql.NullFloat64) string {
	if !v.Valid {
		return "-"
	}
	return strconv.FormatFloat(v.Float64, 'f', 4, 64)
}

// printStudy shows one study's details and its running trials.
func printStudy(ctx context.Context, e *env, store *postgres.Storage, r overview) error {
	w := e.Out
	fmt.Fprintf(w, "study\t%s\n", safetext.Terminal(r.Study))
	fmt.Fprintf(w, "objective\t%s %s\n", r.Direction, safetext.Terminal(r.Metric))
	fmt.Fprintf(w, "status\t%s\n", r.Status)
	if r.StopReason != "" {
		fmt.Fprintf(w, "stopped\t%s\n", safetext.Terminal(r.StopReason))
	}
	if len(r.Tags) > 0 {
		fmt.Fprintf(w, "tags\t%s\n", safetext.Terminal(strings.Join(r.Tags, ", ")))
	}
	if r.Note != "" {
		// One output line per line of the note, each made safe.
		label := "note"
		for _, line := range strings.Split(r.Note, "\n") {
			fmt.Fprintf(w, "%s\t%s\n", label, safetext.Terminal(line))
			label = ""
		}
	}
	fmt.Fprintf(w, "trials\t%d of %d: %d complete, %d pruned, %d failed, %d running, %d waiting (%d retries)\n",
		r.Trials, r.Budget, r.Complete, r.Pruned, r.Failed, r.Running, r.Waiting, r.Retries)
	fmt.Fprintf(w, "best\t%s%s\n", formatBest(r.Best), safetext.Terminal(bestTrial(ctx, store, r.Study)))
	fmt.Fprintf(w, "created\t%s\n", r.Created.UTC().Format(time.RFC3339))
	if r.LastActivity.Valid {
		fmt.Fprintf(w, "last activity\t%s ago\n", e.Now().Sub(r.LastActivity.Time).Round(time.Second))
	}
	if r.Running == 0 {
		return nil
	}
	rows, err := store.DB().QueryContext(ctx, `SELECT number, COALESCE(worker, ''), COALESCE(last_step, 0), heartbeat
FROM trial_summary WHERE study = $1 AND state = 'RUNNING' ORDER BY number`, r.Study)
	if err != nil {
		return fmt.Errorf("query running trials: %w", err)
	}
	defer rows.Close()
	var table [][]string
	for rows.Next() {
		var n, step int
		var worker string
		var hb sql.NullTime
		if err := rows.Scan(&n, &worker, &step, &hb); err != nil {
			return fmt.Errorf("scan running trials: %w", err)
		}
		age := "-"
		if hb.Valid {
			age = e.Now().Sub(hb.Time).Round(time.Second).String()
		}
		table = append(table, []string{strconv.Itoa(n), worker, strconv.Itoa(step), age})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return printTable(w, e.IsTTY, []string{"RUNNING", "WORKER", "STEP", "HEARTBEAT AGE"}, table)
}

// bestTrial describes the study's best trial (" (trial 4: lr=0.03 ...)"),
// or "" when there is none or it cannot be read.
func bestTrial(ctx context.Context, store *postgres.Storage, study string) string {
	var number int
	var params []byte
	if err := store.DB().QueryRowContext(ctx, `SELECT number, params FROM study_leaderboard
WHERE study = $1 AND rank = 1 ORDER BY number LIMIT 1`, study).Scan(&number, &params); err != nil {
		return ""
	}
	var p map[string]any
	if json.Unmarshal(params, &p) != nil {
		return ""
	}
	_, spec, err := loadStudy(ctx, store, study)
	if err != nil {
		return fmt.Sprintf(" (trial %d)", number)
	}
	return fmt.Sprintf(" (trial %d: %s)", number, formatStored(spec.Params, p))
}

// printTable writes a bordered table on a terminal and tab-separated
// values (header first) elsewhere, for scripts.
// printTable prints a bordered table on a terminal, else tab-separated
// values. Cells hold untrusted text (names, workers, reasons): escape
// sequences and control characters are stripped, and tabs and line breaks
// become spaces so each row stays one TSV line.
func printTable(w io.Writer, tty bool, header []string, rows [][]string) error {
	header, rows = cleanCells(header), cleanRows(rows)
	if !tty {
		fmt.Fprintln(w, strings.Join(header, "\t"))
		for _, r := range rows {
			fmt.Fprintln(w, strings.Join(r, "\t"))
		}
		return nil
	}
	return renderTable(w, header, rows)
}

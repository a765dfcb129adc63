package main

// Shell completion. `sweep completion bash|zsh|fish|powershell` is cobra's
// own command (added by cobra when the root runs); the shells then call
// the hidden `sweep __complete ARGS...`, which asks the functions here.
// Commands register them next to their flags: completeStudies for study
// arguments, completeParams for enqueue's --param, and cobra's
// FixedCompletions for flags with a fixed set of values (--format,
// --state).
//
// Completion is best effort and silent: it reads the database only when
// one is named (--db, $SWEEP_DB) or the private cluster already runs,
// never starts or creates a cluster, gives up after two seconds, and on
// any problem offers nothing rather than printing an error into the
// user's command line.

import (
	"context"
	"database/sql"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sweep/search"
	"sweep/sweep/pgcluster"
)

// completionTimeout bounds the database work of one completion request: a
// shell waiting on Tab must not hang on an unreachable server.
const completionTimeout = 2 * time.Second

// completeStudies completes study names from the database for the first
// max positional arguments (-1: all of them), leaving out names already
// given.
func completeStudies(e *env, max int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if max >= 0 && len(args) >= max {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names := queryCompletions(cmd, e, `SELECT name FROM studies WHERE left(name, length($1)) = $1 ORDER BY name LIMIT 1000`, toComplete)
		names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(args, n) })
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeParams completes `--param NAME=VALUE` from the search space of
// the study given as the first argument: NAME= for every param, then the
// choices of a categorical one.
func completeParams(e *env) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		specs := queryCompletions(cmd, e, `SELECT spec FROM studies WHERE name = $1`, args[0])
		if len(specs) != 1 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		spec, err := search.ParseSpec("stored spec", []byte(specs[0]))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		if name, prefix, ok := strings.Cut(toComplete, "="); ok {
			p, found := search.Lookup(spec.Params, name)
			if !found {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			for _, c := range p.Choices {
				if s := search.ChoiceString(c); strings.HasPrefix(s, prefix) {
					out = append(out, name+"="+s)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		var walk func([]search.Param)
		walk = func(ps []search.Param) {
			for _, p := range ps {
				if strings.HasPrefix(p.Name, toComplete) {
					out = append(out, p.Name+"=")
				}
				for _, c := range p.Choices {
					walk(p.Conditional[search.ChoiceString(c)])
				}
			}
		}
		walk(spec.Params)
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// queryCompletions runs a one-column text query with one argument on the
// database completion may use, returning nil on any problem.
func queryCompletions(cmd *cobra.Command, e *env, query, arg string) []string {
	dsn := completionDSN(cmd, e)
	if dsn == "" {
		return nil
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	// Not postgres.Open: that migrates the schema, a write that a key
	// press must not cause.
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, query, arg)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if rows.Scan(&s) != nil {
			return nil
		}
		out = append(out, s)
	}
	if rows.Err() != nil {
		return nil
	}
	return out
}

// completionDSN is the database a completion may read: --db, else
// $SWEEP_DB, else the private cluster if it is running now; "" when there
// is none. Nothing is started, created or printed.
func completionDSN(cmd *cobra.Command, e *env) string {
	flag := func(name string) string {
		if f := cmd.Flags().Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	quiet := *e
	quiet.Err = io.Discard // no warnings about passwords into the command line
	for _, v := range []string{flag("db"), strings.TrimSpace(e.Getenv("SWEEP_DB"))} {
		if v != "" {
			dsn, err := dsnValue(&quiet, "database", v)
			if err != nil {
				return ""
			}
			return dsn
		}
	}
	c, err := pgcluster.New(flag("pg-dir"))
	if err != nil {
		return ""
	}
	st, err := c.Status(context.Background())
	if err != nil || !st.Running {
		return ""
	}
	return st.URL
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"sweep/sweep/pgcluster"
	"sweep/sweep/postgres"
)

// dbOptions are the flags of `sweep db ...`.
type dbOptions struct {
	env     *env
	Action  string // up, down, status, url, psql
	DataDir string
	Args    []string // extra psql arguments
}

func newDBCmd(e *env, runF func(context.Context, *dbOptions) error) *cobra.Command {
	opts := &dbOptions{env: e}
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the private PostgreSQL cluster sweep runs when no --db is given",
		Long: `The private cluster lives in --data-dir (default: $XDG_DATA_HOME/sweep/postgres,
or /var/lib/sweep/postgres as root), listens on 127.0.0.1 and a unix socket,
and is used whenever neither --db nor $SWEEP_DB is set. sweep start brings it
up on demand.`,
	}
	for _, a := range []struct{ name, short string }{
		{"up", "Create (first time) and start the private cluster; print its URL"},
		{"down", "Stop the private cluster"},
		{"status", "Show whether the private cluster exists and runs"},
		{"url", "Print the private cluster's URL (a DSN for --db, SWEEP_DB or psql)"},
		{"psql", "Run psql on the private cluster (arguments after -- go to psql)"},
	} {
		sub := &cobra.Command{
			Use:   a.name,
			Short: a.short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				opts.Action = cmd.Name()
				if runF != nil {
					return runF(cmd.Context(), opts)
				}
				return runDB(cmd.Context(), opts)
			},
		}
		if a.name == "psql" {
			sub.Use = "psql [-- PSQL-ARGS...]"
			sub.Args = cobra.ArbitraryArgs
			sub.Example = `  sweep db psql -- -c 'SELECT * FROM study_leaderboard'`
			sub.RunE = func(cmd *cobra.Command, args []string) error {
				opts.Action, opts.Args = "psql", args
				if runF != nil {
					return runF(cmd.Context(), opts)
				}
				return runDB(cmd.Context(), opts)
			}
		}
		sub.Flags().StringVar(&opts.DataDir, "data-dir", "", "private cluster directory (default: the user's data dir)")
		cmd.AddCommand(sub)
	}
	return cmd
}

// runDB performs one db action.
func runDB(ctx context.Context, opts *dbOptions) error {
	e := opts.env
	switch opts.Action {
	case "up":
		url, err := pgcluster.Up(ctx, opts.DataDir)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.Out, url)
	case "down":
		if err := pgcluster.Down(ctx, opts.DataDir); err != nil {
			return err
		}
		fmt.Fprintln(e.Err, "private cluster stopped")
	case "status":
		st, err := pgcluster.Status(ctx, opts.DataDir)
		if err != nil {
			return err
		}
		state := "not created (sweep db up creates it)"
		switch {
		case st.Running:
			state = fmt.Sprintf("running (pid %d)", st.PID)
		case st.Initialized:
			state = "stopped"
		}
		fmt.Fprintf(e.Out, "dir\t%s\nstate\t%s\n", st.Dir, state)
		if st.Version != "" {
			fmt.Fprintf(e.Out, "version\t%s\n", st.Version)
		}
		if st.URL != "" {
			fmt.Fprintf(e.Out, "url\t%s\n", st.URL)
		}
	case "url":
		url, err := pgcluster.URL(opts.DataDir)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.Out, url)
	case "psql":
		return runPsql(ctx, opts)
	default:
		return fmt.Errorf("unknown db action %q", opts.Action)
	}
	return nil
}

// runPsql runs psql on the private cluster with the terminal attached.
func runPsql(ctx context.Context, opts *dbOptions) error {
	url, err := pgcluster.EnsureDSN(ctx, opts.DataDir)
	if err != nil {
		return err
	}
	bin, err := psqlPath()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{url}, opts.Args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.env.In, opts.env.Out, opts.env.Err
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("psql exited with status %d", exit.ExitCode())
		}
		return fmt.Errorf("run psql: %w", err)
	}
	return nil
}

// psqlPath finds psql on PATH, else beside the server binaries.
func psqlPath() (string, error) {
	if p, err := exec.LookPath("psql"); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", errors.New("psql not found; install it with: apt-get install postgresql-client")
}

// resolveDSN picks the database: --db, else $SWEEP_DB, else the private
// cluster in dataDir, started when it is not running.
func resolveDSN(ctx context.Context, e *env, flag, dataDir string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if v := strings.TrimSpace(e.Getenv("SWEEP_DB")); v != "" {
		return v, nil
	}
	dsn, err := pgcluster.EnsureDSN(ctx, dataDir)
	if err != nil {
		return "", fmt.Errorf("start private database (or pass --db / set SWEEP_DB): %w", err)
	}
	return dsn, nil
}

// openStore resolves the DSN and opens (and migrates) the database.
func openStore(ctx context.Context, e *env, flag, dataDir string) (*postgres.Storage, error) {
	dsn, err := resolveDSN(ctx, e, flag, dataDir)
	if err != nil {
		return nil, err
	}
	return postgres.Open(ctx, dsn)
}

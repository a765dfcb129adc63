package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
	"sweep/optuna"
	"sweep/sweep/pgcluster"
	"sweep/sweep/postgres"
)

// dbOptions are the flags of `sweep db ...`.
type dbOptions struct {
	env    *env
	Action string // up, down, status, url, psql
	PGDir  string
	Listen string   // up: TCP listen address, "off", or "" to keep the remembered one
	TCP    bool     // url: print the TCP URL for remote workers
	Pooler bool     // up: also start PgBouncer and print its URL
	Optuna bool     // url: print the URL of the read-only optuna views
	Args   []string // extra psql arguments
}

func newDBCmd(e *env, runF func(context.Context, *dbOptions) error) *cobra.Command {
	opts := &dbOptions{env: e}
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the private PostgreSQL cluster sweep runs when no --db is given",
		Long: `The private cluster lives in --pg-dir (default: $XDG_DATA_HOME/sweep/postgres,
or /var/lib/sweep/postgres as root) and is used whenever neither --db nor
$SWEEP_DB is set; sweep start brings it up on demand.

Only its owner may connect: over a unix socket in a directory no one else can
enter, with peer authentication. TCP, for workers on other hosts, is off until
sweep db up --listen ADDR; TCP clients then need the generated password, kept
in the pgpass file in the cluster directory (copy it to the worker and set
PGPASSFILE). URLs printed here never contain the password. See docs/security.md.`,
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
		addPGDirFlag(sub.Flags(), &opts.PGDir)
		refuseDataDir(sub.Flags())
		switch a.name {
		case "up":
			sub.Flags().StringVar(&opts.Listen, "listen", "", "also accept TCP connections on this address, "+
				"with a password (e.g. 0.0.0.0); \"off\" turns TCP off again (default: keep the current setting)")
			sub.Flags().BoolVar(&opts.Pooler, "pooler", false, "also start PgBouncer (transaction pooling) in front of the "+
				"cluster and print its URL, for hundreds of worker processes on this host (docs/scale.md)")
			sub.Example = `  sweep db up
  sweep db up --listen 0.0.0.0     # remote workers: see sweep db url --tcp
  sweep db up --pooler             # SWEEP_DB=<printed URL> for hundreds of local workers`
		case "url":
			sub.Flags().BoolVar(&opts.TCP, "tcp", false, "print the TCP URL for workers on other hosts (needs up --listen)")
			sub.Flags().BoolVar(&opts.Optuna, "optuna", false, "print the storage URL of the read-only Optuna views "+
				"(optuna.load_study, optuna-dashboard; docs/sql.md)")
			sub.Example = `  sweep db url
  sweep db url --optuna            # optuna-dashboard "$(sweep db url --optuna)"`
		}
		cmd.AddCommand(sub)
	}
	return cmd
}

// runDB performs one db action.
func runDB(ctx context.Context, opts *dbOptions) error {
	e := opts.env
	c, err := pgcluster.New(opts.PGDir)
	if err != nil {
		return err
	}
	c.Notify = e.Err
	switch opts.Action {
	case "up":
		c.Listen = opts.Listen
		up := c.Up
		if opts.Pooler {
			up = c.UpPooler
		}
		url, err := up(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.Out, url)
		if tcp, err := c.TCPURL(); err == nil {
			fmt.Fprintf(e.Err, "TCP on for workers on other hosts: --db '%s' with PGPASSFILE=(a copy of %s)\n", tcp, c.PassFile())
		}
	case "down":
		if st, _ := c.Status(ctx); !st.Initialized {
			fmt.Fprintf(e.Err, "no private cluster at %s; nothing to stop\n", c.Dir)
			return nil
		}
		if err := c.Down(ctx); err != nil {
			return err
		}
		fmt.Fprintln(e.Err, "private cluster stopped")
	case "status":
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		printDBStatus(e, st)
	case "url":
		if st, _ := c.Status(ctx); !st.Initialized {
			return noPrivateCluster(c.Dir)
		}
		url, err := c.URL()
		if opts.TCP {
			url, err = c.TCPURL()
		}
		if err != nil {
			return err
		}
		if opts.Optuna {
			if url, err = optunaURL(ctx, e, c, url); err != nil {
				return err
			}
		}
		fmt.Fprintln(e.Out, url)
	case "psql":
		return runPsql(ctx, c, opts)
	default:
		return fmt.Errorf("unknown db action %q", opts.Action)
	}
	return nil
}

// printDBStatus prints the cluster's state as key<TAB>value lines.
func printDBStatus(e *env, st pgcluster.State) {
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
	tcp := "off (sweep db up --listen ADDR turns it on)"
	if st.TCPURL != "" {
		tcp = fmt.Sprintf("%s (password in %s)", st.TCPURL, st.PassFile)
	}
	if st.Initialized {
		fmt.Fprintf(e.Out, "tcp\t%s\n", tcp)
	}
}

// runPsql runs psql on the private cluster with the terminal attached.
func runPsql(ctx context.Context, c *pgcluster.Cluster, opts *dbOptions) error {
	url, err := upExisting(ctx, c)
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

// optunaURL migrates the cluster's database (which creates the optuna
// views), records the typed distributions of studies made before them, and
// returns base as Optuna's storage URL.
func optunaURL(ctx context.Context, e *env, c *pgcluster.Cluster, base string) (string, error) {
	dsn, err := upExisting(ctx, c)
	if err != nil {
		return "", err
	}
	store, err := postgres.Open(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer store.Close()
	if err := optuna.CheckSchema(ctx, store.DB().DB); err != nil {
		return "", err
	}
	skipped, err := optuna.SyncAll(ctx, store.DB().DB)
	if err != nil {
		return "", err
	}
	for _, s := range skipped {
		fmt.Fprintf(e.Err, "study %s: stored spec does not parse; Optuna sees its categorical choices as strings\n",
			safetext.Terminal(s))
	}
	return optuna.URL(base)
}

// upExisting starts the private cluster when it is stopped but never
// creates one: db url and db psql only read.
func upExisting(ctx context.Context, c *pgcluster.Cluster) (string, error) {
	dsn, err := c.UpExisting(ctx)
	if errors.Is(err, pgcluster.ErrNoCluster) {
		return "", noPrivateCluster(c.Dir)
	}
	return dsn, err
}

// noPrivateCluster says that the private cluster directory holds no
// cluster, and how to make one or point at the right directory.
func noPrivateCluster(dir string) error {
	return fmt.Errorf("no private cluster at %s; create it with sweep db up (or by starting a study), "+
		"or pass --pg-dir where it lives", dir)
}

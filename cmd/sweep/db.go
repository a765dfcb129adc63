package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
	"sweep/optuna"
	"sweep/sweep/pgcluster"
	"sweep/sweep/postgres"
)

// dbOptions are the flags of `sweep db ...`.
type dbOptions struct {
	env     *env
	Action  string // up, down, status, url, psql
	DataDir string
	Listen  string   // up: TCP listen address, "off", or "" to keep the remembered one
	TCP     bool     // url: print the TCP URL for remote workers
	Optuna  bool     // url: print the URL of the read-only optuna views
	Args    []string // extra psql arguments
}

func newDBCmd(e *env, runF func(context.Context, *dbOptions) error) *cobra.Command {
	opts := &dbOptions{env: e}
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the private PostgreSQL cluster sweep runs when no --db is given",
		Long: `The private cluster lives in --data-dir (default: $XDG_DATA_HOME/sweep/postgres,
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
		sub.Flags().StringVar(&opts.DataDir, "data-dir", "", "private cluster directory (default: the user's data dir)")
		switch a.name {
		case "up":
			sub.Flags().StringVar(&opts.Listen, "listen", "", "also accept TCP connections on this address, "+
				"with a password (e.g. 0.0.0.0); \"off\" turns TCP off again (default: keep the current setting)")
			sub.Example = `  sweep db up
  sweep db up --listen 0.0.0.0     # remote workers: see sweep db url --tcp`
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
	c, err := pgcluster.New(opts.DataDir)
	if err != nil {
		return err
	}
	c.Notify = e.Err
	switch opts.Action {
	case "up":
		c.Listen = opts.Listen
		url, err := c.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.Out, url)
		if tcp, err := c.TCPURL(); err == nil {
			fmt.Fprintf(e.Err, "TCP on for workers on other hosts: --db '%s' with PGPASSFILE=(a copy of %s)\n", tcp, c.PassFile())
		}
	case "down":
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
	url, err := c.Up(ctx)
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
	dsn, err := c.Up(ctx)
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

// resolveDSN picks the database: --db, else $SWEEP_DB, else the private
// cluster in dataDir, started when it is not running. A value "@FILE"
// (flag or variable) reads the DSN from FILE, so that a password stays out
// of the process list, which every local user can read; a password given
// on the command line itself draws a warning.
func resolveDSN(ctx context.Context, e *env, flag, dataDir string) (string, error) {
	if flag != "" {
		if !strings.HasPrefix(flag, "@") && postgres.Password(flag) != "" {
			fmt.Fprintln(e.Err, "sweep: warning: --db carries a password, which every user of this machine can "+
				"read in the process list; use SWEEP_DB, --db @FILE or a pgpass file (PGPASSFILE) instead")
		}
		return dsnValue(e, "--db", flag)
	}
	if v := strings.TrimSpace(e.Getenv("SWEEP_DB")); v != "" {
		return dsnValue(e, "SWEEP_DB", v)
	}
	c, err := pgcluster.New(dataDir)
	if err != nil {
		return "", err
	}
	c.Notify = e.Err
	dsn, err := c.Up(ctx)
	if err != nil {
		return "", fmt.Errorf("start private database (or pass --db / set SWEEP_DB): %w", err)
	}
	return dsn, nil
}

// dsnValue returns v, or the first line of the file v names as "@FILE",
// warning when that line holds a password that other users can read.
func dsnValue(e *env, from, v string) (string, error) {
	name, ok := strings.CutPrefix(v, "@")
	if !ok {
		return v, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("read %s file: %w", from, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "", fmt.Errorf("read %s file %s: no DSN in it", from, name)
	}
	if fi, err := os.Stat(name); err == nil && fi.Mode().Perm()&0o077 != 0 && postgres.Password(line) != "" {
		fmt.Fprintf(e.Err, "sweep: warning: %s (mode %04o) holds a password that other users can read; chmod 600 it\n",
			name, fi.Mode().Perm())
	}
	return line, nil
}

// openStore resolves the DSN and opens (and migrates) the database.
func openStore(ctx context.Context, e *env, flag, dataDir string) (*postgres.Storage, error) {
	dsn, err := resolveDSN(ctx, e, flag, dataDir)
	if err != nil {
		return nil, err
	}
	return postgres.Open(ctx, dsn)
}

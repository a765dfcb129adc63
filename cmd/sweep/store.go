package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/lib/pq"
	"github.com/spf13/pflag"

	"sweep/sweep/pgcluster"
	"sweep/sweep/postgres"
)

// addDBFlags registers the flags that choose a study command's database:
// --db, --pg-dir (alias --db-dir) and the refusal of --data-dir. Every
// command that opens the study database calls it, so the flags read the
// same everywhere.
func addDBFlags(f *pflag.FlagSet, db, pgDir *string) {
	addDSNFlag(f, db)
	addPGDirFlag(f, pgDir)
	refuseDataDir(f)
}

// addDSNFlag registers --db.
func addDSNFlag(f *pflag.FlagSet, db *string) {
	f.StringVar(db, "db", "", "PostgreSQL DSN, or @FILE holding it (default: $SWEEP_DB, else the private cluster)")
}

// addPGDirFlag registers --pg-dir and its alias --db-dir, the private
// cluster's directory.
func addPGDirFlag(f *pflag.FlagSet, pgDir *string) {
	f.StringVar(pgDir, "pg-dir", "", "private PostgreSQL cluster directory, used without --db and $SWEEP_DB "+
		"(default: $XDG_DATA_HOME/sweep/postgres; alias --db-dir)")
	f.StringVar(pgDir, "db-dir", "", "alias of --pg-dir")
	_ = f.MarkHidden("db-dir")
}

// refuseDataDir turns --data-dir, which used to name the cluster directory
// of study commands, into a usage error naming --pg-dir: --data-dir is the
// dataset directory of train and data, and a typo in it used to create a
// new, empty cluster.
func refuseDataDir(f *pflag.FlagSet) {
	f.Var(movedFlag{}, "data-dir", "no longer names the cluster directory: use --pg-dir")
	_ = f.MarkHidden("data-dir")
}

// errDataDirMoved is what --data-dir on a study command says.
var errDataDirMoved = errors.New("--data-dir names a dataset directory; the PostgreSQL cluster directory is --pg-dir")

// movedType is movedFlag's pflag type name, which flagError looks for.
const movedType = "moved"

// movedFlag is a flag value that refuses every value with errDataDirMoved.
type movedFlag struct{}

func (movedFlag) String() string   { return "" }
func (movedFlag) Set(string) error { return errDataDirMoved }
func (movedFlag) Type() string     { return movedType }

// dbSource is a resolved database and where it came from, for messages.
type dbSource struct {
	DSN  string
	From string // "--db", "$SWEEP_DB" or "the private cluster at DIR"
}

// resolveDSN picks the database: --db, else $SWEEP_DB, else the private
// cluster in pgDir. With create (start, worker, import) the private
// cluster is made and started as needed; without it (the read-only
// commands) an existing cluster is started but a missing one is an error,
// so a mistyped directory never creates a new, empty cluster.
//
// A value "@FILE" (flag or variable) reads the DSN from FILE, so that a
// password stays out of the process list, which every local user can read;
// a password given on the command line itself draws a warning.
func resolveDSN(ctx context.Context, e *env, flag, pgDir string, create bool) (dbSource, error) {
	if flag != "" {
		if !strings.HasPrefix(flag, "@") && postgres.Password(flag) != "" {
			fmt.Fprintln(e.Err, "sweep: warning: --db carries a password, which every user of this machine can "+
				"read in the process list; use SWEEP_DB, --db @FILE or a pgpass file (PGPASSFILE) instead")
		}
		dsn, err := dsnValue(e, "--db", flag)
		return dbSource{DSN: dsn, From: "--db"}, err
	}
	if v := strings.TrimSpace(e.Getenv("SWEEP_DB")); v != "" {
		dsn, err := dsnValue(e, "SWEEP_DB", v)
		return dbSource{DSN: dsn, From: "$SWEEP_DB"}, err
	}
	c, err := pgcluster.New(pgDir)
	if err != nil {
		return dbSource{}, err
	}
	c.Notify = e.Err
	src := dbSource{From: "the private cluster at " + c.Dir}
	up := c.Up
	if !create {
		up = c.UpExisting
	}
	src.DSN, err = up(ctx)
	if errors.Is(err, pgcluster.ErrNoCluster) {
		return src, noClusterError(c.Dir)
	}
	if err != nil {
		return src, fmt.Errorf("start %s (or pass --db / set SWEEP_DB): %w", src.From, err)
	}
	return src, nil
}

// noClusterError says what a read-only command tried and what to do.
func noClusterError(dir string) error {
	return fmt.Errorf("no database: --db and $SWEEP_DB are not set and there is no private cluster at %s; "+
		"create one by starting a study (sweep start STUDY.yaml) or with sweep db up, "+
		"or pass --db, or --pg-dir where the cluster lives", dir)
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

// openStore resolves the DSN and opens (and migrates) the database,
// creating and starting the private cluster when it is the one chosen.
// Commands that only read (status, trials, report, export) use
// openExistingStore instead.
func openStore(ctx context.Context, e *env, flag, pgDir string) (*postgres.Storage, error) {
	return openDB(ctx, e, flag, pgDir, true, 0)
}

// openWorkerStore is openStore with a connection budget (--max-conns; 0
// means postgres.DefaultMaxOpenConns), for the commands that run trials.
func openWorkerStore(ctx context.Context, e *env, flag, pgDir string, maxConns int) (*postgres.Storage, error) {
	return openDB(ctx, e, flag, pgDir, true, maxConns)
}

// openExistingStore is openStore for read-only commands: it never creates
// a private cluster (see resolveDSN).
func openExistingStore(ctx context.Context, e *env, flag, pgDir string) (*postgres.Storage, error) {
	return openDB(ctx, e, flag, pgDir, false, 0)
}

func openDB(ctx context.Context, e *env, flag, pgDir string, create bool, maxConns int) (*postgres.Storage, error) {
	src, err := resolveDSN(ctx, e, flag, pgDir, create)
	if err != nil {
		return nil, err
	}
	store, err := postgres.OpenOptions(ctx, src.DSN, postgres.Options{MaxOpenConns: maxConns})
	if err != nil {
		return nil, connectError(ctx, src, err)
	}
	return store, nil
}

// connectError says which database sweep tried, as the redacted DSN and
// where it came from, and what to try next.
func connectError(ctx context.Context, src dbSource, err error) error {
	if ctx.Err() != nil {
		return err
	}
	var pe *pq.Error
	var ne net.Error
	hint := "sweep doctor checks the connection and the schema"
	switch {
	case errors.As(err, &pe) && pe.Code.Class() == "28":
		hint = "check the user and password (in a pgpass file named by PGPASSFILE, or in $SWEEP_DB)"
	case errors.As(err, &pe) && pe.Code.Class() == "3D":
		hint = "create the database (createdb NAME) or name an existing one in the DSN"
	case errors.As(err, &pe):
	case errors.As(err, &ne) || strings.Contains(err.Error(), "connect to database: "):
		hint = "is the server running and reachable? sweep doctor checks the connection"
	}
	return fmt.Errorf("open database from %s (%s): %w; %s", src.From, postgres.Redact(src.DSN, src.DSN), err, hint)
}

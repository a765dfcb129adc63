// Package pgcluster runs the private PostgreSQL cluster sweep uses when no
// database is given: initdb and the server from the system's PostgreSQL
// installation, one directory holding everything, a unix socket inside it and
// a free localhost TCP port that is remembered so the URL stays stable.
//
// It does not install PostgreSQL (the error says how), manage remote servers
// or apply sweep's schema (sweep/postgres does that on Open).
//
// Layout of a cluster directory:
//
//	pgdata/      the PostgreSQL data directory (initdb)
//	run/         the unix socket directory
//	port         the TCP port, chosen once
//	server.log   the server's log
//	.lock        serialises Up/Down across processes (flock)
//
// As root, the server cannot run as root (PostgreSQL refuses), so the
// cluster belongs to an unprivileged system user, "sweep", created with
// useradd when missing ("nobody" if that fails). Every parent directory of
// the cluster directory must be searchable by that user; /root is not, so
// root's default directory is /var/lib/sweep/postgres and a directory under
// a private parent is refused with a message naming it.
//
// The server listens on 127.0.0.1 only, with trust authentication, and has a
// superuser and a database both named "sweep". It is a single-user
// development cluster: anyone who can reach 127.0.0.1 on that machine can
// connect. Use --db with a managed server for shared machines. It runs with
// synchronous_commit off (see writeConf for why) and max_connections 200.
//
// Up starts a detached server (pg_ctl) that outlives the caller, for the
// CLI; Cluster.Start runs one attached to the calling process, for tests.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Names used inside the cluster directory and the server.
const (
	// Database is the database created for sweep.
	Database = "sweep"
	// Superuser is the PostgreSQL superuser initdb creates.
	Superuser = "sweep"
	// SystemUser is the OS user that owns the cluster when sweep runs as root.
	SystemUser = "sweep"

	pgdataDir  = "pgdata"
	socketDir  = "run"
	portFile   = "port"
	logFile    = "server.log"
	lockFile   = ".lock"
	confFile   = "sweep.conf"
	rootDefDir = "/var/lib/sweep/postgres"
)

// ErrNotInstalled means no PostgreSQL server binaries were found.
var ErrNotInstalled = errors.New("pgcluster: PostgreSQL server binaries not found")

// Cluster is a private cluster living in Dir. The zero value is not usable;
// make one with New. Methods are safe to call from several processes at once
// (they serialise on a lock file); a Cluster value itself is not meant for
// concurrent use by goroutines.
type Cluster struct {
	// Dir is the absolute cluster directory.
	Dir string
	// BinDir holds initdb, pg_ctl and postgres. Found on first use when empty.
	BinDir string
	// Settings are extra server settings written to pgdata/sweep.conf on
	// every start, e.g. fsync=off for throwaway test clusters.
	Settings map[string]string
	// NoSync skips initdb's fsync of the new data directory (tests).
	NoSync bool
}

// State describes a cluster directory.
type State struct {
	Dir         string
	Initialized bool   // pgdata exists
	Running     bool   // a live postmaster owns pgdata
	PID         int    // postmaster PID when running
	Port        int    // the remembered TCP port; 0 before the first Up
	URL         string // the DSN; empty before the first Up
	Version     string // PG_VERSION of the data directory
}

// New returns the cluster in dir; an empty dir means DefaultDataDir. It
// only resolves the path; nothing is created until Up.
func New(dir string) (*Cluster, error) {
	if dir == "" {
		d, err := DefaultDataDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve data dir: %w", err)
	}
	return &Cluster{Dir: abs}, nil
}

// DefaultDataDir is $XDG_DATA_HOME/sweep/postgres, else
// ~/.local/share/sweep/postgres; as root it is /var/lib/sweep/postgres,
// because the server runs as an unprivileged user who cannot enter /root.
func DefaultDataDir() (string, error) {
	if os.Geteuid() == 0 {
		return rootDefDir, nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "sweep", "postgres"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory: %w", err)
	}
	return filepath.Join(home, ".local", "share", "sweep", "postgres"), nil
}

// URL returns the cluster's DSN. It needs the port chosen by the first Up,
// and does not check that the server is running (see Status).
func (c *Cluster) URL() (string, error) {
	port, err := c.readPort()
	if err != nil {
		return "", err
	}
	if port == 0 {
		return "", fmt.Errorf("read cluster url: %s has not been started yet (run: sweep db up)", c.Dir)
	}
	return dsn(port, Database), nil
}

// SocketDir is the directory of the server's unix socket, for psql -h.
func (c *Cluster) SocketDir() string { return filepath.Join(c.Dir, socketDir) }

// LogPath is the server log.
func (c *Cluster) LogPath() string { return filepath.Join(c.Dir, logFile) }

func dsn(port int, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, port, db)
}

func (c *Cluster) pgdata() string { return filepath.Join(c.Dir, pgdataDir) }

// readPort returns the remembered port, 0 when none was chosen yet.
func (c *Cluster) readPort() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, portFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read port file: %w", err)
	}
	p, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || p <= 0 || p > 65535 {
		return 0, fmt.Errorf("read port file %s: bad port %q", filepath.Join(c.Dir, portFile), b)
	}
	return p, nil
}

func (c *Cluster) writePort(p int) error {
	if err := os.WriteFile(filepath.Join(c.Dir, portFile), []byte(strconv.Itoa(p)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write port file: %w", err)
	}
	return nil
}

// Up starts the cluster in dataDir ("" = DefaultDataDir), creating it first
// when needed, and returns its DSN. See Cluster.Up.
func Up(ctx context.Context, dataDir string) (string, error) {
	c, err := New(dataDir)
	if err != nil {
		return "", err
	}
	return c.Up(ctx)
}

// Down stops the cluster in dataDir; see Cluster.Down.
func Down(ctx context.Context, dataDir string) error {
	c, err := New(dataDir)
	if err != nil {
		return err
	}
	return c.Down(ctx)
}

// Status reports on the cluster in dataDir; see Cluster.Status.
func Status(ctx context.Context, dataDir string) (State, error) {
	c, err := New(dataDir)
	if err != nil {
		return State{}, err
	}
	return c.Status(ctx)
}

// URL returns the DSN of the cluster in dataDir; see Cluster.URL.
func URL(dataDir string) (string, error) {
	c, err := New(dataDir)
	if err != nil {
		return "", err
	}
	return c.URL()
}

// EnsureDSN returns the DSN of the private cluster in dataDir ("" =
// DefaultDataDir), starting it (and creating it) when it is not running.
// This is what `sweep start` calls when neither --db nor SWEEP_DB is set.
func EnsureDSN(ctx context.Context, dataDir string) (string, error) {
	return Up(ctx, dataDir)
}

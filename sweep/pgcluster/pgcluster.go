// Package pgcluster runs the private PostgreSQL cluster sweep uses when no
// database is given: initdb and the server from the system's PostgreSQL
// installation, one directory holding everything, a unix socket inside it and
// a port that is remembered so the URL stays stable.
//
// It does not install PostgreSQL (the error says how), manage remote servers
// or apply sweep's schema (sweep/postgres does that on Open).
//
// Layout of a cluster directory (mode 0700, owned by the server's account):
//
//	pgdata/      the PostgreSQL data directory (initdb)
//	run/         the unix socket directory (mode 0700)
//	port         the port, chosen once (also names the socket)
//	listen       the TCP listen address, when TCP is on
//	pgpass       the TCP password, in pgpass format (mode 0600)
//	server.log   the server's log
//	.lock        serialises Up/Down across processes (flock)
//
// # Who may connect
//
// Only the cluster's owner. Local clients use the unix socket, in a
// directory no other user can enter, with peer authentication: the kernel
// tells the server the client's account, and pg_ident.conf maps only the
// owner's account to the "sweep" role. TCP is off unless Listen turns it on
// (sweep db up --listen ADDR, for workers on other hosts); TCP clients then
// need scram-sha-256 with a generated password that is kept in the pgpass
// file and never printed. A cluster made by an older sweep with trust
// authentication is migrated on its next start, and Notify is told once.
// A cluster directory that belongs to another account, or that others can
// write, is refused: whoever controls it controls the server.
//
// As root, the server cannot run as root (PostgreSQL refuses), so the
// cluster belongs to an unprivileged system user, "sweep", created with
// useradd when missing. Its owner is then both root and that user: root
// may enter the socket directory anyway, and is mapped to the role, so
// root-run commands (make demo, CI) keep working over the socket. Every
// parent directory of the cluster directory must be searchable by that user;
// /root is not, so root's default directory is /var/lib/sweep/postgres and a
// directory under a private parent is refused with a message naming it.
//
// The server has a superuser and a database both named "sweep", runs with
// synchronous_commit off (see writeConf for why) and max_connections 200.
//
// Up starts a detached server (pg_ctl) that outlives the caller, for the
// CLI, creating the cluster on first use; UpExisting, for commands that only
// read, never creates one. Cluster.Start runs a server attached to the
// calling process, for tests.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
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
	listenFile = "listen"
	passFile   = "pgpass"
	logFile    = "server.log"
	lockFile   = ".lock"
	confFile   = "sweep.conf"
	rootDefDir = "/var/lib/sweep/postgres"
)

// Sentinel errors of pgcluster.
var (
	// ErrNotInstalled means no PostgreSQL server binaries were found.
	ErrNotInstalled = errors.New("pgcluster: PostgreSQL server binaries not found")
	// ErrNoCluster means a directory holds no initialised cluster, which
	// UpExisting does not create.
	ErrNoCluster = errors.New("pgcluster: no cluster")
)

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
	// Listen, when set, replaces the remembered TCP listen address on the
	// next start: an address list for PostgreSQL's listen_addresses
	// ("0.0.0.0", "10.0.0.5", "*"), or ListenOff. Empty keeps the
	// remembered one, so `sweep start` never changes what `sweep db up
	// --listen` chose. A changed address restarts a running cluster.
	Listen string
	// TLSCert and TLSKey, when both are set, are written (PEM) into pgdata
	// as the server's certificate and key on every start, and turn ssl on.
	TLSCert, TLSKey []byte
	// Notify receives one-line notices, such as the migration of a trust
	// cluster; nil discards them.
	Notify io.Writer
}

// ListenOff as Cluster.Listen turns TCP off again.
const ListenOff = "off"

// State describes a cluster directory.
type State struct {
	Dir         string
	Initialized bool   // pgdata exists
	Running     bool   // a live postmaster owns pgdata
	PID         int    // postmaster PID when running
	Port        int    // the remembered port; 0 before the first Up
	URL         string // the unix-socket DSN; empty before the first Up
	Listen      string // the TCP listen address; empty when TCP is off
	TCPURL      string // the TCP DSN, without the password; empty when TCP is off
	PassFile    string // the pgpass file holding the TCP password, when TCP is on
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

// URL returns the cluster's DSN: its unix socket, where peer
// authentication admits the owner without a password. It needs the port
// chosen by the first Up, and does not check that the server is running
// (see Status).
func (c *Cluster) URL() (string, error) {
	port, err := c.readPort()
	if err != nil {
		return "", err
	}
	if port == 0 {
		return "", fmt.Errorf("read cluster url: %s has not been started yet (run: sweep db up)", c.Dir)
	}
	return c.socketDSN(port, Database), nil
}

// TCPURL returns the DSN for clients on other hosts, when TCP is on. It
// holds no password: clients read it from a pgpass file (PassFile, copied
// to the worker and named by PGPASSFILE or ~/.pgpass).
func (c *Cluster) TCPURL() (string, error) {
	port, err := c.readPort()
	if err != nil {
		return "", err
	}
	listen, err := c.readListen()
	if err != nil {
		return "", err
	}
	if port == 0 || listen == "" {
		return "", fmt.Errorf("read cluster tcp url: TCP is off for %s (run: sweep db up --listen ADDR)", c.Dir)
	}
	return tcpDSN(listenHost(listen), port, Database), nil
}

// SocketDir is the directory of the server's unix socket, for psql -h.
func (c *Cluster) SocketDir() string { return filepath.Join(c.Dir, socketDir) }

// LogPath is the server log.
func (c *Cluster) LogPath() string { return filepath.Join(c.Dir, logFile) }

// PassFile is the pgpass file holding the TCP password (mode 0600). It
// exists once TCP was turned on.
func (c *Cluster) PassFile() string { return filepath.Join(c.Dir, passFile) }

// socketDSN is the URL of database db over the unix socket. libpq and
// lib/pq both read a socket directory from the host parameter.
func (c *Cluster) socketDSN(port int, db string) string {
	host := strings.ReplaceAll(url.QueryEscape(c.SocketDir()), "%2F", "/")
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable", Superuser, db, host, port)
}

// tcpDSN is the URL of database db over TCP, without a password.
func tcpDSN(host string, port int, db string) string {
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", Superuser, net.JoinHostPort(host, strconv.Itoa(port)), db)
}

// listenHost turns a listen_addresses value into a host clients can dial:
// the first address, or this machine's name for a wildcard.
func listenHost(listen string) string {
	first := strings.TrimSpace(strings.Split(listen, ",")[0])
	switch first {
	case "*", "0.0.0.0", "::", "":
		if h, err := os.Hostname(); err == nil && h != "" {
			return h
		}
		return "localhost"
	}
	return first
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

// readListen returns the remembered TCP listen address, "" when TCP is off.
func (c *Cluster) readListen() (string, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, listenFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read listen file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeListen remembers the listen address ("" or ListenOff: TCP off).
func (c *Cluster) writeListen(listen string) error {
	name := filepath.Join(c.Dir, listenFile)
	if listen == "" || listen == ListenOff {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove listen file: %w", err)
		}
		return nil
	}
	if err := os.WriteFile(name, []byte(listen+"\n"), 0o600); err != nil {
		return fmt.Errorf("write listen file: %w", err)
	}
	return nil
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

// EnsureDSN returns the (unix socket) DSN of the private cluster in dataDir ("" =
// DefaultDataDir), starting it (and creating it) when it is not running.
// This is what `sweep start` calls when neither --db nor SWEEP_DB is set.
func EnsureDSN(ctx context.Context, dataDir string) (string, error) {
	return Up(ctx, dataDir)
}

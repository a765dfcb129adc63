package pgcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq" // database/sql driver "postgres"
)

// includeLine is appended to postgresql.conf by init; its presence marks a
// data directory whose initialisation finished.
const includeLine = "include_if_exists = '" + confFile + "'\n"

// Up starts the cluster, creating it on first use, and returns its unix
// socket DSN. Running it again on a started cluster only returns the DSN,
// unless the cluster must restart: it still uses trust authentication (made
// by an older sweep), or Listen changes the TCP address. Two processes
// calling Up at once are serialised by a lock file, so the cluster is
// initialised and started once.
func (c *Cluster) Up(ctx context.Context) (string, error) {
	return c.up(ctx, true)
}

// UpExisting is Up for callers that only read: it starts a stopped cluster
// but never creates one, so that a mistyped directory fails instead of
// holding a new, empty cluster. A directory without a cluster gives an
// error wrapping ErrNoCluster, and is left as it was.
func (c *Cluster) UpExisting(ctx context.Context) (string, error) {
	if !c.initialized() {
		return "", fmt.Errorf("%w in %s", ErrNoCluster, c.Dir)
	}
	return c.up(ctx, false)
}

// up is Up; create says whether a missing cluster may be initialised.
func (c *Cluster) up(ctx context.Context, create bool) (string, error) {
	p, unlock, err := c.prepare(ctx, create)
	if err != nil {
		return "", err
	}
	defer unlock()
	if st := c.state(); st.Running {
		if !p.restart {
			return c.socketDSN(st.Port, Database), nil
		}
		if err := c.stop(ctx, p.owner); err != nil {
			return "", err
		}
	}
	port, err := c.startWith(ctx, p, func(port int) error {
		cmd := p.owner.command(ctx, c.Dir, filepath.Join(c.BinDir, "pg_ctl"), "start", "-s", "-w", "-t", "60",
			"-D", c.pgdata(), "-l", c.LogPath())
		return run(cmd, "start postgres")
	})
	if err != nil {
		return "", err
	}
	if err := c.afterStart(ctx, p, port); err != nil {
		return "", err
	}
	return c.socketDSN(port, Database), nil
}

// Down stops the cluster (fast shutdown: open sessions are disconnected).
// Stopping a cluster that is not running, or that does not exist (nothing
// is created then), is not an error.
func (c *Cluster) Down(ctx context.Context) error {
	if !c.initialized() {
		return nil
	}
	p, unlock, err := c.prepare(ctx, false)
	if err != nil {
		return err
	}
	defer unlock()
	if err := c.DownPooler(); err != nil { // its clients lose the server anyway
		return err
	}
	if !c.state().Running {
		return nil
	}
	return c.stop(ctx, p.owner)
}

// stop runs pg_ctl stop (fast shutdown) as the owner.
func (c *Cluster) stop(ctx context.Context, o owner) error {
	cmd := o.command(ctx, c.Dir, filepath.Join(c.BinDir, "pg_ctl"), "stop", "-s", "-w", "-t", "60",
		"-m", "fast", "-D", c.pgdata())
	return run(cmd, "stop postgres")
}

// Status describes the cluster without changing or locking anything.
func (c *Cluster) Status(ctx context.Context) (State, error) {
	return c.state(), ctx.Err()
}

func (c *Cluster) state() State {
	st := State{Dir: c.Dir, Initialized: c.initialized()}
	st.Port, _ = c.readPort()
	// postmaster.pid: line 1 the PID, line 4 the port.
	if b, err := os.ReadFile(filepath.Join(c.pgdata(), "postmaster.pid")); err == nil {
		lines := strings.Split(string(b), "\n")
		pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
		if processAlive(pid) {
			st.Running, st.PID = true, pid
			if len(lines) > 3 {
				if port, err := strconv.Atoi(strings.TrimSpace(lines[3])); err == nil {
					st.Port = port
				}
			}
		}
	}
	if st.Port != 0 {
		st.URL = c.socketDSN(st.Port, Database)
		if st.Listen, _ = c.readListen(); st.Listen != "" {
			st.TCPURL, st.PassFile = tcpDSN(listenHost(st.Listen), st.Port, Database), c.PassFile()
		}
	}
	if b, err := os.ReadFile(filepath.Join(c.pgdata(), "PG_VERSION")); err == nil {
		st.Version = strings.TrimSpace(string(b))
	}
	return st
}

// findBinDir prefers the binaries of the major version that made the data
// directory: after an upgrade installs a newer PostgreSQL beside the old
// one, the old cluster keeps working, and when its version is gone the
// error says so instead of leaving the user to read the server log.
func (c *Cluster) findBinDir(ctx context.Context) (string, error) {
	b, err := os.ReadFile(filepath.Join(c.pgdata(), "PG_VERSION"))
	if err != nil || !c.initialized() {
		return findBinDir(ctx)
	}
	made := strings.TrimSpace(string(b))
	if dir := filepath.Join("/usr/lib/postgresql", made, "bin"); hasServer(dir) {
		return dir, nil
	}
	dir, err := findBinDir(ctx)
	if err != nil {
		return "", err
	}
	if v := pgVersion(dir); v >= 0 && strconv.FormatFloat(v, 'f', -1, 64) != made {
		return "", fmt.Errorf("start cluster %s: its data was made by PostgreSQL %s but only %s is installed; "+
			"install postgresql-%s, or move the directory away to start a new cluster", c.Dir, made, dir, made)
	}
	return dir, nil
}

func (c *Cluster) initialized() bool {
	b, err := os.ReadFile(filepath.Join(c.pgdata(), "postgresql.conf"))
	return err == nil && strings.Contains(string(b), includeLine)
}

// prepared is what every operation needs: the owner, the TCP listen
// address to start with, and whether a running server must restart.
type prepared struct {
	owner   owner
	listen  string // "" = TCP off
	restart bool   // running server is a trust cluster or listens elsewhere
}

// prepare creates and checks the directory, takes the lock, finds the
// binaries and the owner, and initialises the data directory when needed
// and create allows it (else a missing data directory is ErrNoCluster).
func (c *Cluster) prepare(ctx context.Context, create bool) (prepared, func(), error) {
	var p prepared
	if err := c.makeDir(); err != nil {
		return p, nil, err
	}
	var err error
	if p.owner, err = serverOwner(ctx); err != nil {
		return p, nil, err
	}
	if err := p.owner.checkDir(c.Dir, c.initialized()); err != nil {
		return p, nil, err
	}
	unlock, err := lock(ctx, filepath.Join(c.Dir, lockFile))
	if err != nil {
		return p, nil, err
	}
	fail := func(err error) (prepared, func(), error) { unlock(); return p, nil, err }
	if c.BinDir == "" {
		if c.BinDir, err = c.findBinDir(ctx); err != nil {
			return fail(err)
		}
	} else if !hasServer(c.BinDir) {
		return fail(fmt.Errorf("%w in %s (initdb, pg_ctl, postgres); install them with: %s",
			ErrNotInstalled, c.BinDir, installHint()))
	}
	if err := p.owner.checkTraversable(c.Dir); err != nil {
		return fail(err)
	}
	if !c.initialized() {
		if !create {
			return fail(fmt.Errorf("%w in %s", ErrNoCluster, c.Dir))
		}
		if err := c.initdb(ctx, p.owner); err != nil {
			return fail(err)
		}
	} else if c.trustCluster() {
		c.notify("migrating the private cluster in %s from trust to peer authentication: only %s may connect; "+
			"TCP is off until `sweep db up --listen ADDR` (password in %s)", c.Dir, p.owner.describe(), c.PassFile())
		p.restart = true
	}
	if p.listen, err = c.readListen(); err != nil {
		return fail(err)
	}
	if c.Listen != "" {
		want := strings.TrimSpace(c.Listen)
		if want == ListenOff {
			want = ""
		}
		p.restart = p.restart || want != p.listen
		p.listen = want
	}
	return p, unlock, nil
}

// makeDir creates the cluster directory (mode 0700) and its parents (0755:
// as root the server user must pass them).
func (c *Cluster) makeDir() error {
	// sockaddr_un holds 108 bytes including the NUL; PostgreSQL names the
	// socket <dir>/.s.PGSQL.<port>.
	if n := len(c.SocketDir() + "/.s.PGSQL.65535"); n > 107 {
		return fmt.Errorf("check data dir %s: too long for a unix socket path (%d bytes, at most 107); "+
			"choose a shorter --pg-dir", c.Dir, n)
	}
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if err := os.Mkdir(c.Dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create data dir: %w", err)
	}
	return nil
}

// notify writes one notice line to Notify.
func (c *Cluster) notify(format string, args ...any) {
	if c.Notify != nil {
		fmt.Fprintf(c.Notify, "sweep: "+format+"\n", args...)
	}
}

// initdb creates pgdata with peer (local) and scram-sha-256 (TCP)
// authentication and a "sweep" superuser; writeAccess narrows both to the
// owner before the first start. A half-made pgdata (no include line) is
// removed and made again.
func (c *Cluster) initdb(ctx context.Context, o owner) error {
	if err := os.RemoveAll(c.pgdata()); err != nil {
		return fmt.Errorf("remove partial pgdata: %w", err)
	}
	if err := os.MkdirAll(c.SocketDir(), 0o700); err != nil {
		return fmt.Errorf("create socket dir: %w", err)
	}
	if err := o.chown(c.Dir, c.SocketDir()); err != nil {
		return err
	}
	args := []string{"-D", c.pgdata(), "-U", Superuser, "--auth-local=peer", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--no-locale"}
	if c.NoSync {
		args = append(args, "--no-sync")
	}
	if err := run(o.command(ctx, c.Dir, filepath.Join(c.BinDir, "initdb"), args...), "initdb"); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(c.pgdata(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open postgresql.conf: %w", err)
	}
	_, err = f.WriteString("\n# sweep: port, socket and listen address are set per start in " + confFile + "\n" + includeLine)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write postgresql.conf: %w", err)
	}
	return c.writeAccess(o)
}

// startWith picks the port (the remembered one, else a free one), writes
// the access rules and sweep.conf and calls start. If start fails because
// another program took the remembered port, it picks a new port once and
// retries.
func (c *Cluster) startWith(ctx context.Context, p prepared, start func(port int) error) (int, error) {
	port, err := c.readPort()
	if err != nil {
		return 0, err
	}
	if err := c.writeListen(p.listen); err != nil {
		return 0, err
	}
	if err := c.writeAccess(p.owner); err != nil {
		return 0, err
	}
	if err := c.writeTLS(p.owner); err != nil {
		return 0, err
	}
	for attempt := 0; ; attempt++ {
		if port == 0 || (attempt > 0 && !portFree(port)) {
			if port, err = freePort(); err != nil {
				return 0, err
			}
		}
		if err := c.writePort(port); err != nil {
			return 0, err
		}
		if err := c.writeConf(port, p.listen); err != nil {
			return 0, err
		}
		err = start(port)
		if err == nil {
			return port, nil
		}
		if attempt > 0 || portFree(port) {
			return 0, fmt.Errorf("%w\n%s", err, c.logTail())
		}
	}
}

// afterStart makes the "sweep" database and, with TCP on, sets the role's
// password from the pgpass file (made on first use).
func (c *Cluster) afterStart(ctx context.Context, p prepared, port int) error {
	if err := createDatabase(ctx, c.socketDSN(port, "postgres")); err != nil {
		return err
	}
	if p.listen == "" {
		return nil
	}
	return c.setPassword(ctx, port)
}

// writeConf writes the per-start settings. They live in a file of their own
// (included by postgresql.conf) so that paths need no shell quoting.
func (c *Cluster) writeConf(port int, listen string) error {
	settings := map[string]string{
		"port":                    strconv.Itoa(port),
		"listen_addresses":        listen,
		"unix_socket_directories": c.SocketDir(),
		"unix_socket_permissions": "0700",
		"password_encryption":     "scram-sha-256",
		// 32 workers with pools of 3 plus psql sessions and reports.
		"max_connections": "200",
		// A commit returns before its WAL reaches the disk. The database
		// stays consistent; only an OS crash or power loss can drop the
		// last fraction of a second of commits (a server crash or restart
		// loses nothing). Each trial makes ~20 small commits, and waiting
		// for fsync on each costs more than the 10 ms/trial budget.
		"synchronous_commit": "off",
	}
	if len(c.TLSCert) > 0 && len(c.TLSKey) > 0 {
		settings["ssl"] = "on"
		settings["ssl_cert_file"] = filepath.Join(c.pgdata(), tlsCertFile)
		settings["ssl_key_file"] = filepath.Join(c.pgdata(), tlsKeyFile)
	}
	for k, v := range c.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by sweep on every start; edits are overwritten.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(settings[k], "'", "''"))
	}
	if err := os.WriteFile(filepath.Join(c.pgdata(), confFile), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", confFile, err)
	}
	return nil
}

// logTail returns the end of the server log for error messages.
func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.LogPath())
	if err != nil {
		return "(no server log)"
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "server log " + c.LogPath() + ":\n" + strings.TrimSpace(string(b))
}

// createDatabase makes the "sweep" database unless it exists; dsn is the
// server's "postgres" database.
func createDatabase(ctx context.Context, dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return fmt.Errorf("open postgres database: %w", err)
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, Database).Scan(&exists); err != nil {
		return fmt.Errorf("check database %s: %w", Database, err)
	}
	if exists {
		return nil
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+Database); err != nil {
		return fmt.Errorf("create database %s: %w", Database, err)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// lock takes an exclusive flock on path, polling so ctx can cancel the wait.
func lock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

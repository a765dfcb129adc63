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

// Up starts the cluster, creating it on first use, and returns its DSN.
// Running it again on a started cluster only returns the DSN. Two processes
// calling Up at once are serialised by a lock file, so the cluster is
// initialised and started once.
func (c *Cluster) Up(ctx context.Context) (string, error) {
	p, unlock, err := c.prepare(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if st := c.state(); st.Running {
		return dsn(st.Port, Database), nil
	}
	port, err := c.startWith(ctx, func(port int) error {
		cmd := p.owner.command(ctx, c.Dir, filepath.Join(c.BinDir, "pg_ctl"), "start", "-s", "-w", "-t", "60",
			"-D", c.pgdata(), "-l", c.LogPath())
		return run(cmd, "start postgres")
	})
	if err != nil {
		return "", err
	}
	if err := createDatabase(ctx, port); err != nil {
		return "", err
	}
	return dsn(port, Database), nil
}

// Down stops the cluster (fast shutdown: open sessions are disconnected).
// Stopping a cluster that is not running is not an error.
func (c *Cluster) Down(ctx context.Context) error {
	p, unlock, err := c.prepare(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if !c.state().Running {
		return nil
	}
	cmd := p.owner.command(ctx, c.Dir, filepath.Join(c.BinDir, "pg_ctl"), "stop", "-s", "-w", "-t", "60",
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
	if st.Port != 0 {
		st.URL = dsn(st.Port, Database)
	}
	if b, err := os.ReadFile(filepath.Join(c.pgdata(), "PG_VERSION")); err == nil {
		st.Version = strings.TrimSpace(string(b))
	}
	// postmaster.pid: line 1 the PID, line 4 the port.
	if b, err := os.ReadFile(filepath.Join(c.pgdata(), "postmaster.pid")); err == nil {
		lines := strings.Split(string(b), "\n")
		pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
		if processAlive(pid) {
			st.Running, st.PID = true, pid
			if len(lines) > 3 {
				if port, err := strconv.Atoi(strings.TrimSpace(lines[3])); err == nil {
					st.Port, st.URL = port, dsn(port, Database)
				}
			}
		}
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

// prepared is what every operation needs: binaries, the owner, the lock.
type prepared struct {
	owner owner
}

// prepare creates the directory, takes the lock, finds the binaries and
// the owner, and initialises the data directory when needed.
func (c *Cluster) prepare(ctx context.Context) (prepared, func(), error) {
	var p prepared
	// sockaddr_un holds 108 bytes including the NUL; PostgreSQL names the
	// socket <dir>/.s.PGSQL.<port>.
	if n := len(c.SocketDir() + "/.s.PGSQL.65535"); n > 107 {
		return p, nil, fmt.Errorf("check data dir %s: too long for a unix socket path (%d bytes, at most 107); "+
			"choose a shorter --data-dir", c.Dir, n)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return p, nil, fmt.Errorf("create data dir: %w", err)
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
	if p.owner, err = serverOwner(ctx); err != nil {
		return fail(err)
	}
	if err := p.owner.checkTraversable(c.Dir); err != nil {
		return fail(err)
	}
	if !c.initialized() {
		if err := c.initdb(ctx, p.owner); err != nil {
			return fail(err)
		}
	}
	return p, unlock, nil
}

// initdb creates pgdata with trust authentication and a "sweep" superuser.
// A half-made pgdata (no include line) is removed and made again.
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
	args := []string{"-D", c.pgdata(), "-U", Superuser, "--auth=trust", "-E", "UTF8", "--no-locale"}
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
	return nil
}

// startWith picks the port (the remembered one, else a free one), writes
// sweep.conf and calls start. If start fails because another program took
// the remembered port, it picks a new port once and retries.
func (c *Cluster) startWith(ctx context.Context, start func(port int) error) (int, error) {
	port, err := c.readPort()
	if err != nil {
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
		if err := c.writeConf(port); err != nil {
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

// writeConf writes the per-start settings. They live in a file of their own
// (included by postgresql.conf) so that paths need no shell quoting.
func (c *Cluster) writeConf(port int) error {
	settings := map[string]string{
		"port":                    strconv.Itoa(port),
		"listen_addresses":        "127.0.0.1",
		"unix_socket_directories": c.SocketDir(),
		// 32 workers with pools of 3 plus psql sessions and reports.
		"max_connections": "200",
		// A commit returns before its WAL reaches the disk. The database
		// stays consistent; only an OS crash or power loss can drop the
		// last fraction of a second of commits (a server crash or restart
		// loses nothing). Each trial makes ~20 small commits, and waiting
		// for fsync on each costs more than the 10 ms/trial budget.
		"synchronous_commit": "off",
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

// createDatabase makes the "sweep" database unless it exists.
func createDatabase(ctx context.Context, port int) error {
	db, err := sql.Open("postgres", dsn(port, "postgres"))
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
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
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

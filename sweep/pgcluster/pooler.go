package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PoolerConfig describes a PgBouncer in front of a server's unix socket,
// in transaction pooling mode: hundreds of worker processes share a few
// server connections, each borrowed for one transaction. sweep/postgres
// keeps no session state across transactions (no session advisory locks,
// no named prepared statements, no SET), so it works through it.
//
// Who may connect is decided as for the cluster: PgBouncer listens only on
// a unix socket inside Dir (mode 0700, owned by the server's account), so
// only that account and root can reach it, and it reaches the server over
// the server's socket with peer authentication as that account. PgBouncer
// 1.18 cannot map root onto the role with an ident map, so its own client
// authentication is "any": the directory's permissions are the check.
type PoolerConfig struct {
	// Dir holds pgbouncer.ini (mode 0600), the socket, the pid file and the
	// log. It is created (0700) and handed to the server's account.
	Dir string
	// ServerSocketDir and ServerPort name the server's unix socket.
	ServerSocketDir string
	ServerPort      int
	// Port names PgBouncer's socket; 0 picks a free TCP port number so that
	// the name stays usable if TCP is added later.
	Port int
	// PoolSize is the number of server connections per database
	// (default 20): transactions beyond it wait in PgBouncer's queue.
	PoolSize int
	// MaxClients bounds client connections (default 2000).
	MaxClients int
}

// Pooler is a running PgBouncer.
type Pooler struct {
	Dir  string
	Port int

	cmd  *exec.Cmd
	done chan error
}

// PoolerBinary finds pgbouncer: on PATH or where Debian installs it.
func PoolerBinary() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/pgbouncer"); err == nil {
		return "/usr/sbin/pgbouncer", nil
	}
	return "", errors.New("pgcluster: pgbouncer not found; install it with: apt-get install pgbouncer")
}

// URL is the DSN of database db through the pooler.
func (p *Pooler) URL(db string) string {
	host := strings.ReplaceAll(url.QueryEscape(p.Dir), "%2F", "/")
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable", Superuser, db, host, p.Port)
}

// poolerIni is PgBouncer's configuration for cfg. Every database name is
// passed through ("*") to the server as the superuser role.
func poolerIni(cfg PoolerConfig) string {
	return fmt.Sprintf(`; Written by sweep on every pooler start; edits are overwritten.
[databases]
* = host=%s port=%d user=%s

[pgbouncer]
listen_addr =
listen_port = %d
unix_socket_dir = %s
unix_socket_mode = 0600
auth_type = any
pool_mode = transaction
default_pool_size = %d
max_client_conn = %d
max_db_connections = %d
; lib/pq sends extra_float_digits at start-up; the server's default (1)
; already prints floats exactly.
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
log_connections = 0
log_disconnections = 0
`, cfg.ServerSocketDir, cfg.ServerPort, Superuser, cfg.Port, cfg.Dir, cfg.PoolSize, cfg.MaxClients, cfg.PoolSize,
		filepath.Join(cfg.Dir, "pgbouncer.log"), filepath.Join(cfg.Dir, "pgbouncer.pid"))
}

// preparePooler fills cfg's defaults, makes Dir and writes the ini file,
// returning the command line (without -d) and the account to run it as.
func preparePooler(ctx context.Context, cfg *PoolerConfig) (string, owner, error) {
	bin, err := PoolerBinary()
	if err != nil {
		return "", owner{}, err
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = 20
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 2000
	}
	if cfg.Port == 0 {
		if cfg.Port, err = freePort(); err != nil {
			return "", owner{}, err
		}
	}
	if n := len(cfg.Dir + "/.s.PGSQL.65535"); n > 107 {
		return "", owner{}, fmt.Errorf("check pooler dir %s: too long for a unix socket path (%d bytes, at most 107)", cfg.Dir, n)
	}
	o, err := serverOwner(ctx)
	if err != nil {
		return "", owner{}, err
	}
	if err := o.checkTraversable(cfg.Dir); err != nil {
		return "", owner{}, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return "", owner{}, fmt.Errorf("create pooler dir: %w", err)
	}
	ini := filepath.Join(cfg.Dir, "pgbouncer.ini")
	if err := os.WriteFile(ini, []byte(poolerIni(*cfg)), 0o600); err != nil {
		return "", owner{}, fmt.Errorf("write pgbouncer.ini: %w", err)
	}
	if err := os.Chmod(ini, 0o600); err != nil {
		return "", owner{}, fmt.Errorf("chmod pgbouncer.ini: %w", err)
	}
	if err := o.chown(cfg.Dir, ini); err != nil {
		return "", owner{}, err
	}
	return bin, o, nil
}

// StartPooler runs PgBouncer attached to this process (killed when it
// dies, as Server is), for tests and benchmarks. Stop it with Stop.
func StartPooler(ctx context.Context, cfg PoolerConfig) (*Pooler, error) {
	bin, o, err := preparePooler(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(cfg.Dir, "pgbouncer.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open pooler log: %w", err)
	}
	defer logf.Close()
	cmd := o.command(context.Background(), cfg.Dir, bin, filepath.Join(cfg.Dir, "pgbouncer.ini"))
	cmd.Stdout, cmd.Stderr = logf, logf
	done, err := startTied(cmd, syscall.SIGKILL)
	if err != nil {
		return nil, fmt.Errorf("start pgbouncer: %w", err)
	}
	p := &Pooler{Dir: cfg.Dir, Port: cfg.Port, cmd: cmd, done: done}
	if err := p.waitReady(ctx); err != nil {
		p.Stop(context.Background())
		return nil, err
	}
	return p, nil
}

// waitReady waits until the pooler's socket accepts connections.
func (p *Pooler) waitReady(ctx context.Context) error {
	sock := filepath.Join(p.Dir, ".s.PGSQL."+strconv.Itoa(p.Port))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("start pgbouncer: exited: %v: %s", err, p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("start pgbouncer: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("start pgbouncer: socket %s not ready after 20s: %s", sock, p.logTail())
		}
	}
}

// logTail is the end of the pooler's logs, for errors.
func (p *Pooler) logTail() string {
	var b []byte
	for _, name := range []string{"pgbouncer.out", "pgbouncer.log"} {
		if x, err := os.ReadFile(filepath.Join(p.Dir, name)); err == nil {
			b = append(b, x...)
		}
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// Stop ends an attached pooler with SIGTERM (immediate shutdown: its
// clients are done or are test processes) and waits for it. Stopping twice
// is harmless.
func (p *Pooler) Stop(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return stopProcess(ctx, p.cmd, p.done, syscall.SIGTERM, "pgbouncer")
}

// poolerDir is where a cluster's pooler lives, inside the cluster directory.
const poolerDir = "pooler"

// PoolerDir is the directory of the cluster's pooler (Up with --pooler).
func (c *Cluster) PoolerDir() string { return filepath.Join(c.Dir, poolerDir) }

// UpPooler starts the cluster (creating it on first use) and a detached
// PgBouncer in front of it, unless one runs already, and returns the
// pooler's URL. Its port is remembered in the pooler directory, so the URL
// stays stable across restarts.
func (c *Cluster) UpPooler(ctx context.Context) (string, error) {
	if _, err := c.Up(ctx); err != nil {
		return "", err
	}
	port, err := c.readPort()
	if err != nil {
		return "", err
	}
	cfg := PoolerConfig{Dir: c.PoolerDir(), ServerSocketDir: c.SocketDir(), ServerPort: port}
	if b, err := os.ReadFile(filepath.Join(cfg.Dir, portFile)); err == nil {
		cfg.Port, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	p := &Pooler{Dir: cfg.Dir, Port: cfg.Port}
	if pid := c.poolerPID(); pid > 0 && cfg.Port > 0 {
		return p.URL(Database), nil
	}
	bin, o, err := preparePooler(ctx, &cfg)
	if err != nil {
		return "", err
	}
	p.Port = cfg.Port
	if err := os.WriteFile(filepath.Join(cfg.Dir, portFile), []byte(strconv.Itoa(cfg.Port)+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write pooler port: %w", err)
	}
	if err := o.chown(filepath.Join(cfg.Dir, portFile)); err != nil {
		return "", err
	}
	if err := run(o.command(ctx, cfg.Dir, bin, "-d", filepath.Join(cfg.Dir, "pgbouncer.ini")), "start pgbouncer"); err != nil {
		return "", err
	}
	p.done = make(chan error, 1)
	if err := p.waitReady(ctx); err != nil {
		return "", err
	}
	c.notify("pgbouncer (transaction pooling) runs in front of %s", c.Dir)
	return p.URL(Database), nil
}

// DownPooler stops the cluster's detached pooler, if it runs, with
// SIGINT (safe shutdown: transactions in flight finish), waiting up to 5 s.
func (c *Cluster) DownPooler() error {
	pid := c.poolerPID()
	if pid <= 0 {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop pgbouncer (pid %d): %w", pid, err)
	}
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// poolerPID is the live pgbouncer's pid from its pid file, 0 when none.
func (c *Cluster) poolerPID() int {
	b, err := os.ReadFile(filepath.Join(c.PoolerDir(), "pgbouncer.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 {
		return 0
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && !strings.HasPrefix(string(comm), "pgbouncer") {
		return 0
	}
	return pid
}

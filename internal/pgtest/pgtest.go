// Package pgtest gives tests a fresh, empty PostgreSQL database each.
//
// DSN(t) creates a database with a unique name and drops it when the test
// ends. The server is, in order of preference:
//
//   - SWEEP_TEST_DB, when set: the DSN of a server the tests may create
//     databases on (e.g. postgres://me@localhost/postgres?sslmode=disable);
//   - otherwise a private cluster (sweep/pgcluster) started on first use in
//     a temporary directory, once per test binary, with durability off
//     (fsync, synchronous_commit) because its data is thrown away. DSN
//     returns its unix socket (peer authentication); it also listens on
//     127.0.0.1 with a password, for PasswordDSN.
//
// The private cluster runs attached to the test binary, so it stops when the
// binary exits however it exits. To also remove its directory, call Main
// from the package's TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without Main the directory is left in $TMPDIR/sweep-pgtest-<uid> and removed by
// the next test binary that starts a cluster. Missing PostgreSQL binaries
// fail the test (never skip): CI installs them, and a silent skip would hide
// untested storage code.
//
// pgtest does not apply sweep's schema; sweep/postgres.Open does.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq" // database/sql driver "postgres"

	"sweep/sweep/pgcluster"
)

// EnvDSN names the variable holding an external test server's DSN.
const EnvDSN = "SWEEP_TEST_DB"

// harness is the per-test-binary server. It is the package's only state,
// and deliberately global: a test binary has exactly one, shared by every
// test and every DSN call, started lazily and stopped by Main.
type harness struct {
	once   sync.Once
	base   string // server DSN the test databases are created on
	tcp    string // the private cluster's TCP DSN to database postgres, password included
	pw     string // that password
	err    error
	server *pgcluster.Server
	log    string // the private cluster's server log
	dir    string
	lock   *os.File // flock on dir + ".lock", held while the cluster is in use
}

var h harness

// Main runs the tests, then stops the private cluster and removes its
// directory, then exits with the tests' status.
func Main(m *testing.M) {
	code := m.Run()
	h.stop()
	os.Exit(code)
}

// DSN returns the DSN of a new, empty database that is dropped (with its
// connections) when t ends.
func DSN(t testing.TB) string {
	t.Helper()
	base, err := h.start()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := "sweep_test_" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := execSQL(ctx, base, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := execSQL(ctx, base, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// PasswordDSN is DSN with a password in the DSN itself, for tests that
// check a password never leaks into output; it returns the password too.
// On the private cluster it is a TCP DSN whose password the server checks
// (scram-sha-256). With SWEEP_TEST_DB it is that DSN with a random password
// parameter added when it has none (the server may ignore it).
func PasswordDSN(t testing.TB) (dsn, password string) {
	t.Helper()
	dsn = DSN(t)
	if h.tcp == "" {
		password = "pgtest-pw-" + randomSuffix()
		if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatalf("pgtest: %v", err)
			}
			if pw, ok := u.User.Password(); ok {
				return dsn, pw
			}
			u.User = url.UserPassword(u.User.Username(), password)
			return u.String(), password
		}
		return dsn + " password=" + password, password
	}
	u, err := url.Parse(h.tcp)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	d, _ := url.Parse(dsn)
	u.Path = d.Path
	return u.String(), h.pw
}

// ServerLog returns the private cluster's server log, "" when the tests
// use SWEEP_TEST_DB or no DSN was made yet.
func ServerLog() string { return h.log }

// start returns the server DSN, starting the private cluster on first use.
func (h *harness) start() (string, error) {
	h.once.Do(func() {
		if env := os.Getenv(EnvDSN); env != "" {
			h.base = env
			return
		}
		h.base, h.err = h.startCluster()
	})
	return h.base, h.err
}

func (h *harness) startCluster() (string, error) {
	// One parent per user: another user's directory is not writable.
	parent := filepath.Join(os.TempDir(), fmt.Sprintf("sweep-pgtest-%d", os.Getuid()))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", parent, err)
	}
	// The server may run as another user (root case): it must traverse parent.
	_ = os.Chmod(parent, 0o755)
	removeAbandoned(parent)
	dir, err := os.MkdirTemp(parent, "cluster-")
	if err != nil {
		return "", fmt.Errorf("create cluster dir: %w", err)
	}
	h.dir = dir
	// The lock says "in use" for as long as this binary lives: the kernel
	// drops it when the process dies, however it dies.
	lock, err := lockDir(dir, true)
	if err != nil {
		return "", err
	}
	h.lock = lock
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("cluster dir vanished before it was locked: %w", err)
	}
	c, err := pgcluster.New(dir)
	if err != nil {
		return "", err
	}
	c.NoSync = true
	c.Settings = map[string]string{
		"fsync":              "off",
		"synchronous_commit": "off",
		"full_page_writes":   "off",
		// Many test binaries run at once: keep each server small, and off
		// /dev/shm, which containers often cap at 64 MB.
		"shared_buffers":                  "32MB",
		"dynamic_shared_memory_type":      "mmap",
		"max_parallel_workers_per_gather": "0",
	}
	c.Listen = "127.0.0.1"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := c.Start(ctx)
	if err != nil {
		return "", fmt.Errorf("start private test cluster (or set %s): %w", EnvDSN, err)
	}
	h.server, h.log = s, c.LogPath()
	if h.pw, err = c.Password(); err != nil {
		return "", err
	}
	u, err := url.Parse(s.TCPURL)
	if err != nil {
		return "", fmt.Errorf("parse tcp url: %w", err)
	}
	u.User = url.UserPassword(u.User.Username(), h.pw)
	h.tcp = u.String()
	return withDatabase(s.URL, "postgres")
}

func (h *harness) stop() {
	if h.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = h.server.Stop(ctx)
	}
	if h.dir != "" {
		_ = os.RemoveAll(h.dir)
	}
	if h.lock != nil {
		_ = os.Remove(h.lock.Name())
		h.lock.Close()
	}
}

// removeAbandoned deletes cluster directories of earlier test binaries that
// exited without Main. A directory is abandoned when nobody holds the flock
// on its ".lock" file: a live binary holds it from before initdb until it
// exits, so neither a slow initdb on a loaded machine nor a long test run can
// make another binary delete a cluster that is in use.
func removeAbandoned(parent string) {
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		lock, err := lockDir(dir, false)
		if err != nil {
			continue // held by a live test binary, or unreadable
		}
		_ = os.RemoveAll(dir)
		_ = os.Remove(lock.Name())
		lock.Close()
	}
}

// lockDir takes an exclusive flock on dir + ".lock". With create false a
// missing lock file counts as abandoned only for directories older than a
// minute (a binary between MkdirTemp and lockDir).
func lockDir(dir string, create bool) (*os.File, error) {
	name := dir + ".lock"
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	} else if _, err := os.Stat(name); os.IsNotExist(err) {
		fi, err := os.Stat(dir)
		if err != nil || time.Since(fi.ModTime()) < time.Minute {
			return nil, fmt.Errorf("lock %s: too young to judge", dir)
		}
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(name, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return f, nil
}

func execSQL(ctx context.Context, dsn, query string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, query)
	return err
}

// withDatabase returns dsn pointing at database name. Both URL and
// key=value DSNs are accepted.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvDSN, err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
}

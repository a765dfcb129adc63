package pgcluster_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"sweep/sweep/pgcluster"
)

// newCluster returns a throwaway cluster in a directory the server user can
// reach (t.TempDir's parent is fine: /tmp is world-searchable).
func newCluster(t *testing.T) *pgcluster.Cluster {
	t.Helper()
	dir := t.TempDir()
	// t.TempDir's parent is 0700; as root the server user must enter it.
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := pgcluster.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.NoSync = true
	c.Settings = map[string]string{"fsync": "off"}
	return c
}

func ping(t *testing.T, dsn string) {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRow(`SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("query %s: %v", dsn, err)
	}
}

func TestCluster_UpDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCluster(t)
	if st, _ := c.Status(ctx); st.Initialized || st.Running {
		t.Fatalf("fresh dir status = %+v", st)
	}
	if _, err := c.URL(); err == nil {
		t.Fatal("URL before first Up: want error")
	}
	t.Cleanup(func() { c.Down(context.Background()) })

	// Two concurrent Ups: one initialises and starts, both get the same DSN.
	var wg sync.WaitGroup
	dsns := make([]string, 2)
	errs := make([]error, 2)
	for i := range dsns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc, _ := pgcluster.New(c.Dir)
			cc.NoSync, cc.Settings = c.NoSync, c.Settings
			dsns[i], errs[i] = cc.Up(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if dsns[0] != dsns[1] {
		t.Fatalf("concurrent Up gave %q and %q", dsns[0], dsns[1])
	}
	ping(t, dsns[0])
	st, err := c.Status(ctx)
	if err != nil || !st.Running || !st.Initialized || st.PID == 0 || st.URL != dsns[0] || st.Version == "" {
		t.Fatalf("status after Up = %+v, %v", st, err)
	}
	if u, err := c.URL(); err != nil || u != dsns[0] {
		t.Fatalf("URL = %q, %v; want %q", u, err, dsns[0])
	}
	if fi, err := os.Stat(filepath.Join(c.SocketDir(), ".s.PGSQL."+strconv.Itoa(st.Port))); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("unix socket missing in %s: %v", c.SocketDir(), err)
	}

	// Up again is a no-op returning the same DSN.
	if again, err := c.Up(ctx); err != nil || again != dsns[0] {
		t.Fatalf("second Up = %q, %v", again, err)
	}
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(ctx); st.Running {
		t.Fatalf("status after Down = %+v", st)
	}
	if err := c.Down(ctx); err != nil {
		t.Fatalf("Down of stopped cluster: %v", err)
	}
	// Restart keeps the port, so the URL is stable, and keeps the data.
	// UpExisting starts a stopped cluster as Up does.
	again, err := c.UpExisting(ctx)
	if err != nil || again != dsns[0] {
		t.Fatalf("UpExisting after Down = %q, %v; want %q", again, err, dsns[0])
	}
	ping(t, again)
}

func TestCluster_Start(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCluster(t)
	s, err := c.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ping(t, s.URL)
	if _, err := c.Start(ctx); err == nil {
		t.Error("second Start of a running cluster: want error")
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(ctx); st.Running {
		t.Fatalf("status after Stop = %+v", st)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestCluster_NotInstalled(t *testing.T) {
	c := newCluster(t)
	c.BinDir = t.TempDir()
	_, err := c.Up(context.Background())
	if !errors.Is(err, pgcluster.ErrNotInstalled) {
		t.Fatalf("Up with empty bin dir: %v; want ErrNotInstalled", err)
	}
	if !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Errorf("error %q does not say how to install", err)
	}
}

func TestCluster_RootUntraversableParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to another user")
	}
	private := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	c, _ := pgcluster.New(filepath.Join(private, "pg"))
	_, err := c.Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+private) {
		t.Fatalf("Up under a 0700 parent as root: %v; want a 'cannot enter' error", err)
	}
}

func TestDefaultDataDir(t *testing.T) {
	d, err := pgcluster.DefaultDataDir()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if d != "/var/lib/sweep/postgres" {
			t.Errorf("root default = %q", d)
		}
		return
	}
	t.Setenv("XDG_DATA_HOME", "/x/data")
	if d, _ := pgcluster.DefaultDataDir(); d != "/x/data/sweep/postgres" {
		t.Errorf("XDG default = %q", d)
	}
}

func TestCluster_VersionMismatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCluster(t)
	if _, err := c.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir, "pgdata", "PG_VERSION"), []byte("9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	again, _ := pgcluster.New(c.Dir)
	_, err := again.Up(ctx)
	if err == nil || !strings.Contains(err.Error(), "made by PostgreSQL 9 but only") {
		t.Fatalf("Up of a cluster made by another major version: %v", err)
	}
}

func TestCluster_LongPath(t *testing.T) {
	c, _ := pgcluster.New(filepath.Join(t.TempDir(), strings.Repeat("d", 100)))
	_, err := c.Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "too long for a unix socket") {
		t.Fatalf("Up with a 100+ byte data dir: %v", err)
	}
}

// TestCluster_UpExistingMissing: read-only callers never create a cluster;
// the directory stays as it was, absent or empty, and Down does nothing.
func TestCluster_UpExistingMissing(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		make bool
	}{{"Absent", false}, {"Empty", true}} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pg")
			if c.make {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			cl, err := pgcluster.New(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cl.UpExisting(ctx); !errors.Is(err, pgcluster.ErrNoCluster) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("UpExisting = %v, want ErrNoCluster naming %s", err, dir)
			}
			if err := cl.Down(ctx); err != nil {
				t.Fatalf("Down of a missing cluster: %v", err)
			}
			entries, err := os.ReadDir(dir)
			if c.make && (err != nil || len(entries) != 0) {
				t.Errorf("empty dir now holds %d entries (%v)", len(entries), err)
			}
			if !c.make && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("absent dir was created (%v)", err)
			}
		})
	}
}

func TestFindServer(t *testing.T) {
	dir, version, err := pgcluster.FindServer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
		t.Errorf("FindServer dir %s lacks initdb: %v", dir, err)
	}
	if major, _, _ := strings.Cut(version, "."); major == "" || strings.Trim(major, "0123456789") != "" {
		t.Errorf("version %q: want a PostgreSQL version such as 16.4", version)
	}
}

package pgcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sweep/sweep/pgcluster"
)

// TestCluster_UpPooler starts the cluster with its pooler, checks that the
// pooler's URL reaches the database, that its configuration is private and
// that a second UpPooler keeps the same URL, then that Down stops both.
func TestCluster_UpPooler(t *testing.T) {
	if _, err := pgcluster.PoolerBinary(); err != nil {
		t.Skipf("no pgbouncer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCluster(t)
	url, err := c.UpPooler(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Down(context.Background()) })
	ping(t, url)
	direct, err := c.URL()
	if err != nil {
		t.Fatal(err)
	}
	if url == direct {
		t.Fatalf("pooler URL is the server's: %s", url)
	}
	fi, err := os.Stat(filepath.Join(c.PoolerDir(), "pgbouncer.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("pgbouncer.ini mode %04o, want 0600", fi.Mode().Perm())
	}
	again, err := c.UpPooler(ctx)
	if err != nil || again != url {
		t.Errorf("second UpPooler = %q, %v; want %q", again, err, url)
	}
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tryPing(url); err == nil {
		t.Error("pooler still answers after Down")
	}
}

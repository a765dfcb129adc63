package postgres_test

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sweep/internal/pgtest"
	"sweep/sweep"
	"sweep/sweep/pgcluster"
	"sweep/sweep/storagetest"
)

// throughPooler returns dsn rewritten to reach the same database through a
// PgBouncer in transaction pooling mode with a pool of 2 server
// connections, so that consecutive transactions of one client often land
// on different server connections. It skips when pgbouncer is not
// installed or dsn is not a unix socket DSN of the private test cluster.
func throughPooler(t *testing.T, dsn string) string {
	t.Helper()
	if _, err := pgcluster.PoolerBinary(); err != nil {
		t.Skipf("no pgbouncer: %v", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	host, port := u.Query().Get("host"), u.Query().Get("port")
	if !strings.HasPrefix(host, "/") || port == "" {
		t.Skipf("pooler test needs the private test cluster's unix socket, not %s", u.Redacted())
	}
	p, _ := strconv.Atoi(port)
	// The pooler runs as the cluster's account: its directory must be
	// reachable by it, which t.TempDir's 0700 parents are not.
	dir, err := os.MkdirTemp("", "sweep-pgb-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pooler, err := pgcluster.StartPooler(ctx, pgcluster.PoolerConfig{Dir: dir, ServerSocketDir: host, ServerPort: p, PoolSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pooler.Stop(context.Background()) })
	return pooler.URL(strings.TrimPrefix(u.Path, "/"))
}

// TestStorage_ConformanceThroughPgBouncer runs the storage conformance suite
// through PgBouncer in transaction pooling mode: Storage must keep no
// session state across transactions.
func TestStorage_ConformanceThroughPgBouncer(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	dsns := map[*testing.T]string{}
	storagetest.Run(t, func(t *testing.T) sweep.Store {
		mu.Lock()
		defer mu.Unlock()
		dsn, ok := dsns[t]
		if !ok {
			dsn = throughPooler(t, pgtest.DSN(t))
			dsns[t] = dsn
		}
		return open(t, dsn)
	})
}

package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"sweep/internal/pgtest"
	"sweep/sweep"
	"sweep/sweep/postgres"
	"sweep/sweep/storagetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open returns a Storage on dsn, closed when t ends.
func open(t testing.TB, dsn string) *postgres.Storage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sharedDB gives each test its own database and every call within one test
// the same one, as storagetest.NewStore requires.
type sharedDB struct {
	mu   sync.Mutex
	dsns map[*testing.T]string
}

func (d *sharedDB) newStore(t *testing.T) sweep.Store {
	d.mu.Lock()
	dsn, ok := d.dsns[t]
	if !ok {
		dsn = pgtest.DSN(t)
		d.dsns[t] = dsn
	}
	d.mu.Unlock()
	return open(t, dsn)
}

func TestStorage_Conformance(t *testing.T) {
	d := &sharedDB{dsns: map[*testing.T]string{}}
	storagetest.Run(t, d.newStore)
}

var _ storagetest.MetricsReader = (*postgres.Storage)(nil)

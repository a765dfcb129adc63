package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

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

func TestStorage_TrialAttempt(t *testing.T) {
	s := open(t, pgtest.DSN(t))
	ctx := context.Background()
	st, _, err := s.EnsureStudy(ctx, sweep.StudyInfo{Name: "attempt", Direction: "minimize", Spec: []byte("x")}, false)
	must(t, err)
	cl, err := s.ClaimTrial(ctx, st.ID, "w", "h")
	must(t, err)
	if a, r, err := s.TrialAttempt(ctx, cl.TrialID); err != nil || a != 0 || r != 0 {
		t.Errorf("original: attempt %d, retry of %d, %v", a, r, err)
	}
	must(t, s.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateFail, 0, "stale"))
	id, _, err := s.RetryTrial(ctx, cl.TrialID, false)
	must(t, err)
	if a, r, err := s.TrialAttempt(ctx, id); err != nil || a != 1 || r != cl.TrialID {
		t.Errorf("retry: attempt %d, retry of %d, %v", a, r, err)
	}
	if _, _, err := s.TrialAttempt(ctx, -1); !errors.Is(err, goptuna.ErrInvalidTrialID) {
		t.Errorf("missing trial: %v", err)
	}
}

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
	t.Parallel()
	d := &sharedDB{dsns: map[*testing.T]string{}}
	storagetest.Run(t, d.newStore)
}

var _ storagetest.MetricsReader = (*postgres.Storage)(nil)

func TestStorage_TrialAttempt(t *testing.T) {
	t.Parallel()
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

// TestStorage_ClaimRecordsWorker: a claim stamps the worker's host and
// last activity in study_workers.
func TestStorage_ClaimRecordsWorker(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t))
	ctx := context.Background()
	st, _, err := s.EnsureStudy(ctx, sweep.StudyInfo{Name: "workers", Direction: "minimize", Spec: []byte("x")}, false)
	must(t, err)
	if _, err := s.WorkerIndex(ctx, st.ID, "w1"); err != nil {
		t.Fatal(err)
	}
	var last sweep.Claim
	for _, host := range []string{"gpu-a", "gpu-b"} { // a fresh trial, then a WAITING one
		if host == "gpu-b" {
			must(t, s.FinishTrial(ctx, last.TrialID, goptuna.TrialStateFail, 0, "x"))
			if _, _, err := s.RetryTrial(ctx, last.TrialID, false); err != nil {
				t.Fatal(err)
			}
		}
		if last, err = s.ClaimTrial(ctx, st.ID, "w1", host); err != nil {
			t.Fatal(err)
		}
		if host == "gpu-b" && last.Attempt != 1 {
			t.Errorf("second claim = %+v; want the WAITING retry", last)
		}
		var got string
		if err := s.DB().GetContext(ctx, &got, `SELECT host FROM study_workers WHERE worker_id = 'w1'`); err != nil || got != host {
			t.Errorf("study_workers.host = %q, %v; want %q", got, err, host)
		}
	}
}

package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/internal/pgtest"
	"sweep/sweep"
	"sweep/sweep/postgres"
)

// TestStorage_KilledConnections terminates every connection of the
// database again and again while workers claim and finish trials. Calls may
// fail, but the stored trials stay numbered 0..n-1 without gaps or
// duplicates, every claim that succeeded is stored, and the pool recovers.
func TestStorage_KilledConnections(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	killer := open(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, _, err := killer.EnsureStudy(ctx, sweep.StudyInfo{Name: "faults", Direction: "maximize", Spec: []byte("x")}, false)
	must(t, err)

	var stores []*postgres.Storage // opened before the killing starts
	for w := 0; w < 4; w++ {
		stores = append(stores, open(t, dsn))
	}
	stop := make(chan struct{})
	var kills sync.WaitGroup
	kills.Add(1)
	go func() {
		defer kills.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(15 * time.Millisecond):
			}
			_, _ = killer.DB().ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid()`)
		}
	}()
	var mu sync.Mutex
	claimed := map[int]int{} // number -> trial ID
	failures := 0
	var workers sync.WaitGroup
	for w, s := range stores {
		workers.Add(1)
		go func() {
			defer workers.Done()
			deadline := time.Now().Add(time.Second)
			for time.Now().Before(deadline) {
				cl, err := s.ClaimTrial(ctx, st.ID, fmt.Sprint("w", w), "h")
				if err == nil {
					err = s.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateComplete, 1, "")
					mu.Lock()
					claimed[cl.Number] = cl.TrialID
					mu.Unlock()
				}
				if err != nil {
					mu.Lock()
					failures++
					mu.Unlock()
				}
			}
		}()
	}
	workers.Wait()
	close(stop)
	kills.Wait()

	// The pool recovers: once the killing stops, every store claims and
	// finishes a trial again. A connection killed just before the end may
	// still fail one call (the driver sees it dead only on use), so each
	// store gets three tries. How many calls succeeded during the killing
	// depends on the machine's load, so it is logged, not asserted.
	during := len(claimed)
	for w, s := range stores {
		var err error
		for range 3 {
			var cl sweep.Claim
			if cl, err = s.ClaimTrial(ctx, st.ID, fmt.Sprint("after", w), "h"); err == nil {
				if err = s.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateComplete, 1, ""); err == nil {
					claimed[cl.Number] = cl.TrialID
					break
				}
			}
		}
		if err != nil {
			t.Errorf("store %d did not recover after the kills stopped: %v", w, err)
		}
	}

	all, err := open(t, dsn).GetAllTrials(st.ID)
	must(t, err)
	for i, tr := range all {
		if tr.Number != i {
			t.Fatalf("trial at position %d has number %d: numbers have a gap or duplicate", i, tr.Number)
		}
	}
	for n, id := range claimed {
		if n >= len(all) || all[n].ID != id {
			t.Errorf("successful claim of number %d (trial %d) is not stored", n, id)
		}
	}
	t.Logf("%d trials stored, %d claims succeeded under connection kills, %d calls failed", len(all), during, failures)
}

package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/sweep"
	"sweep/sweep/pgcluster"
)

// TestStorage_ServerRestart restarts PostgreSQL under an open Storage, as
// `pg_ctl restart` does in the chaos test: every call after the restart
// succeeds (no call sees the dead pooled connections).
func TestStorage_ServerRestart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := pgcluster.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.NoSync = true
	c.Settings = map[string]string{"fsync": "off"}
	srv, err := c.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Stop(context.Background()) }()
	s := open(t, srv.URL)
	st, _, err := s.EnsureStudy(ctx, sweep.StudyInfo{Name: "restart", Direction: "maximize", Spec: []byte("x")}, false)
	must(t, err)
	// Fill the pool with idle connections that the restart will kill.
	for i := 0; i < 3; i++ {
		go s.GetAllTrials(st.ID)
	}
	cl, err := s.ClaimTrial(ctx, st.ID, "w", "h")
	must(t, err)
	must(t, s.SetTrialIntermediateValue(cl.TrialID, 1, 0.5))
	time.Sleep(100 * time.Millisecond)

	must(t, srv.Stop(ctx))
	if srv, err = c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"Heartbeat", func() error { return s.Heartbeat(ctx, cl.TrialID) }},
		{"SetTrialIntermediateValue", func() error { return s.SetTrialIntermediateValue(cl.TrialID, 2, 0.6) }},
		{"RecordMetrics", func() error { return s.RecordMetrics(ctx, cl.TrialID, 2, map[string]float64{"loss": 1}) }},
		{"GetAllTrials", func() error { _, err := s.GetAllTrials(st.ID); return err }},
		{"FinishTrial", func() error { return s.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateComplete, 0.6, "") }},
		{"ClaimTrial", func() error { _, err := s.ClaimTrial(ctx, st.ID, "w", "h"); return err }},
	}
	for _, step := range steps {
		if err := step.fn(); err != nil {
			t.Errorf("%s after restart: %v", step.name, err)
		}
	}
	tr, err := s.GetTrial(cl.TrialID)
	must(t, err)
	if tr.State != goptuna.TrialStateComplete || len(tr.IntermediateValues) != 2 {
		t.Errorf("trial after restart = %+v", tr)
	}
}

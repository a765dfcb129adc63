package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/internal/pgtest"
	"sweep/sweep"
	"sweep/sweep/postgres"
)

// benchParams are the 8 parameters of every benchmark trial.
var benchParams = []struct {
	name string
	dist interface{}
	v    float64
}{
	{"lr", goptuna.LogUniformDistribution{Low: 1e-4, High: 1}, 0.01},
	{"momentum", goptuna.UniformDistribution{Low: 0.8, High: 0.99}, 0.9},
	{"weight_decay", goptuna.LogUniformDistribution{Low: 1e-6, High: 1e-2}, 1e-4},
	{"batch_size", goptuna.CategoricalDistribution{Choices: []string{"64", "128", "256"}}, 1},
	{"scheduler", goptuna.CategoricalDistribution{Choices: []string{"cosine", "step", "onecycle"}}, 2},
	{"width", goptuna.IntUniformDistribution{Low: 16, High: 128}, 64},
	{"depth", goptuna.StepIntUniformDistribution{Low: 2, High: 20, Step: 2}, 8},
	{"dropout", goptuna.DiscreteUniformDistribution{Low: 0, High: 0.5, Q: 0.1}, 0.2},
}

const (
	benchStored = 1000 // trials already in the study
	benchSteps  = 10   // intermediate values per trial
)

// seedStudy stores benchStored finished trials, each with the 8 params and
// 10 intermediate values, in bulk SQL (the API would take seconds).
func seedStudy(b *testing.B, s *postgres.Storage) int {
	ctx := context.Background()
	st, _, err := s.EnsureStudy(ctx, sweep.StudyInfo{Name: "bench", Direction: "maximize", Metric: "val_acc", Spec: []byte("bench")}, false)
	if err != nil {
		b.Fatal(err)
	}
	db := s.DB()
	for _, q := range []struct {
		sql string
		arg int
	}{
		{`INSERT INTO trials (study_id, number, state, value, started_at, finished_at, heartbeat_at)
		  SELECT $1, n, 'COMPLETE', random(), now(), now(), now() FROM generate_series(0, $2 - 1) n`, benchStored},
		{`UPDATE studies SET next_number = $2 WHERE id = $1`, benchStored},
		{`INSERT INTO trial_values (trial_id, step, value)
		  SELECT t.id, step, random() FROM trials t, generate_series(1, $2) step WHERE t.study_id = $1`, benchSteps},
	} {
		if _, err := db.ExecContext(ctx, q.sql, st.ID, q.arg); err != nil {
			b.Fatal(err)
		}
	}
	for _, p := range benchParams {
		dist, err := goptuna.DistributionToJSON(p.dist)
		if err != nil {
			b.Fatal(err)
		}
		x, _ := goptuna.ToExternalRepresentation(p.dist, p.v)
		if _, err := db.ExecContext(ctx, `
			INSERT INTO trial_params (trial_id, name, value, external, distribution)
			SELECT id, $2, $3, to_jsonb($4::text), $5 FROM trials WHERE study_id = $1`,
			st.ID, p.name, p.v, fmt.Sprint(x), string(dist)); err != nil {
			b.Fatal(err)
		}
	}
	return st.ID
}

// BenchmarkStorage_Trial measures the database cost of one trial as a worker
// incurs it: claim, 8 params, 10 intermediate values, finish, and one
// GetAllTrials as a sampler does, on a study that already has 1000 trials.
// The goal is ≤ 10 ms per trial.
func BenchmarkStorage_Trial(b *testing.B) {
	s := open(b, pgtest.DSN(b))
	studyID := seedStudy(b, s)
	ctx := context.Background()
	if _, err := s.GetAllTrials(studyID); err != nil { // a running worker's cache is warm
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		cl, err := s.ClaimTrial(ctx, studyID, "bench", "host")
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range benchParams {
			if err := s.SetTrialParam(cl.TrialID, p.name, p.v, p.dist); err != nil {
				b.Fatal(err)
			}
		}
		for step := 1; step <= benchSteps; step++ {
			if err := s.SetTrialIntermediateValue(cl.TrialID, step, float64(step)); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.FinishTrial(ctx, cl.TrialID, goptuna.TrialStateComplete, 0.5, ""); err != nil {
			b.Fatal(err)
		}
		all, err := s.GetAllTrials(studyID)
		if err != nil {
			b.Fatal(err)
		}
		if len(all) != benchStored+i+1 {
			b.Fatalf("%d trials; want %d", len(all), benchStored+i+1)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/trial")
}

// BenchmarkStorage_GetAllTrials compares reading the 1000-trial study with
// a warm finished-trial cache (a worker's steady state) and cold (a fresh
// Storage each time, which loads every trial's params and values).
func BenchmarkStorage_GetAllTrials(b *testing.B) {
	dsn := pgtest.DSN(b)
	s := open(b, dsn)
	studyID := seedStudy(b, s)
	b.Run("Cached", func(b *testing.B) {
		if _, err := s.GetAllTrials(studyID); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := s.GetAllTrials(studyID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			fresh := open(b, dsn)
			b.StartTimer()
			if _, err := fresh.GetAllTrials(studyID); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			fresh.Close()
			b.StartTimer()
		}
	})
}

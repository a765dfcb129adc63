// Package reportstest builds deterministic synthetic studies in a
// PostgreSQL database, with plain SQL inserts laid out as sweep/postgres
// stores them, for report tests and benchmarks in any package.
//
// It does not run a sampler or an objective: curves come from a closed-form
// learning-curve model, so every number in a report is reproducible.
package reportstest

import (
	"context"
	"encoding/json"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"sweep/internal/pgtest"
	schema "sweep/sql"
)

// OpenDB returns a fresh test database with sweep's migrations and views
// applied in the order the migration runner uses (files sorted by name).
func OpenDB(tb testing.TB) *sqlx.DB {
	tb.Helper()
	db, err := sqlx.Open("postgres", pgtest.DSN(tb))
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	for _, dir := range []struct {
		fsys fs.FS
		glob string
	}{{schema.Migrations, "migrations/*.sql"}, {schema.Views, "views/*.sql"}} {
		names, err := fs.Glob(dir.fsys, dir.glob)
		if err != nil {
			tb.Fatal(err)
		}
		sort.Strings(names)
		for _, n := range names {
			body, err := fs.ReadFile(dir.fsys, n)
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := db.Exec(string(body)); err != nil {
				tb.Fatalf("apply %s: %v", n, err)
			}
		}
	}
	return db
}

// Spec is the synthetic study's spec as a user would write it; format it
// with the study name and trial budget.
const Spec = `study: %s
direction: maximize
metric: val_acc
trials: %d
workers: 2
sampler: {type: tpe, seed: 1, startup_trials: 10}
pruner: {type: median, startup_trials: 5, warmup_steps: 2}
objective:
  type: synthetic
  epochs: 10          # epochs per trial
  epoch_seconds: 0.05
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  momentum: {type: float, low: 0.8, high: 0.99}
  batch_size: {type: categorical, choices: [64, 128, 256]}
  optimizer: {type: categorical, choices: [sgd, adamw]}
  scheduler:
    type: categorical
    choices: [cosine, step, onecycle]
    conditional:
      step:
        step_size: {type: int, low: 5, high: 30}
`

// rng is a tiny deterministic generator (SplitMix64), so fixtures never
// depend on math/rand's algorithm or seeding.
type rng uint64

func (r *rng) float() float64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// Trial is one synthetic trial.
type Trial struct {
	ID, Number int
	State      string
	Value      *float64
	Params     map[string]any
	Curve      []float64
	Started    time.Time
	EpochSec   float64
	Worker     string
	Host       string
	TestAcc    string
}

// MakeTrials builds n deterministic trials of a synthetic CIFAR-like study:
// accuracy rises with epochs towards a ceiling set by the params; trials
// whose curve lags the running median at epoch 3 are pruned there; every
// 17th trial fails; the last one is still WAITING.
func MakeTrials(n int, seed uint64, t0 time.Time) []Trial {
	r := rng(seed)
	var out []Trial
	var atEpoch3 []float64
	clock := t0
	for i := 0; i < n; i++ {
		lr := math.Exp(math.Log(1e-4) + r.float()*(math.Log(1)-math.Log(1e-4)))
		mom := 0.8 + 0.19*r.float()
		bs := []int{64, 128, 256}[int(r.float()*3)]
		opt := []string{"sgd", "adamw"}[int(r.float()*2)]
		sched := []string{"cosine", "step", "onecycle"}[int(r.float()*3)]
		params := map[string]any{"lr": lr, "momentum": mom, "batch_size": strconv.Itoa(bs), "optimizer": opt, "scheduler": sched}
		if sched == "step" {
			params["step_size"] = float64(5 + int(r.float()*26))
		}
		best := 0.1
		if opt == "adamw" {
			best = 0.003
		}
		dist := math.Abs(math.Log10(lr) - math.Log10(best))
		ceiling := 0.93 - 0.12*dist*dist - 0.1*math.Abs(mom-0.9)
		if sched == "onecycle" {
			ceiling += 0.015
		}
		ceiling = math.Max(0.1, ceiling)
		tau := 1.5 + 3*dist + float64(bs)/256
		tr := Trial{ID: i + 1, Number: i, Params: params, Started: clock,
			EpochSec: 2 + float64(bs)/64, Worker: []string{"w1", "w2", "w3"}[i%3], Host: []string{"h1", "h2"}[i%3/2]}
		epochs := 10
		for e := 1; e <= epochs; e++ {
			v := 0.1 + (ceiling-0.1)*(1-math.Exp(-float64(e)/tau)) + 0.004*(r.float()-0.5)
			tr.Curve = append(tr.Curve, math.Round(v*1e4)/1e4)
			if e == 3 {
				atEpoch3 = append(atEpoch3, v)
				if len(atEpoch3) > 5 && v < medianOf(atEpoch3) {
					break
				}
			}
		}
		last := tr.Curve[len(tr.Curve)-1]
		switch {
		case i == n-1 && n > 3:
			tr.State, tr.Curve, tr.Params = "WAITING", nil, map[string]any{}
		case i%17 == 16:
			tr.State, tr.Curve = "FAIL", tr.Curve[:2]
		case len(tr.Curve) < epochs:
			tr.State, tr.Value = "PRUNED", &last
		default:
			tr.State, tr.Value = "COMPLETE", &last
			tr.TestAcc = formatAcc(last - 0.008)
		}
		clock = clock.Add(time.Duration(float64(len(tr.Curve))*tr.EpochSec*float64(time.Second)/2) + time.Second)
		out = append(out, tr)
	}
	return out
}

func formatAcc(v float64) string { b, _ := json.Marshal(math.Round(v*1e4) / 1e4); return string(b) }

func medianOf(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// Insert stores a study and its trials with plain SQL, the way the
// storage package lays them out. Bulk rows go through jsonb_to_recordset so
// that a 1000-trial fixture takes one statement per table.
func Insert(tb testing.TB, db *sqlx.DB, name, spec string, trials []Trial, t0 time.Time) {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	var studyID int
	err = tx.Get(&studyID, `INSERT INTO studies (name, direction, metric, spec, status, trial_budget, next_number, created_at, finished_at)
		VALUES ($1, 'maximize', 'val_acc', $2, 'finished', $3, $3, $4, $5) RETURNING id`,
		name, spec, len(trials), t0, t0.Add(time.Hour))
	if err != nil {
		tb.Fatalf("insert study: %v", err)
	}
	type tRow struct {
		ID       int        `json:"id"`
		Number   int        `json:"number"`
		State    string     `json:"state"`
		Value    *float64   `json:"value"`
		Worker   *string    `json:"worker"`
		Host     *string    `json:"host"`
		Started  *time.Time `json:"started"`
		Finished *time.Time `json:"finished"`
		Reason   string     `json:"reason"`
	}
	type vRow struct {
		Trial int       `json:"trial"`
		Step  int       `json:"step"`
		Value float64   `json:"value"`
		At    time.Time `json:"at"`
	}
	type aRow struct {
		Trial int    `json:"trial"`
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	// Empty, not nil: jsonb_to_recordset needs an array even with no rows
	// (a study whose trials all failed has no metrics or attrs).
	ts, ps, vs, ms, as := []tRow{}, []pRow{}, []vRow{}, []mRow{}, []aRow{}
	base := 0
	_ = tx.Get(&base, `SELECT COALESCE(max(id), 0) FROM trials`)
	for _, t := range trials {
		id := base + t.ID
		row := tRow{ID: id, Number: t.Number, State: t.State, Value: t.Value}
		if t.State != "WAITING" {
			st, fin := t.Started, t.Started.Add(time.Duration(float64(len(t.Curve))*t.EpochSec*float64(time.Second)))
			w, h := t.Worker, t.Host
			row.Started, row.Finished, row.Worker, row.Host = &st, &fin, &w, &h
		}
		if t.State == "FAIL" {
			row.Reason = "objective: loss is NaN"
		}
		ts = append(ts, row)
		for name, v := range t.Params {
			ps = append(ps, paramRow(id, name, v))
		}
		for e, v := range t.Curve {
			vs = append(vs, vRow{id, e + 1, v, t.Started.Add(time.Duration(float64(e+1) * t.EpochSec * float64(time.Second)))})
		}
		if t.State == "COMPLETE" {
			as = append(as, aRow{id, "test_acc", t.TestAcc})
			ms = append(ms, metricRows(id, t)...)
		}
	}
	bulk := []struct {
		rows any
		sql  string
	}{
		{ts, `INSERT INTO trials (id, study_id, number, state, value, worker_id, host, started_at, finished_at, heartbeat_at, reason)
			SELECT id, $2, number, state, value, worker, host, started, finished, finished, reason
			FROM jsonb_to_recordset($1::jsonb) AS x(id int, number int, state text, value float8, worker text, host text,
				started timestamptz, finished timestamptz, reason text)`},
		{ps, `INSERT INTO trial_params (trial_id, name, value, external, distribution)
			SELECT trial, name, value, ext, dist FROM jsonb_to_recordset($1::jsonb) AS x(trial int, name text, value float8, ext jsonb, dist jsonb)
			WHERE $2 > 0`},
		{vs, `INSERT INTO trial_values (trial_id, step, value, recorded_at)
			SELECT trial, step, value, at FROM jsonb_to_recordset($1::jsonb) AS x(trial int, step int, value float8, at timestamptz)
			WHERE $2 > 0`},
		{ms, `INSERT INTO trial_metrics (trial_id, step, name, value)
			SELECT trial, step, name, value FROM jsonb_to_recordset($1::jsonb) AS x(trial int, step int, name text, value float8)
			WHERE $2 > 0`},
		{as, `INSERT INTO trial_user_attrs (trial_id, key, value)
			SELECT trial, key, value FROM jsonb_to_recordset($1::jsonb) AS x(trial int, key text, value text)
			WHERE $2 > 0`},
	}
	for _, b := range bulk {
		payload, err := json.Marshal(b.rows)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := tx.Exec(b.sql, string(payload), studyID); err != nil {
			tb.Fatalf("insert fixture rows: %v", err)
		}
	}
	_, err = tx.Exec(`INSERT INTO study_workers (study_id, worker_id, idx, host, first_seen, last_seen)
		VALUES ($1, 'w1', 0, 'h1', $2, $2), ($1, 'w2', 1, 'h1', $2, $2), ($1, 'w3', 2, 'h2', $2, $2)`, studyID, t0)
	if err != nil {
		tb.Fatalf("insert workers: %v", err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

type pRow struct {
	Trial int             `json:"trial"`
	Name  string          `json:"name"`
	Value float64         `json:"value"`
	Ext   any             `json:"ext"`
	Dist  json.RawMessage `json:"dist"`
}

type mRow struct {
	Trial int     `json:"trial"`
	Step  int     `json:"step"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// paramRow encodes a param the way goptuna's storage does: internal value
// (a categorical's index), external value and DistributionToJSON.
func paramRow(trial int, name string, v any) pRow {
	dists := map[string]string{
		"lr":         `{"name":"LogUniformDistribution","attributes":{"low":0.0001,"high":1}}`,
		"momentum":   `{"name":"UniformDistribution","attributes":{"low":0.8,"high":0.99}}`,
		"batch_size": `{"name":"CategoricalDistribution","attributes":{"choices":["64","128","256"]}}`,
		"optimizer":  `{"name":"CategoricalDistribution","attributes":{"choices":["sgd","adamw"]}}`,
		"scheduler":  `{"name":"CategoricalDistribution","attributes":{"choices":["cosine","step","onecycle"]}}`,
		"step_size":  `{"name":"IntUniformDistribution","attributes":{"low":5,"high":30}}`,
	}
	internal := 0.0
	switch x := v.(type) {
	case float64:
		internal = x
	case string:
		// goptuna stores a categorical's external value as the choice's string.
		internal = float64(map[string]int{"sgd": 0, "adamw": 1, "cosine": 0, "step": 1, "onecycle": 2,
			"64": 0, "128": 1, "256": 2}[x])
	}
	return pRow{trial, name, internal, v, json.RawMessage(dists[name])}
}

// metricRows makes per-epoch training metrics like the cifar10 objective
// stores: a cosine learning rate, a decaying gradient norm and losses.
func metricRows(trial int, t Trial) []mRow {
	type m = mRow
	lr, ok := t.Params["lr"].(float64)
	if !ok { // a trial that did not sample lr (a conditional space)
		lr = 0.1
	}
	var out []m
	n := len(t.Curve)
	for e := 1; e <= n; e++ {
		c := 0.5 * (1 + math.Cos(math.Pi*float64(e-1)/float64(n)))
		acc := t.Curve[e-1]
		out = append(out,
			m{trial, e, "lr", round6(lr * c)},
			m{trial, e, "grad_norm", round6(4 * math.Exp(-float64(e)/4) * (1 + 0.1*c))},
			m{trial, e, "train_loss", round6(2.3 * (1 - acc) * 1.1)},
			m{trial, e, "val_loss", round6(2.3 * (1 - acc))},
		)
	}
	return out
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

package objective_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"sweep/objective"
)

// recorder is a Reporter that records values and prunes at a given step.
type recorder struct {
	number  int
	pruneAt int
	values  []float64
	metrics int
}

func (r *recorder) Report(step int, v float64) (bool, error) {
	r.values = append(r.values, v)
	return step == r.pruneAt, nil
}
func (r *recorder) TrialID() (string, int) { return "s", r.number }
func (r *recorder) RecordMetrics(step int, m map[string]float64) error {
	r.metrics++
	return nil
}

var space = []objective.SyntheticParam{
	{Name: "lr", Low: 1e-4, High: 1, Log: true},
	{Name: "momentum", Low: 0.8, High: 0.99},
	{Name: "opt", Choices: []string{"sgd", "adamw", "lion"}},
}

func newSynthetic(tb testing.TB, mut func(*objective.SyntheticConfig)) *objective.Synthetic {
	tb.Helper()
	cfg := objective.DefaultSyntheticConfig()
	if mut != nil {
		mut(&cfg)
	}
	s, err := objective.NewSynthetic(cfg, space)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func run(tb testing.TB, s *objective.Synthetic, p objective.Params, r *recorder) (objective.Result, error) {
	tb.Helper()
	return s.Run(context.Background(), p, r)
}

func TestSynthetic_Run(t *testing.T) {
	s := newSynthetic(t, nil)
	p := objective.Params{"lr": 0.03, "momentum": 0.9, "opt": "adamw"}
	a, b, c := &recorder{number: 4}, &recorder{number: 4}, &recorder{number: 5}
	ra, err := run(t, s, p, a)
	if err != nil {
		t.Fatal(err)
	}
	run(t, s, p, b)
	run(t, s, p, c)
	if len(a.values) != 10 || a.metrics != 10 {
		t.Fatalf("reported %d values, %d metrics; want 10 each", len(a.values), a.metrics)
	}
	if ra.Value != a.values[9] {
		t.Errorf("result %v != last report %v", ra.Value, a.values[9])
	}
	for i := range a.values {
		if a.values[i] != b.values[i] {
			t.Fatalf("same trial not reproducible at epoch %d: %v vs %v", i+1, a.values[i], b.values[i])
		}
	}
	if a.values[9] == c.values[9] {
		t.Errorf("trial 4 and 5 got identical noise")
	}
	if a.values[9] <= a.values[0] {
		t.Errorf("curve does not rise: first %v last %v", a.values[0], a.values[9])
	}
}

func TestSynthetic_Landscape(t *testing.T) {
	s := newSynthetic(t, nil)
	q := func(lr float64, opt string) float64 {
		return s.Quality(objective.Params{"lr": lr, "momentum": 0.9, "opt": opt})
	}
	if !(q(0.03, "sgd") > q(1e-4, "sgd")+0.2 && q(0.03, "sgd") > q(0.9, "sgd")+0.2) {
		t.Errorf("no lr sweet spot: q(1e-4)=%.3f q(0.03)=%.3f q(0.9)=%.3f", q(1e-4, "sgd"), q(0.03, "sgd"), q(0.9, "sgd"))
	}
	lo, hi := 1.0, 0.0
	for _, o := range []string{"sgd", "adamw", "lion"} {
		lo, hi = min(lo, q(0.03, o)), max(hi, q(0.03, o))
	}
	if hi-lo < 0.02 {
		t.Errorf("categorical choice barely matters: spread %.3f", hi-lo)
	}
	if s.Quality(objective.Params{"unknown": 3}) != 0.5 {
		t.Errorf("params outside the space should be ignored")
	}
}

func TestSynthetic_Prune(t *testing.T) {
	s := newSynthetic(t, nil)
	r := &recorder{pruneAt: 3}
	_, err := run(t, s, objective.Params{"lr": 0.5}, r)
	if !errors.Is(err, objective.ErrPruned) || len(r.values) != 3 {
		t.Fatalf("err %v after %d reports; want ErrPruned after 3", err, len(r.values))
	}
}

func TestSynthetic_Fail(t *testing.T) {
	s := newSynthetic(t, func(c *objective.SyntheticConfig) { c.FailRate = 1 })
	r := &recorder{}
	_, err := run(t, s, objective.Params{"lr": 0.5}, r)
	if !errors.Is(err, objective.ErrSimulatedFailure) || len(r.values) != 4 {
		t.Fatalf("err %v after %d reports; want simulated failure after 4", err, len(r.values))
	}
}

func TestSynthetic_Cancel(t *testing.T) {
	s := newSynthetic(t, func(c *objective.SyntheticConfig) { c.EpochSeconds = 60 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := s.Run(ctx, objective.Params{}, &recorder{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestSyntheticConfig_Validate(t *testing.T) {
	bad := []objective.SyntheticConfig{
		{Epochs: 0}, {Epochs: 1, EpochSeconds: -1}, {Epochs: 1, Noise: 2}, {Epochs: 1, FailRate: 1.5},
	}
	for _, c := range bad {
		if _, err := objective.NewSynthetic(c, nil); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

func TestSynthetic_Steps(t *testing.T) {
	// Steps is what Run reports, so the display's "step 3/7" is true.
	s := newSynthetic(t, func(c *objective.SyntheticConfig) { c.Epochs = 7 })
	p := objective.Params{"lr": 0.03, "momentum": 0.9, "opt": "adamw"}
	r := &recorder{}
	if _, err := run(t, s, p, r); err != nil {
		t.Fatal(err)
	}
	if got := objective.StepsOf(s, p); got != 7 || len(r.values) != 7 {
		t.Errorf("Steps %d, Run reported %d steps; want 7 and 7", got, len(r.values))
	}
}

func TestSynthetic_MultiObjective(t *testing.T) {
	space := []objective.SyntheticParam{{Name: "b", Low: 0, High: 2}, {Name: "a", Low: 1e-3, High: 1e-1, Log: true}, {Name: "c", Choices: []string{"x"}}}
	o, err := objective.NewSynthetic(objective.SyntheticConfig{Epochs: 3, Function: "zdt1"}, space)
	if err != nil {
		t.Fatal(err)
	}
	// a = 1e-2 sits halfway on its log scale (x0 = 0.5), b = 0 at the
	// bottom (x1 = 0): on ZDT1's front, f2 = 1 − √0.5.
	res, err := o.Run(context.Background(), objective.Params{"a": 1e-2, "b": 0.0, "c": "x"}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if _, err := o.Run(context.Background(), objective.Params{"a": 1e-2, "b": 0.0}, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.values) != 3 || math.Abs(rec.values[2]-0.5) > 1e-12 {
		t.Errorf("intermediate values %v; want f1 = 0.5 at each of 3 epochs", rec.values)
	}
	if math.Abs(res.Value-0.5) > 1e-12 || math.Abs(res.Metrics["f1"]-0.5) > 1e-12 || math.Abs(res.Metrics["f2"]-(1-math.Sqrt(0.5))) > 1e-12 {
		t.Fatalf("result %+v; want f1 = 0.5, f2 = 1 − √0.5", res)
	}
	if _, err := objective.NewSynthetic(objective.SyntheticConfig{Epochs: 3, Function: "dtlz2"}, space); err == nil {
		t.Error("dtlz2 over 2 numeric params: want an error (it needs 3)")
	}
	if err := (objective.SyntheticConfig{Epochs: 3, Function: "zdt3"}).Validate(); err == nil {
		t.Error("function zdt3 validated")
	}
}

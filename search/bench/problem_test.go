package bench

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/c-bata/goptuna"
)

func TestProblem_Optimum(t *testing.T) {
	cases := []struct {
		p   Problem
		arg map[string]float64
	}{
		{Branin(), map[string]float64{"x1": math.Pi, "x2": 2.275}},
		{Hartmann6(), map[string]float64{"x0": 0.20169, "x1": 0.150011, "x2": 0.476874, "x3": 0.275332, "x4": 0.311652, "x5": 0.6573}},
		{LogRosenbrock5(), map[string]float64{"x0": 10, "x1": 10, "x2": 10, "x3": 10, "x4": 10}},
		{Mixed(), map[string]float64{"c1": 0, "c2": 2, "u1": 0.8, "u2": 0.8, "u3": 0.8, "k": 7}},
	}
	for _, c := range cases {
		if got := c.p.Eval(c.arg); math.Abs(got-c.p.Optimum) > 1e-5 {
			t.Errorf("%s at its minimiser = %.6f, want %.6f", c.p.Name, got, c.p.Optimum)
		}
	}
}

// TestProblem_NoValueBelowOptimum samples each problem at random and checks
// that no point beats the stated minimum (regret is never negative).
func TestProblem_NoValueBelowOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ask := func(_ string, d any) (float64, error) {
		switch d := d.(type) {
		case goptuna.UniformDistribution:
			return d.Low + rng.Float64()*(d.High-d.Low), nil
		case goptuna.LogUniformDistribution:
			return math.Exp(math.Log(d.Low) + rng.Float64()*(math.Log(d.High)-math.Log(d.Low))), nil
		case goptuna.IntUniformDistribution:
			return float64(d.Low + rng.IntN(d.High-d.Low+1)), nil
		case goptuna.CategoricalDistribution:
			return float64(rng.IntN(len(d.Choices))), nil
		}
		t.Fatalf("unexpected distribution %T", d)
		return 0, nil
	}
	for _, p := range Problems() {
		for range 5000 {
			x, err := p.Ask(ask)
			if err != nil {
				t.Fatal(err)
			}
			if v := p.Eval(x); v < p.Optimum-1e-9 {
				t.Fatalf("%s: %v gives %g below the optimum %g", p.Name, x, v, p.Optimum)
			}
		}
	}
}

func TestRunStudy_ParallelWorkers(t *testing.T) {
	// A 4-worker run evaluates every trial exactly once, like a sequential one.
	for _, m := range Methods() {
		vals, err := RunStudy(Branin(), m, 1, 16)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		for i, v := range vals {
			if v == 0 || math.IsNaN(v) {
				t.Fatalf("%s: trial %d has no value", m.Name, i)
			}
		}
	}
}

func TestPruneStudy_Budget(t *testing.T) {
	o, err := pruneStudy(Surrogate(), Methods()[0], nil, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if o.epochs != 10*Epochs || o.pruned != 0 || o.epochsAt[9] != 10*Epochs {
		t.Fatalf("unpruned study: %d epochs, %d pruned", o.epochs, o.pruned)
	}
	if got := o.bestWithin(2 * Epochs); got != math.Min(o.vals[0], o.vals[1]) {
		t.Fatalf("best within 2 trials' epochs = %g, want %g", got, math.Min(o.vals[0], o.vals[1]))
	}
}

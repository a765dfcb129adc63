package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
		{Rastrigin4(), map[string]float64{"x0": 0, "x1": 0, "x2": 0, "x3": 0}},
		{Ackley5(), map[string]float64{"x0": 0, "x1": 0, "x2": 0, "x3": 0, "x4": 0}},
		{StyblinskiTang4(), map[string]float64{"x0": -2.903534, "x1": -2.903534, "x2": -2.903534, "x3": -2.903534}},
		{Levy6(), map[string]float64{"x0": 1, "x1": 1, "x2": 1, "x3": 1, "x4": 1, "x5": 1}},
		{MixedCat(), map[string]float64{"kernel": 0, "norm": 1, "a": 0.25, "b": 0.25, "c": 0.25, "freq": 4}},
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
	for _, p := range slices.Concat(Problems(), HoldOut(), HoldOut2()) {
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

// TestProblem_MatchesPython checks that optuna_bench.py defines every
// problem as problem.go does: the same value at random points. It needs a
// python3 (or $PYTHON) but not Optuna; it is skipped without one.
func TestProblem_MatchesPython(t *testing.T) {
	py := os.Getenv("PYTHON")
	if py == "" {
		py = "python3"
	}
	if _, err := exec.LookPath(py); err != nil {
		t.Skipf("no %s: %v", py, err)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "optuna_bench.py")
	if err := os.WriteFile(script, optunaScript, 0o644); err != nil {
		t.Fatal(err)
	}
	o := &Optuna{env: OptunaEnv{Python: py}, script: script}
	rng := rand.New(rand.NewPCG(3, 4))
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
		return 0, fmt.Errorf("unexpected distribution %T", d)
	}
	for _, p := range Problems() {
		var pts []map[string]float64
		for range 40 {
			x, err := p.Ask(ask)
			if err != nil {
				t.Fatal(err)
			}
			pts = append(pts, x)
		}
		got, err := o.Eval(context.Background(), p.Key, pts)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range pts {
			if want := p.Eval(x); math.Abs(got[i]-want) > 1e-9*(1+math.Abs(want)) {
				t.Errorf("%s at %v: python %.12g, Go %.12g", p.Key, x, got[i], want)
			}
		}
	}
}

func TestCmpVersion(t *testing.T) {
	if cmpVersion("Optuna 5.0.0.dev", "Optuna 3.1.0") <= 0 || cmpVersion("Optuna 4.10.0", "Optuna 4.9.1") <= 0 ||
		cmpVersion("Optuna 3.1.0", "Optuna 3.1.0") != 0 {
		t.Fatal("cmpVersion orders versions wrongly")
	}
}

func TestHoldOut_Optimum(t *testing.T) {
	cases := []struct {
		p   Problem
		arg map[string]float64
	}{
		{SixHumpCamel(), map[string]float64{"x0": 0.0898420131003, "x1": -0.712656403020}},
		{GoldsteinPrice(), map[string]float64{"x0": 0, "x1": -1}},
		{Hartmann3(), map[string]float64{"x0": 0.114614, "x1": 0.555649, "x2": 0.852547}},
		{Michalewicz5(), map[string]float64{"x0": 2.202906, "x1": 1.570796, "x2": 1.284992, "x3": 1.923058, "x4": 1.720470}},
		{Shekel4(), map[string]float64{"x0": 4.00074687, "x1": 3.99950948, "x2": 4.00074687, "x3": 3.99950948}},
		{Griewank5(), map[string]float64{"x0": 0, "x1": 0, "x2": 0, "x3": 0, "x4": 0}},
		{Zakharov5(), map[string]float64{"x0": 0, "x1": 0, "x2": 0, "x3": 0, "x4": 0}},
		{MixedBowls(), map[string]float64{"bowl": 1, "init": 2, "u0": 0.3, "u1": 0.3, "u2": 0.3, "u3": 0.3, "k": 9}},
	}
	if len(cases) != len(HoldOut()) {
		t.Fatalf("%d cases for %d hold-out problems", len(cases), len(HoldOut()))
	}
	for _, c := range cases {
		if got := c.p.Eval(c.arg); math.Abs(got-c.p.Optimum) > 1e-5 {
			t.Errorf("%s at its minimiser = %.8f, want %.8f", c.p.Name, got, c.p.Optimum)
		}
	}
}

func TestHoldOut2_Optimum(t *testing.T) {
	cases := []struct {
		p   Problem
		arg map[string]float64
	}{
		{Himmelblau(), map[string]float64{"x0": 3, "x1": 2}},
		{Beale(), map[string]float64{"x0": 3, "x1": 0.5}},
		{ThreeHumpCamel(), map[string]float64{"x0": 0, "x1": 0}},
		{Colville4(), map[string]float64{"x0": 1, "x1": 1, "x2": 1, "x3": 1}},
		{Schwefel4(), map[string]float64{"x0": 420.968746, "x1": 420.968746, "x2": 420.968746, "x3": 420.968746}},
		{Trid6(), map[string]float64{"x0": 6, "x1": 10, "x2": 12, "x3": 12, "x4": 10, "x5": 6}},
		{Powell8(), map[string]float64{"x0": 0, "x1": 0, "x2": 0, "x3": 0, "x4": 0, "x5": 0, "x6": 0, "x7": 0}},
		{MixedChoice(), map[string]float64{"model": 3, "flag": 1, "u": 0.6, "v": 0.2, "k": 5}},
	}
	if len(cases) != len(HoldOut2()) {
		t.Fatalf("%d cases for %d problems", len(cases), len(HoldOut2()))
	}
	for _, c := range cases {
		if got := c.p.Eval(c.arg); math.Abs(got-c.p.Optimum) > 1e-4 {
			t.Errorf("%s at its minimiser = %.8f, want %.8f", c.p.Name, got, c.p.Optimum)
		}
	}
}

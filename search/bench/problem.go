// Package bench measures sweep's samplers and pruners against random search
// and goptuna's shipped TPE on standard test functions and a synthetic
// learning-curve surrogate of an image-classifier study, and renders the
// results as Markdown (docs/search-benchmarks.md, via `make bench-search`).
//
// Everything runs in memory on goptuna.InMemoryStorage; nothing here trains
// a model or touches PostgreSQL.
package bench

import (
	"math"

	"github.com/c-bata/goptuna"
)

// Asker suggests one param for the current trial and returns its internal
// value (category index for categoricals).
type Asker func(name string, dist any) (float64, error)

// Problem is an objective to minimise with a known minimum.
type Problem struct {
	Name    string
	Key     string // short name, also the function's name in optuna_bench.py
	Optimum float64
	// Ask suggests the trial's params through ask, conditional ones only
	// when their parent choice is drawn.
	Ask  func(ask Asker) (map[string]float64, error)
	Eval func(p map[string]float64) float64
}

// askAll suggests a fixed list of params in order.
func askAll(ask Asker, names []string, dists []any) (map[string]float64, error) {
	p := make(map[string]float64, len(names))
	for i, n := range names {
		v, err := ask(n, dists[i])
		if err != nil {
			return nil, err
		}
		p[n] = v
	}
	return p, nil
}

// Branin is the 2-D Branin-Hoo function on [-5, 10] × [0, 15].
func Branin() Problem {
	names := []string{"x1", "x2"}
	dists := []any{goptuna.UniformDistribution{Low: -5, High: 10}, goptuna.UniformDistribution{Low: 0, High: 15}}
	return Problem{
		Name: "Branin (2-D)", Key: "branin", Optimum: 0.397887357729738,
		Ask: func(ask Asker) (map[string]float64, error) { return askAll(ask, names, dists) },
		Eval: func(p map[string]float64) float64 {
			x1, x2 := p["x1"], p["x2"]
			b, c, t := 5.1/(4*math.Pi*math.Pi), 5/math.Pi, 1/(8*math.Pi)
			return math.Pow(x2-b*x1*x1+c*x1-6, 2) + 10*(1-t)*math.Cos(x1) + 10
		},
	}
}

var (
	hartAlpha = [4]float64{1.0, 1.2, 3.0, 3.2}
	hartA     = [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8},
		{0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8},
		{17, 8, 0.05, 10, 0.1, 14},
	}
	hartP = [4][6]float64{
		{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
		{0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
		{0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
		{0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381},
	}
)

// Hartmann6 is the 6-D Hartmann function on [0, 1]^6.
func Hartmann6() Problem {
	names := []string{"x0", "x1", "x2", "x3", "x4", "x5"}
	dists := make([]any, 6)
	for i := range dists {
		dists[i] = goptuna.UniformDistribution{Low: 0, High: 1}
	}
	return Problem{
		Name: "Hartmann-6", Key: "hartmann6", Optimum: -3.32236801141551,
		Ask: func(ask Asker) (map[string]float64, error) { return askAll(ask, names, dists) },
		Eval: func(p map[string]float64) float64 {
			f := 0.0
			for i := range 4 {
				s := 0.0
				for j, n := range names {
					d := p[n] - hartP[i][j]
					s += hartA[i][j] * d * d
				}
				f -= hartAlpha[i] * math.Exp(-s)
			}
			return f
		},
	}
}

// LogRosenbrock5 is the 5-D Rosenbrock function searched on a log scale:
// each param is log-uniform on [1e-2, 1e2] and enters as z = log10(x) in
// [-2, 2], so the optimum z = 1 sits at x = 10, as a learning rate's optimum
// sits decades away from its bounds.
func LogRosenbrock5() Problem {
	names := []string{"x0", "x1", "x2", "x3", "x4"}
	dists := make([]any, 5)
	for i := range dists {
		dists[i] = goptuna.LogUniformDistribution{Low: 1e-2, High: 1e2}
	}
	return Problem{
		Name: "Rosenbrock-5D (log-scaled)", Key: "rosenbrock5log", Optimum: 0,
		Ask: func(ask Asker) (map[string]float64, error) { return askAll(ask, names, dists) },
		Eval: func(p map[string]float64) float64 {
			f := 0.0
			for i := 0; i+1 < len(names); i++ {
				a, b := math.Log10(p[names[i]]), math.Log10(p[names[i+1]])
				f += 100*(b-a*a)*(b-a*a) + (1-a)*(1-a)
			}
			return f
		},
	}
}

// Mixed combines two categoricals (one shifting the value, one moving the
// continuous optimum), three floats and an int. Its minimum 0 is at c1 = a,
// c2 = z, u = 0.8, k = 7.
func Mixed() Problem {
	names := []string{"c1", "c2", "u1", "u2", "u3", "k"}
	dists := []any{
		goptuna.CategoricalDistribution{Choices: []string{"a", "b", "c", "d"}},
		goptuna.CategoricalDistribution{Choices: []string{"x", "y", "z"}},
		goptuna.UniformDistribution{Low: 0, High: 1},
		goptuna.UniformDistribution{Low: 0, High: 1},
		goptuna.UniformDistribution{Low: 0, High: 1},
		goptuna.IntUniformDistribution{Low: 1, High: 10},
	}
	offset := []float64{0, 0.3, 0.6, 1.0}
	centre := []float64{0.2, 0.5, 0.8}
	return Problem{
		Name: "Mixed categorical + continuous", Key: "mixed", Optimum: 0,
		Ask: func(ask Asker) (map[string]float64, error) { return askAll(ask, names, dists) },
		Eval: func(p map[string]float64) float64 {
			c2 := int(p["c2"])
			f := offset[int(p["c1"])]
			if c2 != 2 {
				f += 0.1
			}
			for _, u := range []string{"u1", "u2", "u3"} {
				d := p[u] - centre[c2]
				f += 4 * d * d
			}
			k := (p["k"] - 7) / 3
			return f + 0.5*k*k
		},
	}
}

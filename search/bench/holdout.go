package bench

import (
	"math"

	"github.com/c-bata/goptuna"
)

// HoldOut returns problems that played no part in choosing sweep's TPE
// defaults on Problems: `make bench-search-variants` runs the default
// against the same sampler with Optuna's settings on them, to see whether
// what was chosen carries over. (Their 2-D functions then prompted
// tpe.AutoCandidatesMinDims; HoldOut2 checks that change.) They exist in
// Go only (no Optuna run is needed: the row with Optuna's settings is
// Optuna 4+'s algorithm, which TestMatchesOptuna checks). Definitions as
// in Surjanovic & Bingham's virtual library.
func HoldOut() []Problem {
	return []Problem{SixHumpCamel(), GoldsteinPrice(), Hartmann3(), Michalewicz5(), Shekel4(), Griewank5(),
		Zakharov5(), MixedBowls()}
}

// SixHumpCamel is the six-hump camel function on [-3, 3] × [-2, 2]: six
// local minima, two of them global (−1.0316 at ±(0.0898, −0.7126)).
func SixHumpCamel() Problem {
	names := []string{"x0", "x1"}
	dists := []any{goptuna.UniformDistribution{Low: -3, High: 3}, goptuna.UniformDistribution{Low: -2, High: 2}}
	return Problem{
		Name: "Six-hump camel (2-D)", Key: "camel", Optimum: -1.0316284534898774,
		Ask: func(ask Asker) (map[string]float64, error) { return askAll(ask, names, dists) },
		Eval: func(p map[string]float64) float64 {
			x, y := p["x0"], p["x1"]
			return (4-2.1*x*x+x*x*x*x/3)*x*x + x*y + (-4+4*y*y)*y*y
		},
	}
}

// GoldsteinPrice is the Goldstein-Price function on [-2, 2]^2: values span
// six orders of magnitude; minimum 3 at (0, −1).
func GoldsteinPrice() Problem {
	return boxProblem("Goldstein-Price (2-D)", "goldstein", 2, -2, 2, 3, func(x []float64) float64 {
		a, b := x[0], x[1]
		s := a + b + 1
		t := 2*a - 3*b
		return (1 + s*s*(19-14*a+3*a*a-14*b+6*a*b+3*b*b)) * (30 + t*t*(18-32*a+12*a*a+48*b-36*a*b+27*b*b))
	})
}

// Hartmann3 is the 3-D Hartmann function on [0, 1]^3; minimum −3.86278.
func Hartmann3() Problem {
	alpha := []float64{1, 1.2, 3, 3.2}
	a := [4][3]float64{{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}}
	pm := [4][3]float64{{0.3689, 0.1170, 0.2673}, {0.4699, 0.4387, 0.7470}, {0.1091, 0.8732, 0.5547}, {0.0381, 0.5743, 0.8828}}
	return boxProblem("Hartmann-3", "hartmann3", 3, 0, 1, -3.86278214782076, func(x []float64) float64 {
		f := 0.0
		for i := range 4 {
			s := 0.0
			for j := range 3 {
				d := x[j] - pm[i][j]
				s += a[i][j] * d * d
			}
			f -= alpha[i] * math.Exp(-s)
		}
		return f
	})
}

// Michalewicz5 is the 5-D Michalewicz function (m = 10) on [0, π]^5: steep
// narrow valleys; minimum −4.687658.
func Michalewicz5() Problem {
	return boxProblem("Michalewicz-5D", "michalewicz5", 5, 0, math.Pi, -4.687658179, func(x []float64) float64 {
		f := 0.0
		for i, v := range x {
			f -= math.Sin(v) * math.Pow(math.Sin(float64(i+1)*v*v/math.Pi), 20)
		}
		return f
	})
}

// Shekel4 is the Shekel function with 10 terms on [0, 10]^4: ten narrow
// wells of different depths; minimum −10.53644 near (4, 4, 4, 4).
func Shekel4() Problem {
	beta := []float64{1, 2, 2, 4, 4, 6, 3, 7, 5, 5}
	c := [4][10]float64{
		{4, 1, 8, 6, 3, 2, 5, 8, 6, 7},
		{4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6},
		{4, 1, 8, 6, 3, 2, 5, 8, 6, 7},
		{4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6},
	}
	return boxProblem("Shekel-4D (10 wells)", "shekel4", 4, 0, 10, -10.53644315348353, func(x []float64) float64 {
		f := 0.0
		for i := range 10 {
			s := beta[i] / 10
			for j := range 4 {
				d := x[j] - c[j][i]
				s += d * d
			}
			f -= 1 / s
		}
		return f
	})
}

// Griewank5 is the 5-D Griewank function on [-600, 600]^5: a wide bowl
// with fine ripples; minimum 0 at the origin.
func Griewank5() Problem {
	return boxProblem("Griewank-5D", "griewank5", 5, -600, 600, 0, func(x []float64) float64 {
		s, p := 0.0, 1.0
		for i, v := range x {
			s += v * v / 4000
			p *= math.Cos(v / math.Sqrt(float64(i+1)))
		}
		return s - p + 1
	})
}

// Zakharov5 is the 5-D Zakharov function on [-5, 10]^5: a plate-shaped
// unimodal function; minimum 0 at the origin.
func Zakharov5() Problem {
	return boxProblem("Zakharov-5D", "zakharov5", 5, -5, 10, 0, func(x []float64) float64 {
		s1, s2 := 0.0, 0.0
		for i, v := range x {
			s1 += v * v
			s2 += 0.5 * float64(i+1) * v
		}
		return s1 + s2*s2 + s2*s2*s2*s2
	})
}

// MixedBowls is a mixed space built for the hold-out: a 3-way categorical
// picks one of three bowls over four floats in [0, 1] (each bowl has its
// own centre and floor), a 4-way categorical adds a penalty unless it is
// the third choice, and an int in [1, 12] has its best value at 9.
// Minimum 0 at bowl = 1, init = 2, u = 0.3, k = 9.
func MixedBowls() Problem {
	names := []string{"bowl", "init", "u0", "u1", "u2", "u3", "k"}
	dists := []any{
		goptuna.CategoricalDistribution{Choices: []string{"a", "b", "c"}},
		goptuna.CategoricalDistribution{Choices: []string{"w", "x", "y", "z"}},
		goptuna.UniformDistribution{Low: 0, High: 1},
		goptuna.UniformDistribution{Low: 0, High: 1},
		goptuna.UniformDistribution{Low: 0, High: 1},
		goptuna.UniformDistribution{Low: 0, High: 1},
		goptuna.IntUniformDistribution{Low: 1, High: 12},
	}
	centre := []float64{0.75, 0.3, 0.5}
	floor := []float64{0.05, 0, 0.12}
	return Problem{
		Name: "Mixed bowls (3-way + 4-way categorical)", Key: "mixedbowls", Optimum: 0,
		Ask: func(ask Asker) (map[string]float64, error) { return askAll(ask, names, dists) },
		Eval: func(p map[string]float64) float64 {
			b := int(p["bowl"])
			f := floor[b]
			for _, u := range []string{"u0", "u1", "u2", "u3"} {
				d := p[u] - centre[b]
				f += 2 * d * d
			}
			if int(p["init"]) != 2 {
				f += 0.08
			}
			return f + 0.01*math.Abs(p["k"]-9)
		},
	}
}

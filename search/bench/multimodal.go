package bench

import (
	"fmt"
	"math"

	"github.com/c-bata/goptuna"
)

// The multimodal functions below are the standard test functions of the
// optimisation literature (definitions as in Surjanovic & Bingham's virtual
// library); each is defined again in optuna_bench.py, and
// TestProblem_MatchesPython checks both agree.

// box returns d params x0..x(d-1), each uniform on [low, high].
func box(d int, low, high float64) ([]string, []any) {
	names, dists := make([]string, d), make([]any, d)
	for i := range d {
		names[i] = fmt.Sprintf("x%d", i)
		dists[i] = goptuna.UniformDistribution{Low: low, High: high}
	}
	return names, dists
}

// boxProblem is a d-dimensional box-bounded function of the vector x.
func boxProblem(name, key string, d int, low, high, optimum float64, f func(x []float64) float64) Problem {
	names, dists := box(d, low, high)
	return Problem{
		Name: name, Key: key, Optimum: optimum,
		Ask: func(ask Asker) (map[string]float64, error) { return askAll(ask, names, dists) },
		Eval: func(p map[string]float64) float64 {
			x := make([]float64, d)
			for i, n := range names {
				x[i] = p[n]
			}
			return f(x)
		},
	}
}

// Rastrigin4 is the 4-D Rastrigin function on [-5.12, 5.12]^4: a bowl
// covered in a regular grid of local minima; minimum 0 at the origin.
func Rastrigin4() Problem {
	return boxProblem("Rastrigin-4D", "rastrigin4", 4, -5.12, 5.12, 0, func(x []float64) float64 {
		f := 10 * float64(len(x))
		for _, v := range x {
			f += v*v - 10*math.Cos(2*math.Pi*v)
		}
		return f
	})
}

// Ackley5 is the 5-D Ackley function on [-32.768, 32.768]^5: a nearly flat
// outer region with a deep hole at the origin (minimum 0).
func Ackley5() Problem {
	return boxProblem("Ackley-5D", "ackley5", 5, -32.768, 32.768, 0, func(x []float64) float64 {
		d := float64(len(x))
		s1, s2 := 0.0, 0.0
		for _, v := range x {
			s1 += v * v
			s2 += math.Cos(2 * math.Pi * v)
		}
		return -20*math.Exp(-0.2*math.Sqrt(s1/d)) - math.Exp(s2/d) + 20 + math.E
	})
}

// StyblinskiTang4 is the 4-D Styblinski-Tang function on [-5, 5]^4: 2^4
// local minima at the corners of a box; the global one at x_i = −2.903534.
func StyblinskiTang4() Problem {
	return boxProblem("Styblinski-Tang-4D", "styblinski4", 4, -5, 5, -39.16616570377142*4, func(x []float64) float64 {
		f := 0.0
		for _, v := range x {
			f += v*v*v*v - 16*v*v + 5*v
		}
		return f / 2
	})
}

// Levy6 is the 6-D Levy function on [-10, 10]^6: many local minima along
// ridges; minimum 0 at x_i = 1.
func Levy6() Problem {
	return boxProblem("Levy-6D", "levy6", 6, -10, 10, 0, func(x []float64) float64 {
		w := make([]float64, len(x))
		for i, v := range x {
			w[i] = 1 + (v-1)/4
		}
		sq := func(v float64) float64 { return v * v }
		f := sq(math.Sin(math.Pi * w[0]))
		for _, wi := range w[:len(w)-1] {
			f += sq(wi-1) * (1 + 10*sq(math.Sin(math.Pi*wi+1)))
		}
		last := w[len(w)-1]
		return f + sq(last-1)*(1+sq(math.Sin(2*math.Pi*last)))
	})
}

// MixedCat is a multimodal mixed space: a 5-way categorical picks where the
// optimum of three rippled floats in [-1, 1] lies (and adds a small cost of
// its own), a 3-way categorical adds a penalty unless it is "batch", and an
// int in [1, 8] has its best value at 4. Minimum 0 at kernel = rbf,
// a = b = c = 0.25, norm = batch, freq = 4.
func MixedCat() Problem {
	names := []string{"kernel", "norm", "a", "b", "c", "freq"}
	dists := []any{
		goptuna.CategoricalDistribution{Choices: []string{"rbf", "linear", "poly", "sigmoid", "laplace"}},
		goptuna.CategoricalDistribution{Choices: []string{"none", "batch", "layer"}},
		goptuna.UniformDistribution{Low: -1, High: 1},
		goptuna.UniformDistribution{Low: -1, High: 1},
		goptuna.UniformDistribution{Low: -1, High: 1},
		goptuna.IntUniformDistribution{Low: 1, High: 8},
	}
	shift := []float64{0.25, -0.5, 0.75, 0.0, -0.25}
	return Problem{
		Name: "Mixed multimodal (5-way + 3-way categorical)", Key: "mixedcat", Optimum: 0,
		Ask: func(ask Asker) (map[string]float64, error) { return askAll(ask, names, dists) },
		Eval: func(p map[string]float64) float64 {
			k := int(p["kernel"])
			f := 0.0
			for _, n := range []string{"a", "b", "c"} {
				d := p[n] - shift[k]
				f += d*d + 0.1*(1-math.Cos(3*math.Pi*d))
			}
			f += 0.05 * math.Abs(p["freq"]-4)
			if int(p["norm"]) != 1 {
				f += 0.2
			}
			return f + 0.05*float64(k)
		},
	}
}

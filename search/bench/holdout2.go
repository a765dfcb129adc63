package bench

import (
	"math"

	"github.com/c-bata/goptuna"
)

// HoldOut2 returns a second set of held-out problems, added after the
// first set had shown the 2-D regression that tpe.AutoCandidatesMinDims
// answers, and first run once the defaults were fixed: it checks that
// change on problems that did not prompt it.
func HoldOut2() []Problem {
	return []Problem{Himmelblau(), Beale(), ThreeHumpCamel(), Colville4(), Schwefel4(), Trid6(), Powell8(), MixedChoice()}
}

// Himmelblau is Himmelblau's function on [-5, 5]^2: four global minima
// (value 0), one at (3, 2).
func Himmelblau() Problem {
	return boxProblem("Himmelblau (2-D)", "himmelblau", 2, -5, 5, 0, func(x []float64) float64 {
		a := x[0]*x[0] + x[1] - 11
		b := x[0] + x[1]*x[1] - 7
		return a*a + b*b
	})
}

// Beale is the Beale function on [-4.5, 4.5]^2: sharp ridges at the
// corners; minimum 0 at (3, 0.5).
func Beale() Problem {
	return boxProblem("Beale (2-D)", "beale", 2, -4.5, 4.5, 0, func(x []float64) float64 {
		a, b := x[0], x[1]
		t1 := 1.5 - a + a*b
		t2 := 2.25 - a + a*b*b
		t3 := 2.625 - a + a*b*b*b
		return t1*t1 + t2*t2 + t3*t3
	})
}

// ThreeHumpCamel is the three-hump camel function on [-5, 5]^2: three
// local minima; minimum 0 at the origin.
func ThreeHumpCamel() Problem {
	return boxProblem("Three-hump camel (2-D)", "camel3", 2, -5, 5, 0, func(x []float64) float64 {
		a, b := x[0], x[1]
		return 2*a*a - 1.05*a*a*a*a + a*a*a*a*a*a/6 + a*b + b*b
	})
}

// Colville4 is the Colville function on [-10, 10]^4; minimum 0 at
// (1, 1, 1, 1).
func Colville4() Problem {
	return boxProblem("Colville-4D", "colville4", 4, -10, 10, 0, func(x []float64) float64 {
		sq := func(v float64) float64 { return v * v }
		return 100*sq(x[0]*x[0]-x[1]) + sq(x[0]-1) + sq(x[2]-1) + 90*sq(x[2]*x[2]-x[3]) +
			10.1*(sq(x[1]-1)+sq(x[3]-1)) + 19.8*(x[1]-1)*(x[3]-1)
	})
}

// Schwefel4 is the Schwefel function on [-500, 500]^4: deceptive, its best
// local minima far apart; minimum 0 at x_i = 420.9687.
func Schwefel4() Problem {
	const opt = 4 * 418.9828872724338
	return boxProblem("Schwefel-4D", "schwefel4", 4, -500, 500, 0, func(x []float64) float64 {
		f := opt
		for _, v := range x {
			f -= v * math.Sin(math.Sqrt(math.Abs(v)))
		}
		return f
	})
}

// Trid6 is the Trid function on [-36, 36]^6: a bowl with strong coupling
// between neighbours; minimum −50 at x_i = i(7 − i), i = 1..6.
func Trid6() Problem {
	return boxProblem("Trid-6D", "trid6", 6, -36, 36, -50, func(x []float64) float64 {
		f := 0.0
		for i, v := range x {
			f += (v - 1) * (v - 1)
			if i > 0 {
				f -= v * x[i-1]
			}
		}
		return f
	})
}

// Powell8 is the Powell function on [-4, 5]^8: singular Hessian at the
// minimum 0 at the origin.
func Powell8() Problem {
	return boxProblem("Powell-8D", "powell8", 8, -4, 5, 0, func(x []float64) float64 {
		f := 0.0
		for i := 0; i < len(x); i += 4 {
			a, b, c, d := x[i], x[i+1], x[i+2], x[i+3]
			f += (a+10*b)*(a+10*b) + 5*(c-d)*(c-d) + math.Pow(b-2*c, 4) + 10*math.Pow(a-d, 4)
		}
		return f
	})
}

// MixedChoice is a mixed space: a 6-way categorical sets the target of two
// floats in [0, 1] and its own cost, a 2-way categorical halves the
// distance term when it is "on", and an int in [1, 20] has its best value
// at 5. Minimum 0 at model = 3, flag = 1, u = 0.6, v = 0.2, k = 5.
func MixedChoice() Problem {
	names := []string{"model", "flag", "u", "v", "k"}
	dists := []any{
		goptuna.CategoricalDistribution{Choices: []string{"m0", "m1", "m2", "m3", "m4", "m5"}},
		goptuna.CategoricalDistribution{Choices: []string{"off", "on"}},
		goptuna.UniformDistribution{Low: 0, High: 1},
		goptuna.UniformDistribution{Low: 0, High: 1},
		goptuna.IntUniformDistribution{Low: 1, High: 20},
	}
	tu := []float64{0.1, 0.9, 0.3, 0.6, 0.5, 0.8}
	tv := []float64{0.9, 0.1, 0.5, 0.2, 0.7, 0.4}
	cost := []float64{0.04, 0.06, 0.02, 0, 0.08, 0.03}
	return Problem{
		Name: "Mixed choice (6-way + 2-way categorical)", Key: "mixedchoice", Optimum: 0,
		Ask: func(ask Asker) (map[string]float64, error) { return askAll(ask, names, dists) },
		Eval: func(p map[string]float64) float64 {
			m := int(p["model"])
			du, dv := p["u"]-tu[m], p["v"]-tv[m]
			dist := 3 * (du*du + dv*dv)
			if int(p["flag"]) == 1 {
				dist /= 2
			}
			return cost[m] + dist + 0.005*math.Abs(p["k"]-5)
		},
	}
}

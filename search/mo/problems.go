package mo

import "math"

// Problem is a multi-objective test function over [0, 1]^Dims, minimized
// in every objective, with a known Pareto front: what the samplers'
// tests, the synthetic objective and the search benchmarks measure
// hypervolume on.
type Problem struct {
	Name       string
	Dims       int
	Objectives int
	Ref        []float64 // reference point for hypervolume
	Eval       func(x []float64) []float64
}

// Problems returns ZDT1 and ZDT2 (Zitzler, Deb and Thiele 2000; two
// objectives, convex and concave fronts) and DTLZ2 (Deb et al. 2002; three
// objectives, a spherical front), each over dims variables.
func Problems(dims int) []Problem {
	return []Problem{ZDT1(dims), ZDT2(dims), DTLZ2(dims)}
}

// ZDT1 has the convex front f2 = 1 − √f1 for f1 in [0, 1].
func ZDT1(dims int) Problem {
	return Problem{Name: "zdt1", Dims: dims, Objectives: 2, Ref: []float64{1.1, 1.1}, Eval: func(x []float64) []float64 {
		f1, g := x[0], zdtG(x)
		return []float64{f1, g * (1 - math.Sqrt(f1/g))}
	}}
}

// ZDT2 has the concave front f2 = 1 − f1² for f1 in [0, 1].
func ZDT2(dims int) Problem {
	return Problem{Name: "zdt2", Dims: dims, Objectives: 2, Ref: []float64{1.1, 1.1}, Eval: func(x []float64) []float64 {
		f1, g := x[0], zdtG(x)
		return []float64{f1, g * (1 - (f1/g)*(f1/g))}
	}}
}

// zdtG is 1 + 9·mean(x[1:]): 1 on the Pareto front.
func zdtG(x []float64) float64 {
	if len(x) < 2 {
		return 1
	}
	s := 0.0
	for _, v := range x[1:] {
		s += v
	}
	return 1 + 9*s/float64(len(x)-1)
}

// DTLZ2 has the front f1² + f2² + f3² = 1 in the positive octant;
// x[0] and x[1] place a point on it, the rest measure its distance.
func DTLZ2(dims int) Problem {
	return Problem{Name: "dtlz2", Dims: dims, Objectives: 3, Ref: []float64{1.1, 1.1, 1.1}, Eval: func(x []float64) []float64 {
		g := 0.0
		for _, v := range x[2:] {
			g += (v - 0.5) * (v - 0.5)
		}
		a, b := x[0]*math.Pi/2, x[1]*math.Pi/2
		return []float64{(1 + g) * math.Cos(a) * math.Cos(b), (1 + g) * math.Cos(a) * math.Sin(b), (1 + g) * math.Sin(a)}
	}}
}

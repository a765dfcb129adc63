// Package mo holds what multi-objective studies need beyond single-objective
// ones: Pareto dominance (with Optuna's constraint domination), non-dominated
// sorting, crowding distance, exact hypervolume, and the two samplers built
// on them, NSGA-II and MOTPE.
//
// Every function here minimizes: callers turn a trial's values into losses
// with [Losses] first, so that maximized objectives are negated once, in one
// place. The package does not read specs or talk to a database beyond
// goptuna's Storage; the values of a trial reach it through the trial's
// system attrs (see [ValuesAttr]).
package mo

import (
	"math"
	"slices"
)

// Direction is the sense of one objective.
type Direction int

const (
	// Minimize means smaller values are better.
	Minimize Direction = iota
	// Maximize means larger values are better.
	Maximize
)

// ParseDirection reads "minimize" or "maximize" as a spec spells them.
func ParseDirection(s string) (Direction, bool) {
	switch s {
	case "minimize":
		return Minimize, true
	case "maximize":
		return Maximize, true
	}
	return Minimize, false
}

// Losses returns values as losses (maximized objectives negated), the form
// every function of this package expects. NaN stays NaN.
func Losses(values []float64, dirs []Direction) []float64 {
	out := make([]float64, len(values))
	for i, v := range values {
		if i < len(dirs) && dirs[i] == Maximize {
			v = -v
		}
		out[i] = v
	}
	return out
}

// Dominates reports whether loss vector a Pareto-dominates b: no worse in
// every objective and better in at least one. Vectors of different length
// never dominate each other.
func Dominates(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	better := false
	for i := range a {
		switch {
		case a[i] > b[i]:
			return false
		case a[i] < b[i]:
			better = true
		}
	}
	return better
}

// Violation is a trial's total constraint violation as Optuna sums it: the
// positive parts of its constraint values (c ≤ 0 means satisfied). A trial
// with no constraint values is feasible (0); a NaN constraint value makes it
// infeasible (+Inf).
func Violation(constraints []float64) float64 {
	sum := 0.0
	for _, c := range constraints {
		switch {
		case math.IsNaN(c):
			return math.Inf(1)
		case c > 0:
			sum += c
		}
	}
	return sum
}

// ConstrainedDominates is Optuna's constraint domination: a feasible trial
// (violation 0) dominates an infeasible one; of two infeasible trials the one
// with the smaller violation dominates; two feasible trials compare by
// Pareto dominance of their losses.
func ConstrainedDominates(a, b []float64, violationA, violationB float64) bool {
	switch {
	case violationA == 0 && violationB == 0:
		return Dominates(a, b)
	case violationA == 0:
		return true
	case violationB == 0:
		return false
	}
	return violationA < violationB
}

// Ranks sorts points into non-domination fronts (Deb's fast non-dominated
// sort): rank 0 is the Pareto front, rank 1 the front once rank 0 is
// removed, and so on. violations may be nil (every point feasible); else it
// holds one total violation per point and constraint domination applies.
// O(M·N²) for N points of M objectives.
func Ranks(points [][]float64, violations []float64) []int {
	n := len(points)
	dominates := func(i, j int) bool {
		if violations == nil {
			return Dominates(points[i], points[j])
		}
		return ConstrainedDominates(points[i], points[j], violations[i], violations[j])
	}
	count := make([]int, n)    // how many points dominate i
	beaten := make([][]int, n) // points i dominates
	for i := range n {
		for j := i + 1; j < n; j++ {
			switch {
			case dominates(i, j):
				beaten[i] = append(beaten[i], j)
				count[j]++
			case dominates(j, i):
				beaten[j] = append(beaten[j], i)
				count[i]++
			}
		}
	}
	ranks := make([]int, n)
	var front []int
	for i := range n {
		if count[i] == 0 {
			front = append(front, i)
		}
	}
	for r := 0; len(front) > 0; r++ {
		var next []int
		for _, i := range front {
			ranks[i] = r
			for _, j := range beaten[i] {
				if count[j]--; count[j] == 0 {
					next = append(next, j)
				}
			}
		}
		front = next
	}
	return ranks
}

// Front returns the indexes of the points no other point dominates, in
// increasing order. Points with a NaN loss are left out.
func Front(points [][]float64) []int {
	var out []int
outer:
	for i, p := range points {
		if slices.ContainsFunc(p, math.IsNaN) {
			continue
		}
		for j, q := range points {
			if j != i && !slices.ContainsFunc(q, math.IsNaN) && Dominates(q, p) {
				continue outer
			}
		}
		out = append(out, i)
	}
	return out
}

// Crowding returns the crowding distance of each point within its front
// (NSGA-II): per objective, the points at either end get +Inf and the others
// the gap between their neighbours divided by the objective's range, summed
// over objectives. An objective whose values are all equal adds nothing.
func Crowding(points [][]float64) []float64 {
	n := len(points)
	dist := make([]float64, n)
	if n == 0 {
		return dist
	}
	if n <= 2 {
		for i := range dist {
			dist[i] = math.Inf(1)
		}
		return dist
	}
	idx := make([]int, n)
	for m := range points[0] {
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case points[a][m] < points[b][m]:
				return -1
			case points[a][m] > points[b][m]:
				return 1
			}
			return 0
		})
		lo, hi := points[idx[0]][m], points[idx[n-1]][m]
		dist[idx[0]], dist[idx[n-1]] = math.Inf(1), math.Inf(1)
		if !(hi > lo) {
			continue
		}
		for k := 1; k < n-1; k++ {
			dist[idx[k]] += (points[idx[k+1]][m] - points[idx[k-1]][m]) / (hi - lo)
		}
	}
	return dist
}

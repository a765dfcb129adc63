package mo

import (
	"cmp"
	"math"
	"slices"
)

// Hypervolume is the exact volume dominated by the loss vectors points and
// bounded by the reference point ref: the measure of every x with
// p ≤ x ≤ ref for some point p. Points that do not strictly dominate ref in
// every objective add nothing, nor do NaN points.
//
// Two objectives take an O(N log N) sweep. More take hypervolume by slicing
// objectives (HSO): sort by the last objective and add, slab by slab, the
// (d−1)-dimensional hypervolume of the points below the slab times its
// height, which is exact and O(N² log N) for three objectives — fine for
// the few hundred trials of a study.
func Hypervolume(points [][]float64, ref []float64) float64 {
	pts := make([][]float64, 0, len(points))
	for _, p := range points {
		if len(p) == len(ref) && inside(p, ref) {
			pts = append(pts, p)
		}
	}
	return hv(pts, ref)
}

// inside reports whether p is finite and strictly better than ref in every
// objective.
func inside(p, ref []float64) bool {
	for i := range p {
		if math.IsNaN(p[i]) || !(p[i] < ref[i]) {
			return false
		}
	}
	return true
}

// hv computes the hypervolume of points already inside ref.
func hv(pts [][]float64, ref []float64) float64 {
	d := len(ref)
	switch {
	case len(pts) == 0:
		return 0
	case d == 1:
		best := ref[0]
		for _, p := range pts {
			best = min(best, p[0])
		}
		return ref[0] - best
	case d == 2:
		return hv2(pts, ref)
	}
	sorted := slices.Clone(pts)
	slices.SortFunc(sorted, func(a, b []float64) int { return cmp.Compare(a[d-1], b[d-1]) })
	total := 0.0
	proj := make([][]float64, 0, len(sorted))
	for i, p := range sorted {
		proj = append(proj, p[:d-1])
		top := ref[d-1]
		if i+1 < len(sorted) {
			top = sorted[i+1][d-1]
		}
		if h := top - p[d-1]; h > 0 {
			total += hv(proj, ref[:d-1]) * h
		}
	}
	return total
}

// hv2 sweeps two-objective points by the first objective, adding the
// rectangle each point adds below the best second objective so far.
func hv2(pts [][]float64, ref []float64) float64 {
	sorted := slices.Clone(pts)
	slices.SortFunc(sorted, func(a, b []float64) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	area, bestY := 0.0, ref[1]
	for _, p := range sorted {
		if p[1] < bestY {
			area += (ref[0] - p[0]) * (bestY - p[1])
			bestY = p[1]
		}
	}
	return area
}

// Contributions returns each point's exclusive hypervolume contribution:
// the volume lost when it alone is removed. Dominated and duplicate points
// contribute 0.
func Contributions(points [][]float64, ref []float64) []float64 {
	total := Hypervolume(points, ref)
	out := make([]float64, len(points))
	rest := make([][]float64, 0, len(points))
	for i := range points {
		rest = rest[:0]
		rest = append(rest, points[:i]...)
		rest = append(rest, points[i+1:]...)
		out[i] = max(total-Hypervolume(rest, ref), 0)
	}
	return out
}

// Reference is Optuna's reference point for a set of losses: per objective
// the worst value w moved outwards by 10% (max(1.1·w, 0.9·w)), and a tiny
// positive number where that is 0. Objectives with no finite value get 1.
func Reference(points [][]float64) []float64 {
	if len(points) == 0 {
		return nil
	}
	m := len(points[0])
	ref := make([]float64, m)
	for j := range ref {
		worst := math.Inf(-1)
		for _, p := range points {
			if !math.IsNaN(p[j]) && !math.IsInf(p[j], 0) {
				worst = max(worst, p[j])
			}
		}
		switch {
		case math.IsInf(worst, -1):
			ref[j] = 1
		default:
			ref[j] = max(1.1*worst, 0.9*worst)
		}
		if ref[j] == 0 {
			ref[j] = eps
		}
	}
	return ref
}

// gain is the hypervolume p adds to chosen (whose hypervolume is base),
// with rounding noise below 1e-12 of the total taken as 0, so that points
// adding nothing tie exactly (and the lower index wins).
func gain(chosen [][]float64, p, ref []float64, base float64) float64 {
	g := Hypervolume(append(chosen[:len(chosen):len(chosen)], p), ref) - base
	if g < 1e-12*math.Max(base, 1e-300) {
		return 0
	}
	return g
}

// eps stands in for zero where Optuna uses 1e-12.
const eps = 1e-12

// SelectByHypervolume greedily picks k of the points, each time the one that
// adds the most hypervolume to those already picked (Optuna's solution of
// the hypervolume subset selection problem, used to break ties within the
// last non-domination rank). It returns indexes into points in pick order;
// ties go to the lower index.
func SelectByHypervolume(points [][]float64, k int, ref []float64) []int {
	k = min(k, len(points))
	// Hypervolume contributions only shrink as points are added
	// (submodularity), so a stale gain bounds the fresh one: the lazy
	// greedy re-evaluates only the leading candidate, and picks exactly what
	// the plain greedy (ties to the lower index) would.
	type cand struct {
		i     int
		bound float64
	}
	queue := make([]cand, len(points))
	for i, p := range points {
		queue[i] = cand{i, Hypervolume([][]float64{p}, ref)}
	}
	ahead := func(a, b cand) bool { return a.bound > b.bound || a.bound == b.bound && a.i < b.i }
	sortQueue := func() {
		slices.SortFunc(queue, func(a, b cand) int {
			switch {
			case ahead(a, b):
				return -1
			case ahead(b, a):
				return 1
			}
			return 0
		})
	}
	sortQueue()
	picked := make([]int, 0, k)
	chosen := make([][]float64, 0, k+1)
	base := 0.0
	fresh := make([]bool, len(points)) // bound is this round's exact gain
	for len(picked) < k {
		for {
			top := queue[0]
			if !fresh[top.i] {
				queue[0].bound = gain(chosen, points[top.i], ref, base)
				fresh[top.i] = true
				sortQueue()
				continue
			}
			break
		}
		best := queue[0]
		queue = queue[1:]
		picked = append(picked, best.i)
		chosen = append(chosen, points[best.i])
		base = Hypervolume(chosen, ref)
		clear(fresh)
	}
	return picked
}

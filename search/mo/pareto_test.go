package mo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRanks(t *testing.T) {
	pts := [][]float64{{1, 1}, {2, 2}, {1, 3}, {3, 1}, {3, 3}}
	t.Run("Unconstrained", func(t *testing.T) {
		got := Ranks(pts, nil)
		want := []int{0, 1, 1, 1, 2}
		if !slices.Equal(got, want) {
			t.Fatalf("Ranks = %v, want %v", got, want)
		}
	})
	t.Run("Constrained", func(t *testing.T) {
		// (1,1) breaks a constraint by 2 and (3,3) by 1: every feasible
		// point comes first, then the smaller violation.
		got := Ranks(pts, []float64{2, 0, 0, 0, 1})
		want := []int{2, 0, 0, 0, 1}
		if !slices.Equal(got, want) {
			t.Fatalf("Ranks = %v, want %v", got, want)
		}
	})
	t.Run("Duplicates", func(t *testing.T) {
		got := Ranks([][]float64{{1, 2}, {1, 2}, {2, 3}}, nil)
		if want := []int{0, 0, 1}; !slices.Equal(got, want) {
			t.Fatalf("Ranks = %v, want %v", got, want)
		}
	})
}

func TestFront(t *testing.T) {
	pts := [][]float64{{1, 1}, {2, 2}, {0, 5}, {math.NaN(), 0}, {5, 0.5}}
	if got, want := Front(pts), []int{0, 2, 4}; !slices.Equal(got, want) {
		t.Fatalf("Front = %v, want %v", got, want)
	}
}

func TestLosses(t *testing.T) {
	got := Losses([]float64{0.9, 120}, []Direction{Maximize, Minimize})
	if !slices.Equal(got, []float64{-0.9, 120}) {
		t.Fatalf("Losses = %v", got)
	}
}

func TestViolation(t *testing.T) {
	for _, tc := range []struct {
		c    []float64
		want float64
	}{{nil, 0}, {[]float64{-1, 0}, 0}, {[]float64{0.5, -3, 2}, 2.5}, {[]float64{math.NaN()}, math.Inf(1)}} {
		if got := Violation(tc.c); got != tc.want {
			t.Errorf("Violation(%v) = %g, want %g", tc.c, got, tc.want)
		}
	}
}

func TestCrowding(t *testing.T) {
	got := Crowding([][]float64{{0, 4}, {1, 2}, {2, 1}, {4, 0}})
	want := []float64{math.Inf(1), 1.25, 1.25, math.Inf(1)}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 && got[i] != want[i] {
			t.Fatalf("Crowding = %v, want %v", got, want)
		}
	}
	// Objective 0 is constant and adds nothing; objective 1 adds (2−0)/2.
	flat := Crowding([][]float64{{1, 0}, {1, 1}, {1, 2}})
	if flat[1] != 1 {
		t.Fatalf("Crowding with a constant objective = %v, want middle 1", flat)
	}
}

func TestHypervolume(t *testing.T) {
	for _, tc := range []struct {
		name string
		pts  [][]float64
		ref  []float64
		want float64
	}{
		{"Empty", nil, []float64{1, 1}, 0},
		{"Staircase2D", [][]float64{{1, 3}, {2, 2}, {3, 1}}, []float64{4, 4}, 6},
		{"Dominated2D", [][]float64{{1, 3}, {2, 2}, {3, 1}, {3, 3}, {2, 2}}, []float64{4, 4}, 6},
		{"OutsideRef", [][]float64{{1, 5}, {2, 2}}, []float64{4, 4}, 4},
		{"OnRef", [][]float64{{4, 1}}, []float64{4, 4}, 0},
		{"Box3D", [][]float64{{0, 0, 0}}, []float64{1, 1, 1}, 1},
		{"Two3D", [][]float64{{0, 0, 0.5}, {0.5, 0.5, 0}}, []float64{1, 1, 1}, 0.625},
		// Three unit boxes: 3·4 − 3·2 + 1 by inclusion–exclusion.
		{"Axes3D", [][]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, []float64{2, 2, 2}, 7},
		{"Box4D", [][]float64{{0, 0, 0, 0}, {0.5, 0.5, 0.5, 0.5}}, []float64{1, 1, 1, 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Hypervolume(tc.pts, tc.ref); math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("Hypervolume = %g, want %g", got, tc.want)
			}
		})
	}
}

// inclusionExclusion is the hypervolume by inclusion–exclusion over every
// subset of points: exponential, but independent of the slicing code.
func inclusionExclusion(pts [][]float64, ref []float64) float64 {
	total := 0.0
	for mask := 1; mask < 1<<len(pts); mask++ {
		vol, n := 1.0, 0
		for j := range ref {
			lo := math.Inf(-1)
			for i, p := range pts {
				if mask&(1<<i) != 0 {
					lo = max(lo, p[j])
				}
			}
			vol *= max(ref[j]-lo, 0)
		}
		for i := range pts {
			if mask&(1<<i) != 0 {
				n++
			}
		}
		if n%2 == 1 {
			total += vol
		} else {
			total -= vol
		}
	}
	return total
}

func TestHypervolume_MatchesInclusionExclusion(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, d := range []int{2, 3, 4} {
		for trial := range 30 {
			pts := make([][]float64, 1+rng.IntN(8))
			for i := range pts {
				pts[i] = make([]float64, d)
				for j := range pts[i] {
					pts[i][j] = rng.Float64()
				}
			}
			ref := slices.Repeat([]float64{1}, d)
			got, want := Hypervolume(pts, ref), inclusionExclusion(pts, ref)
			if math.Abs(got-want) > 1e-9 {
				t.Fatalf("d=%d case %d: Hypervolume = %.12g, inclusion–exclusion %.12g (points %v)", d, trial, got, want, pts)
			}
		}
	}
}

func TestContributions(t *testing.T) {
	got := Contributions([][]float64{{1, 3}, {2, 2}, {3, 1}, {3, 3}}, []float64{4, 4})
	want := []float64{1, 1, 1, 0}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("Contributions = %v, want %v", got, want)
		}
	}
}

func TestReference(t *testing.T) {
	got := Reference([][]float64{{1, -2, 0}, {3, -1, 0}})
	want := []float64{3.3, -0.9, eps}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("Reference = %v, want %v", got, want)
		}
	}
}

func TestSelectByHypervolume(t *testing.T) {
	pts := [][]float64{{1, 3}, {2, 2}, {3, 1}}
	ref := []float64{4, 4}
	if got := SelectByHypervolume(pts, 1, ref); !slices.Equal(got, []int{1}) {
		t.Fatalf("k=1: %v, want [1] (the largest box)", got)
	}
	if got := SelectByHypervolume(pts, 2, ref); !slices.Equal(got, []int{1, 0}) {
		t.Fatalf("k=2: %v, want [1 0]", got)
	}
	if got := SelectByHypervolume(pts, 5, ref); !slices.Equal(got, []int{1, 0, 2}) {
		t.Fatalf("k>n: %v, want all", got)
	}
}

// TestSelectByHypervolume_MatchesPlainGreedy checks the lazy greedy
// against the plain one (every gain recomputed every round).
func TestSelectByHypervolume_MatchesPlainGreedy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 40 {
		d := 2 + trial%2
		pts := make([][]float64, 3+rng.IntN(12))
		for i := range pts {
			pts[i] = make([]float64, d)
			for j := range pts[i] {
				pts[i][j] = float64(rng.IntN(6)) / 5 // a coarse grid, so ties happen
			}
		}
		ref := slices.Repeat([]float64{1.1}, d)
		k := 1 + rng.IntN(len(pts))
		var want []int
		used := make([]bool, len(pts))
		var chosen [][]float64
		for len(want) < k {
			best, bestGain := -1, math.Inf(-1)
			for i := range pts {
				if g := gain(chosen, pts[i], ref, Hypervolume(chosen, ref)); !used[i] && g > bestGain {
					best, bestGain = i, g
				}
			}
			used[best] = true
			want, chosen = append(want, best), append(chosen, pts[best])
		}
		if got := SelectByHypervolume(pts, k, ref); !slices.Equal(got, want) {
			t.Fatalf("case %d: lazy greedy %v, plain greedy %v (points %v)", trial, got, want, pts)
		}
	}
}

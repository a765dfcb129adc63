package optim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// By hand: Every 2, Start 0, ρ = 0.5²·(done/4)¹; the "training" adds 1 to
// the weight each step. done 2: snapshot, slow = 2. done 4: w = 4,
// ρ = 0.25, slow = 2 + 0.75·(4 − 2) = 3.5, and w is reset to 3.5.
func TestLookahead_ByHand(t *testing.T) {
	l := &Lookahead{Every: 2, DecayBase: 0.5, DecayPow: 1, TotalSteps: 4}
	w := [][]float32{{0}}
	var got []float32
	for done := 1; done <= 4; done++ {
		w[0][0]++
		if l.Due(done) {
			l.Update(w, done)
		}
		got = append(got, w[0][0])
	}
	if want := []float32{1, 2, 3, 3.5}; !equalFloats(got, want) {
		t.Fatalf("weights %v, want %v", got, want)
	}
	if l.N() != 2 {
		t.Fatalf("N = %d, want 2", l.N())
	}
}

// Against a float64 reference written from airbench94's loop: start after
// 3 "epochs" of 7 steps, every 5 steps, defaults 0.95 and 3, noisy steps.
func TestLookahead_Reference(t *testing.T) {
	const total, start = 40, 21
	l := &Lookahead{Start: start, TotalSteps: total}
	rng := rand.New(rand.NewPCG(3, 4))
	w := [][]float32{{0.5, -1}, {2}}
	ref := [][]float64{{0.5, -1}, {2}}
	var slow [][]float64
	for done := 1; done <= total; done++ {
		for i := range w {
			for j := range w[i] {
				d := rng.NormFloat64()
				w[i][j] += float32(d)
				ref[i][j] = float64(w[i][j]) // same fast step in both
			}
		}
		if done > start && done%5 == 0 {
			if slow == nil {
				slow = [][]float64{{ref[0][0], ref[0][1]}, {ref[1][0]}}
			} else {
				rho := math.Pow(0.95, 5) * math.Pow(float64(done)/total, 3)
				for i := range slow {
					for j := range slow[i] {
						slow[i][j] += (1 - rho) * (ref[i][j] - slow[i][j])
						ref[i][j] = slow[i][j]
					}
				}
			}
		}
		if l.Due(done) {
			l.Update(w, done)
		}
		for i := range w {
			for j := range w[i] {
				if math.Abs(float64(w[i][j])-ref[i][j]) > 1e-5 {
					t.Fatalf("step %d: w[%d][%d] = %g, reference %g", done, i, j, w[i][j], ref[i][j])
				}
			}
		}
	}
	if l.N() != 4 { // steps 25, 30, 35, 40
		t.Fatalf("N = %d, want 4", l.N())
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

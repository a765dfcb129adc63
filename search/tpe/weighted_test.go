package tpe_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"sweep/search/sampler"
	"sweep/search/tpe"
)

// The below weights steer the step: with nearly all weight on one of two
// good observations, the suggestions gather around that one (the prior
// kernel, weight 1, still sends some candidates elsewhere).
func TestSampleWeighted_FollowsBelowWeights(t *testing.T) {
	b := sampler.Bounds{Low: 0, High: 1}
	below := []float64{0.1, 0.9}
	above := []float64{0.3, 0.4, 0.5, 0.6, 0.7, 0.45, 0.55, 0.35, 0.65, 0.5}
	for _, c := range []struct {
		w    []float64
		near float64
	}{
		{[]float64{1, 1e-6}, 0.1},
		{[]float64{1e-6, 1}, 0.9},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		closer := 0
		for range 50 {
			x := tpe.SampleWeighted(rng, b, below, c.w, above, 24)
			if x < 0 || x > 1 {
				t.Fatalf("suggestion %v outside [0, 1]", x)
			}
			if math.Abs(x-c.near) < math.Abs(x-(1-c.near)) {
				closer++
			}
		}
		if closer < 40 {
			t.Errorf("weights %v: %d of 50 suggestions nearer %v, want at least 40", c.w, closer, c.near)
		}
	}
}

func TestSampleWeighted_CategoricalAndLog(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cat := sampler.Bounds{Low: 0, High: 3, N: 4}
	hits := 0
	for range 50 {
		x := tpe.SampleWeighted(rng, cat, []float64{2, 2, 2}, []float64{1, 1, 1}, []float64{0, 1, 3, 0, 1, 3}, 24)
		if x != math.Trunc(x) || x < 0 || x > 3 {
			t.Fatalf("categorical suggestion %v is not a choice index", x)
		}
		if x == 2 {
			hits++
		}
	}
	if hits < 40 {
		t.Errorf("choice 2 suggested %d of 50 times, want at least 40", hits)
	}
	lg := sampler.Bounds{Low: 1e-5, High: 1, Log: true}
	for range 20 {
		x := tpe.SampleWeighted(rng, lg, []float64{1e-3, 2e-3}, []float64{1, 1}, []float64{0.1, 0.5, 1e-5}, 24)
		if x < 1e-5 || x > 1 {
			t.Fatalf("log suggestion %v outside the bounds", x)
		}
	}
}

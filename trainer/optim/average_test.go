package optim

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSWA_Average(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const k = 7
	shapes := []int{5, 3, 11}
	var snaps [][][]float32
	s := &SWA{StartEpoch: 3}
	for i := 0; i < k; i++ {
		snap := make([][]float32, len(shapes))
		for j, n := range shapes {
			snap[j] = make([]float32, n)
			for q := range snap[j] {
				snap[j][q] = float32(rng.NormFloat64() * 3)
			}
		}
		snaps = append(snaps, snap)
		s.Add(snap)
	}
	if s.N() != k {
		t.Fatalf("N = %d, want %d", s.N(), k)
	}
	avg := s.Average()
	for j, n := range shapes {
		for q := 0; q < n; q++ {
			var sum float64
			for i := 0; i < k; i++ {
				sum += float64(snaps[i][j][q])
			}
			if want := sum / k; math.Abs(float64(avg[j][q])-want) > 1e-5 {
				t.Fatalf("avg[%d][%d] = %g, want mean %g", j, q, avg[j][q], want)
			}
		}
	}
}

func TestSWA_Collects(t *testing.T) {
	s := &SWA{StartEpoch: 4, Every: 2}
	var got []int
	for e := 1; e <= 10; e++ {
		if s.Collects(e) {
			got = append(got, e)
		}
	}
	if want := []int{4, 6, 8, 10}; !equalInts(got, want) {
		t.Fatalf("collect epochs %v, want %v", got, want)
	}
	if (&SWA{}).Collects(5) {
		t.Fatal("zero SWA collects")
	}
}

func TestRecalMomentum_CumulativeMean(t *testing.T) {
	batches := []float64{4, -2, 7, 1, 0.5}
	running := 123.0 // stale statistics must not survive
	for k, b := range batches {
		m := RecalMomentum(k)
		running = (1-m)*running + m*b
	}
	if want := (4 - 2 + 7 + 1 + 0.5) / 5; math.Abs(running-want) > 1e-12 {
		t.Fatalf("running = %g, want mean %g", running, want)
	}
}

func TestEMA_Update(t *testing.T) {
	e := &EMA{Decay: 0.9}
	e.Update([][]float32{{1, 2}})
	e.Update([][]float32{{3, 2}})
	e.Update([][]float32{{3, 0}})
	// shadow: 1 → 0.9·1+0.1·3 = 1.2 → 0.9·1.2+0.1·3 = 1.38; 2 → 2 → 1.8.
	got := e.Weights()[0]
	if math.Abs(float64(got[0])-1.38) > 1e-6 || math.Abs(float64(got[1])-1.8) > 1e-6 {
		t.Fatalf("shadow = %v, want [1.38 1.8]", got)
	}
}

func TestEMA_Warmup(t *testing.T) {
	e := &EMA{Decay: 0.999, Warmup: true}
	e.Update([][]float32{{0}})
	e.Update([][]float32{{11}}) // n=1: d = 2/11, shadow = 9/11·11 = 9
	if got := e.Weights()[0][0]; math.Abs(float64(got)-9) > 1e-5 {
		t.Fatalf("shadow = %g, want 9", got)
	}
	if !(&EMA{Every: 5}).Due(4) || (&EMA{Every: 5}).Due(5) {
		t.Fatal("Due(4) should be true and Due(5) false for Every 5")
	}
}

func equalInts(a, b []int) bool {
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

package searchtest

import (
	"math"
	"testing"

	"github.com/c-bata/goptuna"
)

// NewSamplerFunc builds a sampler under test for a seed; the relative
// sampler may be nil.
type NewSamplerFunc func(seed uint64) (goptuna.Sampler, goptuna.RelativeSampler)

// TestSampler runs the sampler conformance suite: every suggestion lies in
// its distribution (bounds included, on the grid), both bounds of a two-value
// int are reached, failed and pruned trials do not break it, and the same
// seed with the same history gives the same suggestions.
func TestSampler(t *testing.T, newSampler NewSamplerFunc) {
	t.Run("InDistribution", func(t *testing.T) {
		s, rs := newSampler(1)
		study := NewStudy(t, goptuna.StudyDirectionMinimize, s, rs, nil)
		seenInt := map[float64]bool{}
		for n := range 40 {
			id, vals, err := Suggest(study, SpaceNames, Space)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range vals {
				if !Contains(Space[name], v) {
					t.Fatalf("trial %d: %s = %g outside %+v", n, name, v, Space[name])
				}
			}
			seenInt[vals["int"]] = true
			state := goptuna.TrialStateComplete
			switch n % 7 {
			case 3:
				state = goptuna.TrialStateFail
			case 5:
				state = goptuna.TrialStatePruned
				study.Storage.SetTrialIntermediateValue(id, 1, vals["uniform"])
			}
			if err := Finish(study, id, Score(vals), state); err != nil {
				t.Fatal(err)
			}
		}
		if !seenInt[0] || !seenInt[1] {
			t.Fatalf("int in [0, 1] took values %v, want both", seenInt)
		}
	})
	t.Run("Reproducible", func(t *testing.T) {
		a := runHistory(t, newSampler, 7, 25)
		b := runHistory(t, newSampler, 7, 25)
		c := runHistory(t, newSampler, 8, 25)
		same := true
		for i := range a {
			for name := range a[i] {
				if a[i][name] != b[i][name] {
					t.Fatalf("trial %d %s: %g then %g with the same seed", i, name, a[i][name], b[i][name])
				}
				if a[i][name] != c[i][name] {
					same = false
				}
			}
		}
		if same {
			t.Fatal("seeds 7 and 8 gave identical studies")
		}
	})
}

// Score is a smooth test objective over Space (minimum near uniform=0.5,
// log=1e-3, discrete=0.75, cat=b).
func Score(v map[string]float64) float64 {
	s := (v["uniform"]-0.5)*(v["uniform"]-0.5) + math.Pow(math.Log10(v["log"])+3, 2)/4
	s += (v["discrete"] - 0.75) * (v["discrete"] - 0.75)
	s += math.Abs(v["stepint"]-5) / 10
	if v["cat"] != 1 {
		s += 0.5
	}
	return s
}

func runHistory(t *testing.T, newSampler NewSamplerFunc, seed uint64, n int) []map[string]float64 {
	t.Helper()
	s, rs := newSampler(seed)
	study := NewStudy(t, goptuna.StudyDirectionMinimize, s, rs, nil)
	var out []map[string]float64
	for range n {
		id, vals, err := Suggest(study, SpaceNames, Space)
		if err != nil {
			t.Fatal(err)
		}
		if err := Finish(study, id, Score(vals), goptuna.TrialStateComplete); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	return out
}

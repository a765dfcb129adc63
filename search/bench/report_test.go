package bench

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestBootstrapLE(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	low := []float64{1, 2, 3, 4, 5, 6, 7}
	high := []float64{11, 12, 13, 14, 15, 16, 17}
	if p := bootstrapLE(rng, low, high, 5); p != 1 {
		t.Errorf("ours always lower: P(≤) = %v, want 1", p)
	}
	if p := bootstrapLE(rng, high, low, 5); p != 0 {
		t.Errorf("ours always higher: P(≤) = %v, want 0", p)
	}
	// Same distribution: a coin flip, plus the ties.
	if p := bootstrapLE(rng, low, low, 5); p < 0.45 || p > 0.75 {
		t.Errorf("same values: P(≤) = %v, want about one half", p)
	}
}

func TestWriteWide(t *testing.T) {
	r := &Results{Config: Config{Seeds: 3, WideSeeds: 6}, WideOptuna: "Optuna 9.9",
		Wide: []WideResult{
			{Problem: "A", Ours: []float64{1, 1, 1, 1, 1, 1}, Optuna: []float64{2, 2, 2, 2, 2, 2}},
			{Problem: "B", Ours: []float64{4, 4, 4, 4, 4, 4}, Optuna: []float64{2, 2, 2, 2, 2, 2}},
		}}
	var b strings.Builder
	r.writeWide(&b)
	out := b.String()
	for _, want := range []string{
		"against Optuna 9.9 on 6 seeds",
		"| A | 1.000 [1.000–1.000] | 2.000 [2.000–2.000] | 0.50 | 1.00 |",
		"| B | 4.000 [4.000–4.000] | 2.000 [2.000–2.000] | 2.00 | 0.00 |",
		"**1 of 2** problems; the geometric mean of the ratios is 1.00",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	r.Wide = nil
	b.Reset()
	r.writeWide(&b)
	if b.Len() != 0 {
		t.Errorf("no wide results, yet wrote %q", b.String())
	}
}

// A run of more seeds earlier in the process serves a later call for fewer
// without running the script again (here it could not run at all).
func TestOptunaStudy_ServesFewerSeedsFromMemo(t *testing.T) {
	o := &Optuna{env: OptunaEnv{Python: "/nonexistent/python3"}, Version: "9.9"}
	o.memo = map[string][][]float64{"branin-5": {{1}, {2}, {3}}}
	got, err := o.Study(t.Context(), "branin", 2, 5)
	if err != nil || len(got) != 2 || got[1][0] != 2 {
		t.Fatalf("Study(2 seeds) = %v, %v; want the memo's first two", got, err)
	}
	if _, err := o.Study(t.Context(), "branin", 4, 5); err == nil {
		t.Fatal("Study(4 seeds) with 3 in the memo and no interpreter: want an error")
	}
}

package bench

import (
	"math/rand/v2"
	"slices"
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
	wantAll(t, out,
		"against Optuna 9.9 on 6 seeds",
		"| A | 1.000 [1.000–1.000] | 2.000 [2.000–2.000] | 0.50 | 1.00 |",
		"| B | 4.000 [4.000–4.000] | 2.000 [2.000–2.000] | 2.00 | 0.00 |",
		"**1 of 2** problems; the geometric mean of the ratios is 1.00",
	)
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

func TestVariantResults_WriteMarkdown(t *testing.T) {
	r := &VariantResults{
		Config: VariantConfig{Seeds: 155, FromSeed: 31, TrialsPer: 100,
			Variants: []Variant{{Name: "default"}, {Name: "other"}},
			Problems: []Problem{{Key: "branin"}, {Key: "levy6"}}},
		Optuna: "Optuna 9.9",
		Ratio:  [][]float64{{0.5, 2}, {0.25, 0.5}},
	}
	var b strings.Builder
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	wantAll(t, b.String(),
		"over seeds 31–154 divided by Optuna 9.9's median",
		"| variant | branin | levy6 | geo. mean | worst |",
		"| default | 0.50 | 2.00 | 1.00 | 2.00 (levy6) |",
		"| other | 0.25 | 0.50 | 0.35 | 0.50 (levy6) |",
	)
	if strings.Contains(b.String(), "Hold-out") {
		t.Errorf("hold-out section without hold-out results:\n%s", b.String())
	}
	r.Config.HoldOuts = []HoldOutSet{{"Hold-out problems, set 1", "About it.", []Problem{{Name: "Camel", Key: "camel"}}}}
	r.Config.HoldOutVariants = []string{"default"}
	r.HoldRatio = [][][]float64{{{0.8}}}
	b.Reset()
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	wantAll(t, b.String(),
		"## Hold-out problems, set 1",
		"(search/bench/holdout*.go): Camel. About it. A cell",
		"| variant | camel | geo. mean | worst |",
		"| default | 0.80 | 0.80 | 0.80 (camel) |",
	)
}

func TestVariants_DefaultFirstNamesUnique(t *testing.T) {
	vs := Variants()
	if vs[0].Name != "default" || !vs[0].Opt.Multivariate || vs[0].Opt.EICandidates != 0 || vs[0].Opt.CategoricalPriorWeight != 0 {
		t.Fatalf("first variant %+v is not sweep's default", vs[0])
	}
	seen := map[string]bool{}
	for _, v := range vs {
		if seen[v.Name] {
			t.Errorf("variant %q twice", v.Name)
		}
		seen[v.Name] = true
	}
}

func TestOptunaEnvs(t *testing.T) {
	got := OptunaEnvs("py", "-,/src/optuna,,")
	want := []OptunaEnv{{Python: "py"}, {Python: "py", PythonPath: "/src/optuna"}}
	if !slices.Equal(got, want) {
		t.Errorf("OptunaEnvs = %+v, want %+v", got, want)
	}
	if got := OptunaEnvs("py", ""); got != nil {
		t.Errorf("empty -optuna gave %+v, want none", got)
	}
}

// wantAll fails t for each of wants that out lacks.
func wantAll(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
}

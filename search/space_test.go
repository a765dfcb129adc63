package search_test

import (
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search"
)

// newStudy returns an in-memory goptuna study with a seeded random sampler.
func newStudy(tb testing.TB, seed int64) *goptuna.Study {
	tb.Helper()
	s, err := goptuna.CreateStudy("t",
		goptuna.StudyOptionSampler(goptuna.NewRandomSampler(goptuna.RandomSamplerOptionSeed(seed))),
		goptuna.StudyOptionLogger(nil))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

const spaceSpec = `study: s
direction: maximize
trials: 10
objective: {type: synthetic}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  drop: {type: float, low: 0, high: 0.5, step: 0.1}
  width: {type: int, low: 16, high: 128, step: 16}
  depth: {type: int, low: 1, high: 1000, log: true}
  bs: {type: categorical, choices: [64, 128]}
  flag: {type: categorical, choices: [true, false]}
  sched:
    type: categorical
    choices: [cosine, step]
    conditional:
      step:
        gamma: {type: float, low: 0.1, high: 0.5}
`

func TestSuggest(t *testing.T) {
	spec, err := search.ParseSpec("s.yaml", []byte(spaceSpec))
	if err != nil {
		t.Fatal(err)
	}
	study := newStudy(t, 7)
	sawGamma, sawCosine := false, false
	for i := 0; i < 60; i++ {
		id, err := study.Storage.CreateNewTrial(study.ID)
		if err != nil {
			t.Fatal(err)
		}
		trial := goptuna.Trial{Study: study, ID: id}
		p, err := search.Suggest(&trial, spec.Params)
		if err != nil {
			t.Fatal(err)
		}
		if lr := p["lr"].(float64); lr < 1e-4 || lr > 1 {
			t.Errorf("lr = %v", lr)
		}
		if d := p["drop"].(float64); d < 0 || d > 0.5 || !closeToGrid(d, 0.1) {
			t.Errorf("drop = %v, not on the 0.1 grid", d)
		}
		if w := p["width"].(int); w < 16 || w > 128 || w%16 != 0 {
			t.Errorf("width = %v", w)
		}
		if d := p["depth"].(int); d < 1 || d > 1000 {
			t.Errorf("depth = %v", d)
		}
		if stored, _ := study.Storage.GetTrialParam(id, "depth"); stored != float64(p["depth"].(int)) {
			t.Errorf("log int depth stored as %v, objective got %v", stored, p["depth"])
		}
		if bs := p["bs"].(int); bs != 64 && bs != 128 {
			t.Errorf("bs = %v", bs)
		}
		if _, ok := p["flag"].(bool); !ok {
			t.Errorf("flag = %#v, want a bool", p["flag"])
		}
		g, hasGamma := p["gamma"]
		switch p["sched"] {
		case "step":
			if !hasGamma || g.(float64) < 0.1 || g.(float64) > 0.5 {
				t.Errorf("sched=step but gamma = %v", g)
			}
			sawGamma = true
		case "cosine":
			if hasGamma {
				t.Errorf("gamma sampled although sched=cosine")
			}
			sawCosine = true
		default:
			t.Errorf("sched = %#v", p["sched"])
		}
		frozen, _ := study.Storage.GetTrial(id)
		if _, stored := frozen.InternalParams["gamma"]; stored != hasGamma {
			t.Errorf("gamma stored = %v, used = %v", stored, hasGamma)
		}
	}
	if !sawGamma || !sawCosine {
		t.Errorf("60 draws never covered both branches (step %v, cosine %v)", sawGamma, sawCosine)
	}
}

func closeToGrid(x, step float64) bool {
	k := x / step
	return k-float64(int(k+0.5)) < 1e-9 && float64(int(k+0.5))-k < 1e-9
}

func TestSuggest_FixedParams(t *testing.T) {
	spec, err := search.ParseSpec("s.yaml", []byte(spaceSpec))
	if err != nil {
		t.Fatal(err)
	}
	study := newStudy(t, 1)
	id, _ := study.Storage.CreateNewTrial(study.ID)
	fixed, err := search.FixedParams(map[string]float64{"lr": 0.01, "bs": 1, "sched": 1, "gamma": 0.25, "depth": 7.2})
	if err != nil {
		t.Fatal(err)
	}
	if err := study.Storage.SetTrialSystemAttr(id, "fixed_params", fixed); err != nil {
		t.Fatal(err)
	}
	trial := goptuna.Trial{Study: study, ID: id}
	p, err := search.Suggest(&trial, spec.Params)
	if err != nil {
		t.Fatal(err)
	}
	if p["lr"] != 0.01 || p["bs"] != 128 || p["sched"] != "step" || p["gamma"] != 0.25 || p["depth"] != 7 {
		t.Errorf("fixed params not honoured: %v", p)
	}
}

func TestParam_Value(t *testing.T) {
	tests := []struct {
		name     string
		p        search.Param
		internal float64
		want     any
	}{
		{"FloatStepRounds", search.Param{Type: search.Float, Low: 0, High: 1, Step: 0.25}, 0.3, 0.25},
		{"IntRounds", search.Param{Type: search.Int, Low: 1, High: 9, Step: 1}, 3.6, 4},
		{"IntLogClamps", search.Param{Type: search.Int, Low: 1, High: 9, Log: true, Step: 1}, 9.4, 9},
		{"IntStep", search.Param{Type: search.Int, Low: 2, High: 10, Step: 4}, 7, 6},
		{"Categorical", search.Param{Type: search.Categorical, Choices: []any{"a", 2.5, false}}, 1, 2.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.Value(tt.internal)
			if err != nil || got != tt.want {
				t.Errorf("Value(%v) = %#v, %v; want %#v", tt.internal, got, err, tt.want)
			}
		})
	}
	if _, err := (search.Param{Name: "c", Type: search.Categorical, Choices: []any{"a"}}).Value(3); err == nil {
		t.Error("out-of-range choice index accepted")
	}
}

func TestParam_Distribution(t *testing.T) {
	p := search.Param{Type: search.Int, Low: 1, High: 100, Log: true, Step: 1}
	d, ok := p.Distribution().(goptuna.LogUniformDistribution)
	if !ok || d.Low != 0.5 || d.High != 100.5 {
		t.Errorf("log int distribution = %#v", p.Distribution())
	}
	c := search.Param{Type: search.Categorical, Choices: []any{64, 0.5, true, "x"}}
	cd := c.Distribution().(goptuna.CategoricalDistribution)
	if got := cd.Choices; got[0] != "64" || got[1] != "0.5" || got[2] != "true" || got[3] != "x" {
		t.Errorf("choice strings = %q", got)
	}
}

func TestFixed(t *testing.T) {
	spec, err := search.ParseSpec("s.yaml", []byte(spaceSpec))
	if err != nil {
		t.Fatal(err)
	}
	internal := map[string]float64{"lr": 0.01, "drop": 0.2, "width": 128, "depth": 7.4, "bs": 1, "flag": 0, "sched": 1, "gamma": 0.25}
	got, ok := search.Fixed(spec.Params, internal)
	if !ok {
		t.Fatal("valid values refused")
	}
	want := map[string]any{"lr": 0.01, "drop": 0.2, "width": 128, "depth": 7, "bs": 128, "flag": true, "sched": "step", "gamma": 0.25}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	for name, bad := range map[string]map[string]float64{
		"MissingConditional": {"lr": 0.01, "drop": 0.2, "width": 128, "depth": 7, "bs": 1, "flag": 0, "sched": 1},
		"OutOfRange":         {"lr": 2, "drop": 0.2, "width": 128, "depth": 7, "bs": 1, "flag": 0, "sched": 0},
		"BadChoice":          {"lr": 0.01, "drop": 0.2, "width": 128, "depth": 7, "bs": 2, "flag": 0, "sched": 0},
	} {
		if _, ok := search.Fixed(spec.Params, bad); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

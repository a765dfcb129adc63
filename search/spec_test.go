package search_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sweep/search"
)

// mustRead returns a testdata file's contents.
func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseSpec_Demo(t *testing.T) {
	s, err := search.ParseSpec("demo.yaml", mustRead(t, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Study != "demo-synthetic" || s.Direction != "maximize" || s.Metric != "val_acc" || s.Trials != 30 || s.Workers != 2 {
		t.Errorf("header = %q %q %q %d %d", s.Study, s.Direction, s.Metric, s.Trials, s.Workers)
	}
	if s.Sampler.Type != "tpe" || s.Sampler.Seed == nil || *s.Sampler.Seed != 1 || s.Sampler.StartupTrials == nil || *s.Sampler.StartupTrials != 10 {
		t.Errorf("sampler = %+v", s.Sampler)
	}
	if s.Pruner.Type != "median" || s.Pruner.StartupTrials == nil || *s.Pruner.StartupTrials != 5 || s.Pruner.WarmupSteps != 2 {
		t.Errorf("pruner = %+v", s.Pruner)
	}
	if s.Heartbeat.Interval != 30*time.Second || s.Heartbeat.Grace != 90*time.Second {
		t.Errorf("heartbeat defaults = %+v", s.Heartbeat)
	}
	if s.Objective.Type != "synthetic" || s.Objective.Options["epochs"] != 10 || s.Objective.Options["epoch_seconds"] != 0.05 {
		t.Errorf("objective = %+v", s.Objective)
	}
	var names []string
	for _, p := range s.Params {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "lr,momentum,batch_size,scheduler" {
		t.Errorf("param order = %s", got)
	}
	lr := s.Params[0]
	if lr.Type != search.Float || lr.Low != 1e-4 || lr.High != 1 || !lr.Log || lr.Line != 12 {
		t.Errorf("lr = %+v", lr)
	}
	bs := s.Params[2]
	if len(bs.Choices) != 3 || bs.Choices[0] != 64 {
		t.Errorf("batch_size choices = %#v", bs.Choices)
	}
	step := s.Params[3].Conditional["step"]
	if len(step) != 2 || step[0].Name != "step_size" || step[0].Type != search.Int || step[0].Step != 1 || step[1].Name != "gamma" {
		t.Errorf("scheduler.conditional.step = %+v", step)
	}
	if s.Devices != nil {
		t.Errorf("devices = %v, want nil (auto)", s.Devices)
	}
}

func TestParseSpec_Broken(t *testing.T) {
	_, err := search.ParseSpec("broken.yaml", mustRead(t, "broken.yaml"))
	want := strings.TrimSpace(string(mustRead(t, "broken.errors")))
	if err == nil {
		t.Fatal("no error")
	}
	if err.Error() != want {
		t.Errorf("errors:\n%s\nwant:\n%s", err, want)
	}
	var list search.SpecErrors
	if !errors.As(err, &list) || len(list) != strings.Count(want, "\n")+1 {
		t.Fatalf("not one SpecError per problem: %T %d", err, len(list))
	}
	for _, e := range list {
		if e.File != "broken.yaml" || e.Line == 0 || e.Field == "" {
			t.Errorf("problem without position: %+v", e)
		}
	}
}

// base is a minimal valid spec; cases append to or replace its lines.
const base = `study: s
direction: minimize
trials: 10
objective: {type: synthetic}
params:
  x: {type: float, low: 0, high: 1}
`

func TestParseSpec_Errors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"Empty", "", "s.yaml:1: spec is empty"},
		{"NotMapping", "[1, 2]", "s.yaml:1: must be a mapping (got a list)"},
		{"Syntax", "study: x\n  bad: [\n", "s.yaml:2: invalid YAML: mapping values are not allowed in this context"},
		{"TwoDocuments", base + "---\nstudy: y\n", "s.yaml:7: more than one YAML document (remove the second ---)"},
		{"TrialsHuge", strings.Replace(base, "trials: 10", "trials: 1e12", 1), "s.yaml:3: trials: must be between 1 and 1000000 (got 1e12)"},
		{"TrialsZero", strings.Replace(base, "trials: 10", "trials: 0", 1), "s.yaml:3: trials: must be between 1 and 1000000 (got 0)"},
		{"TrialsFloat", strings.Replace(base, "trials: 10", "trials: 2.5", 1), "s.yaml:3: trials: must be an integer (got 2.5)"},
		{"Direction", strings.Replace(base, "minimize", "down", 1), `s.yaml:2: direction: must be maximize or minimize (got "down")`},
		{"StudyNumber", strings.Replace(base, "study: s", "study: 12", 1), "s.yaml:1: study: must be a string (got 12)"},
		{"StudyBlank", strings.Replace(base, "study: s", `study: " "`, 1), "s.yaml:1: study: must not be empty"},
		{"StudyControl", strings.Replace(base, "study: s", `study: "a\tb"`, 1), `s.yaml:1: study: must not contain control characters (got "a\tb")`},
		{"DuplicateKey", base + "trials: 5\n", "s.yaml:7: trials: duplicate key (first at line 3)"},
		{"Pruner", base + "pruner: {type: median, percentile: 120}\n", "s.yaml:7: pruner.percentile: must be between 0 and 100 (got 120)"},
		{"PrunerUnknown", base + "pruner: {type: sha}\n", `s.yaml:7: pruner.type: unknown pruner "sha" (want none, median, percentile, asha, hyperband); did you mean "asha"?`},
		{"PrunerKey", base + "pruner:\n  type: median\n  warmup: 3\n", "s.yaml:9: pruner.warmup: unknown key (want one of type, startup_trials, warmup_steps, interval, percentile, min_resource, max_resource, reduction_factor, min_early_stopping_rate)"},
		{"SamplerSeedType", base + "sampler: {seed: abc}\n", `s.yaml:7: sampler.seed: must be an integer (got "abc")`},
		{"PrunerIntervalZero", base + "pruner: {type: median, interval: 0}\n", "s.yaml:7: pruner.interval: must be between 1 and 1000000 (got 0)"},
		{"PrunerReductionZero", base + "pruner: {type: asha, reduction_factor: 0}\n", "s.yaml:7: pruner.reduction_factor: must be between 2 and 100 (got 0)"},
		{"PrunerPercentile", base + "pruner: {type: percentile, percentile: 100}\n", "s.yaml:7: pruner.percentile: must be between 0 and 100 (got 100)"},
		{"SamplerStartupNegative", base + "sampler: {startup_trials: -1}\n", "s.yaml:7: sampler.startup_trials: must be between 0 and 1000000 (got -1)"},
		{"Heartbeat", base + "heartbeat: {interval: 10, grace: 5}\n", "s.yaml:7: heartbeat.grace: must be > heartbeat.interval (got 5s ≤ 10s)"},
		{"Retry", base + "retry: {max: -1}\n", "s.yaml:7: retry.max: must be between 0 and 100 (got -1)"},
		{"Devices", base + "devices: [0, 0]\n", "s.yaml:7: devices[1]: must be distinct device indexes between 0 and 63 (got 0)"},
		{"ObjectiveType", strings.Replace(base, "{type: synthetic}", "{epochs: 3}", 1), "s.yaml:4: objective.type: required (e.g. synthetic)"},
		{"NoParams", strings.Replace(base, "  x: {type: float, low: 0, high: 1}\n", "", 1) + "  {}\n", "s.yaml:6: params: must declare at least one param"},
		{"ParamNaN", base + "  y: {type: float, low: .nan, high: 1}\n", "s.yaml:7: params.y.low: must be finite (got .nan)"},
		{"ParamNoType", base + "  y: {low: 0, high: 1}\n", "s.yaml:7: params.y.type: required (float, int or categorical)"},
		{"ParamBadType", base + "  y: {type: double, low: 0, high: 1}\n", `s.yaml:7: params.y.type: must be float, int or categorical (got "double")`},
		{"ParamDuplicate", base + "  c:\n    type: categorical\n    choices: [a]\n    conditional:\n      a:\n        x: {type: int, low: 0, high: 3}\n", "s.yaml:12: params.c.conditional.a.x: duplicate param name (first at line 6)"},
		{"ParamChoicesOnFloat", base + "  y: {type: float, low: 0, high: 1, choices: [1]}\n", "s.yaml:7: params.y.choices: only for categorical params"},
		{"ParamLowOnCategorical", base + "  y: {type: categorical, choices: [a], low: 0}\n", "s.yaml:7: params.y.low: only for float and int params"},
		{"ParamChoiceDuplicate", base + "  y: {type: categorical, choices: [1, \"1\"]}\n", `s.yaml:7: params.y.choices: duplicate choice "1"`},
		{"ParamChoiceMapping", base + "  y: {type: categorical, choices: [{a: 1}]}\n", "s.yaml:7: params.y.choices: must be a scalar (got a mapping)"},
		{"ParamStepLog", base + "  y: {type: float, low: 1, high: 2, log: true, step: 0.5}\n", "s.yaml:7: params.y.step: cannot be combined with log: true"},
		{"ParamStepMultiple", base + "  y: {type: float, low: 0, high: 1, step: 0.3}\n", "s.yaml:7: params.y.step: high - low (1) must be a multiple of step (0.3)"},
		{"ParamStepZero", base + "  y: {type: int, low: 0, high: 8, step: 0}\n", "s.yaml:7: params.y.step: must be > 0 (got 0)"},
		{"ParamIntLogZero", base + "  y: {type: int, low: 0, high: 8, log: true}\n", "s.yaml:7: params.y.low: must be > 0 when log is true (got 0)"},
		{"ParamEqual", base + "  y: {type: int, low: 3, high: 3}\n", "s.yaml:7: params.y.low: must be < high (got 3 ≥ 3)"},
		{"GridContinuous", base + "sampler: {type: grid}\n", "s.yaml:7: sampler.type: grid needs a finite space: params.x is a continuous float (give it a step or make it categorical)"},
		{"MergeKey", base + "sampler:\n  <<: {type: tpe}\n", "s.yaml:8: sampler: merge keys (<<) are not supported"},
		{"TopKeyTypo", base + "trial: 3\n", `s.yaml:7: trial: unknown key (want one of study, direction, metric, directions, metrics, constraints, prune_metric, trials, workers, sampler, pruner, objective, params, heartbeat, retry, stop, devices, trials_per_device, trial_memory_gb, cpu_fallback); did you mean "trials"?`},
		{"DirectionTypo", strings.Replace(base, "minimize", "minimise", 1), `s.yaml:2: direction: must be maximize or minimize (got "minimise"); did you mean "minimize"?`},
		{"SamplerTypo", base + "sampler: {type: radnom}\n", `s.yaml:7: sampler.type: unknown sampler "radnom" (want tpe, random, grid, cmaes, nsga2, motpe); did you mean "random"?`},
		{"SamplerKeyTypo", base + "sampler: {sed: 3}\n", `s.yaml:7: sampler.sed: unknown key (want one of type, seed, startup_trials, ei_candidates, multivariate, group, constant_liar, categorical_prior_weight, population_size, crossover); did you mean "seed"?`},
		{"CategoricalWeightNegative", base + "sampler: {categorical_prior_weight: -1}\n", "s.yaml:7: sampler.categorical_prior_weight: must be between 0 and 1000 (got -1)"},
		{"CategoricalWeightNotTPE", base + "sampler: {type: random, categorical_prior_weight: 2}\n", "s.yaml:7: sampler.type: categorical_prior_weight configures tpe only (got type random)"},
		{"ParamTypeTypo", base + "  y: {type: flaot, low: 0, high: 1}\n", `s.yaml:7: params.y.type: must be float, int or categorical (got "flaot"); did you mean "float"?`},
		{"ParamKeyTypo", base + "  y: {type: float, low: 0, high: 1, lgo: true}\n", `s.yaml:7: params.y.lgo: unknown key (want one of type, low, high, log, step, choices, conditional); did you mean "log"?`},
		{"ConditionalTypo", base + "  c:\n    type: categorical\n    choices: [sgd, adam]\n    conditional:\n      adma:\n        m: {type: float, low: 0, high: 1}\n", `s.yaml:11: params.c.conditional.adma: not among choices (sgd, adam); did you mean "adam"?`},
		{"HeartbeatKeyTypo", base + "heartbeat: {intervall: 10s}\n", `s.yaml:7: heartbeat.intervall: unknown key (want one of interval, grace); did you mean "interval"?`},
		{"HeartbeatNotDuration", base + "heartbeat: {interval: soon}\n", `s.yaml:7: heartbeat.interval: must be a duration between 0 and 8760h such as 90s, 2h or a number of seconds (got "soon")`},
		{"HeartbeatTooLong", base + "heartbeat: {interval: 2h}\n", "s.yaml:7: heartbeat.interval: must be > 0 and ≤ 1h (got 2h0m0s)"},
		{"HeartbeatZero", base + "heartbeat: {interval: 0s}\n", "s.yaml:7: heartbeat.interval: must be > 0 and ≤ 1h (got 0s)"},
		{"Alias", base + "  y: *nope\n", "s.yaml: invalid YAML: unknown anchor 'nope' referenced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := search.ParseSpec("s.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error; spec %+v", s)
			}
			if s != nil {
				t.Errorf("spec returned with error")
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestParseSpec_Limits(t *testing.T) {
	t.Run("TooLarge", func(t *testing.T) {
		data := []byte(base + "# " + strings.Repeat("x", search.MaxSpecBytes) + "\n")
		_, err := search.ParseSpec("big.yaml", data)
		if !errors.Is(err, search.ErrSpecTooLarge) {
			t.Fatalf("err = %v, want ErrSpecTooLarge", err)
		}
	})
	t.Run("AliasBomb", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("a: &a [x, x, x, x, x, x, x, x, x, x]\n")
		for i := 1; i < 9; i++ {
			prev := string(rune('a' + i - 1))
			cur := string(rune('a' + i))
			b.WriteString(cur + ": &" + cur + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n")
		}
		_, err := search.ParseSpec("bomb.yaml", []byte(b.String()))
		if !errors.Is(err, search.ErrSpecTooComplex) {
			t.Fatalf("err = %v, want ErrSpecTooComplex", err)
		}
	})
	t.Run("AliasesAllowed", func(t *testing.T) {
		data := base + "  y: &r {type: float, low: 0, high: 2}\n  z: *r\n"
		s, err := search.ParseSpec("a.yaml", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Params) != 3 || s.Params[2].High != 2 {
			t.Errorf("params = %+v", s.Params)
		}
	})
	t.Run("HostileNames", func(t *testing.T) {
		name := `ro'bert"); DROP TABLE trials;-- ✓ 学习率`
		data := strings.Replace(base, "study: s", "study: '"+strings.ReplaceAll(name, "'", "''")+"'", 1) +
			"  '" + strings.ReplaceAll(name, "'", "''") + "': {type: categorical, choices: [\"it's\", 1.5, true]}\n"
		s, err := search.ParseSpec("h.yaml", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if s.Study != name || s.Params[1].Name != name {
			t.Errorf("names = %q, %q; want %q", s.Study, s.Params[1].Name, name)
		}
		if got := s.Params[1].Choices; got[0] != "it's" || got[1] != 1.5 || got[2] != true {
			t.Errorf("choices = %#v", got)
		}
	})
}

func TestParseSpec_Defaults(t *testing.T) {
	s, err := search.ParseSpec("s.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if s.Workers != 1 || s.Metric != "value" || s.Sampler.Type != "tpe" || s.Sampler.Seed != nil || s.Pruner.Type != "none" {
		t.Errorf("defaults = workers %d metric %q sampler %+v pruner %+v", s.Workers, s.Metric, s.Sampler, s.Pruner)
	}
	if s.Heartbeat.Interval != 30*time.Second || s.Heartbeat.Grace != 90*time.Second {
		t.Errorf("heartbeat = %+v", s.Heartbeat)
	}
}

func TestOptionChecker(t *testing.T) {
	spec, err := search.ParseSpec("o.yaml", []byte(`study: s
direction: minimize
trials: 1
objective:
  type: thing
  epochs: 0
  rate: fast
  colour: red
params:
  x: {type: float, low: 0, high: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := struct {
		Epochs int     `yaml:"epochs"`
		Rate   float64 `yaml:"rate"`
		Warmup int     `yaml:"warmup"`
	}{Epochs: 5, Warmup: -1}
	c := spec.Objective.Checker()
	c.Decode(&cfg)
	c.Check("epochs", cfg.Epochs >= 1, "must be ≥ 1 (got %d)", cfg.Epochs)
	c.Check("warmup", cfg.Warmup >= 0, "must be ≥ 0 (got %d)", cfg.Warmup)
	want := `o.yaml:4: objective.warmup: must be ≥ 0 (got -1)
o.yaml:6: objective.epochs: must be ≥ 1 (got 0)
o.yaml:7: objective.rate: must be a number (got "fast")
o.yaml:8: objective.colour: unknown option for objective thing (want one of type, epochs, rate, warmup)`
	if err := c.Err(); err == nil || err.Error() != want {
		t.Errorf("Err() =\n%v\nwant\n%s", err, want)
	}
}

func TestEquivalent(t *testing.T) {
	parse := func(s string) *search.Spec {
		t.Helper()
		spec, err := search.ParseSpec("s.yaml", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return spec
	}
	a := parse(base)
	if !search.Equivalent(a, parse("# a comment\n"+strings.Replace(base, "trials: 10", "trials: 10\nworkers: 4", 1))) {
		t.Error("comments and workers should not matter")
	}
	for name, other := range map[string]string{
		"Trials": strings.Replace(base, "trials: 10", "trials: 11", 1),
		"Range":  strings.Replace(base, "high: 1}", "high: 2}", 1),
		"Option": strings.Replace(base, "{type: synthetic}", "{type: synthetic, epochs: 3}", 1),
		"Seed":   base + "sampler: {seed: 3}\n",
	} {
		if search.Equivalent(a, parse(other)) {
			t.Errorf("%s change not detected", name)
		}
	}
}

func TestParsePartial(t *testing.T) {
	data := strings.Replace(base, "trials: 10", "trials: zero", 1)
	s, err := search.ParsePartial("s.yaml", []byte(data))
	if err == nil || s == nil || s.Study != "s" || s.Objective.Type != "synthetic" || len(s.Params) != 1 {
		t.Fatalf("partial spec %+v, err %v", s, err)
	}
	if s, err := search.ParseSpec("s.yaml", []byte(data)); s != nil || err == nil {
		t.Errorf("ParseSpec returned a spec with problems")
	}
	if s, _ := search.ParsePartial("s.yaml", []byte("a: [")); s != nil {
		t.Errorf("spec returned for a file that is not YAML")
	}
	c := s.Objective.Checker()
	c.Check("epochs", false, "must be ≥ 1")
	merged := search.Merge(err, c.Err())
	want := "s.yaml:3: trials: must be an integer (got \"zero\")\ns.yaml:4: objective.epochs: must be ≥ 1"
	if merged == nil || merged.Error() != want {
		t.Errorf("Merge =\n%v\nwant\n%s", merged, want)
	}
	if search.Merge(nil, nil) != nil {
		t.Error("Merge(nil, nil) != nil")
	}
}

// TestParseSpec_HeartbeatDurations: heartbeat times take 30s, 2m, 1h or
// plain seconds, as every duration of the spec does.
func TestParseSpec_HeartbeatDurations(t *testing.T) {
	for _, c := range []struct {
		yaml            string
		interval, grace time.Duration
	}{
		{"{interval: 30s, grace: 2m}", 30 * time.Second, 2 * time.Minute},
		{"{interval: 10}", 10 * time.Second, 30 * time.Second},
		{"{interval: 1.5, grace: 1h}", 1500 * time.Millisecond, time.Hour},
		{"{interval: 500ms}", 500 * time.Millisecond, 1500 * time.Millisecond},
		{"{grace: 5m}", 30 * time.Second, 5 * time.Minute},
	} {
		s, err := search.ParseSpec("s.yaml", []byte(base+"heartbeat: "+c.yaml+"\n"))
		if err != nil {
			t.Errorf("%s: %v", c.yaml, err)
			continue
		}
		if s.Heartbeat.Interval != c.interval || s.Heartbeat.Grace != c.grace {
			t.Errorf("%s: interval %v grace %v, want %v %v", c.yaml, s.Heartbeat.Interval, s.Heartbeat.Grace, c.interval, c.grace)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	params := []string{"type", "low", "high", "log", "step", "choices", "conditional"}
	for _, c := range []struct {
		got        string
		candidates []string
		want       string
	}{
		{"flaot", []string{"float", "int", "categorical"}, `; did you mean "float"?`},
		{"lgo", params, `; did you mean "log"?`},
		{"hihg", params, `; did you mean "high"?`},
		{"Maximize", []string{"maximize", "minimize"}, `; did you mean "maximize"?`},
		{"maximise", []string{"maximize", "minimize"}, `; did you mean "maximize"?`},
		{"epoch", []string{"epochs", "epoch_seconds"}, `; did you mean "epochs"?`},
		{"colour", params, ""},           // nothing close
		{"float", []string{"float"}, ""}, // an exact match needs no suggestion
		{"x", []string{"y"}, ""},         // one letter has nothing in common
		{"lw", params, `; did you mean "low"?`},
		{"xy", []string{"ab"}, ""},
		{"", params, ""},
	} {
		if got := search.DidYouMean(c.got, c.candidates); got != c.want {
			t.Errorf("DidYouMean(%q, %v) = %q, want %q", c.got, c.candidates, got, c.want)
		}
	}
}

package main

import (
	"strings"
	"testing"

	"sweep/search"
)

// TestCheckCIFAR10Space: a search range that reaches values the trainer
// refuses is rejected at its line before anything is stored; a valid one
// (including a choice that needs its conditional params) passes.
func TestCheckCIFAR10Space(t *testing.T) {
	cases := []struct {
		name, params, want string
	}{
		{"NegativeLR", "  lr: {type: float, low: -0.1, high: 0.1}\n",
			"s.yaml:6: params.lr: -0.1 is refused by the trainer: -0.1 must be positive"},
		{"BatchZero", "  batch_size: {type: categorical, choices: [0, 64]}\n",
			"s.yaml:6: params.batch_size: 0 is refused by the trainer: 0 is not in [1, 8192]"},
		{"Valid", `  lr: {type: float, low: 0.01, high: 0.5, log: true}
  batch_size: {type: categorical, choices: [64, 128]}
  scheduler:
    type: categorical
    choices: [cosine, step]
    conditional:
      step:
        step_size: {type: int, low: 5, high: 30}
`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := "study: s\ndirection: maximize\ntrials: 4\nobjective: {type: cifar10, epochs: 1}\nparams:\n" + c.params
			spec, err := search.ParseSpec("s.yaml", []byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			_, err = newObjective(spec, func(string) string { return "" })
			switch {
			case c.want == "" && err != nil:
				t.Errorf("valid space rejected: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

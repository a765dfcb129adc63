package search_test

import (
	"maps"
	"slices"
	"testing"

	"sweep/search"
)

// assignSpace has one param of each kind, a stepped float and int, a log
// int and a conditional branch two levels deep.
const assignSpace = `study: s
direction: maximize
trials: 10
objective: {type: synthetic}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  wd: {type: float, low: 0, high: 0.1, step: 0.025}
  width: {type: int, low: 16, high: 128, step: 16}
  depth: {type: int, low: 1, high: 64, log: true}
  batch_size: {type: categorical, choices: [64, 128, 256]}
  eps: {type: categorical, choices: [0.001, "1e-8", true]}
  optimizer:
    type: categorical
    choices: [sgd, adamw]
    conditional:
      sgd:
        momentum: {type: float, low: 0.8, high: 0.99}
        kind:
          type: categorical
          choices: [classic, nesterov]
          conditional:
            nesterov:
              dampening: {type: float, low: 0, high: 0.5}
`

func TestAssign(t *testing.T) {
	spec, err := search.ParseSpec("s.yaml", []byte(assignSpace))
	if err != nil {
		t.Fatal(err)
	}
	got, err := search.Assign(spec.Params, map[string]string{
		"lr": "0.03", "wd": "0.05", "width": "64", "depth": "8", "batch_size": "128", "eps": "1e-3",
		"optimizer": "sgd", "momentum": " 0.9 ", "kind": "nesterov", "dampening": "0.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"lr": 0.03, "wd": 0.05, "width": 64, "depth": 8, "batch_size": 1, "eps": 0,
		"optimizer": 0, "momentum": 0.9, "kind": 1, "dampening": 0.1}
	if !maps.Equal(got, want) {
		t.Errorf("Assign = %v\nwant %v", got, want)
	}
	// The values are what the objective would receive from a sampler.
	values, ok := search.Fixed(spec.Params, got)
	if !ok || values["batch_size"] != 128 || values["eps"] != 0.001 || values["width"] != 64 || values["optimizer"] != "sgd" {
		t.Errorf("Fixed(Assign(...)) = %v, %v", values, ok)
	}

	for _, c := range []struct {
		name  string
		given map[string]string
		want  string
	}{
		{"Unknown", map[string]string{"lrr": "0.1"}, "param lrr: not in the search space (params: lr, wd, width, depth, batch_size, eps, optimizer, momentum, kind, dampening)"},
		{"NotNumber", map[string]string{"lr": "fast"}, `param lr: "fast" is not a finite number (float param)`},
		{"NaN", map[string]string{"lr": "NaN"}, `param lr: "NaN" is not a finite number (float param)`},
		{"AboveHigh", map[string]string{"lr": "2"}, "param lr: 2 is outside [0.0001, 1]"},
		{"OffStep", map[string]string{"wd": "0.03"}, "param wd: 0.03 is not on the grid 0, 0.025, ... 0.1 (step 0.025)"},
		{"IntFraction", map[string]string{"width": "40.5"}, `param width: "40.5" is not a whole number (int param)`},
		{"IntOffStep", map[string]string{"width": "40"}, "param width: 40 is not on the grid 16, 32, ... 128 (step 16)"},
		{"LogIntBelow", map[string]string{"depth": "0"}, "param depth: 0 is outside [1, 64]"},
		{"Choice", map[string]string{"optimizer": "adam"}, `param optimizer: "adam" is not one of its choices (sgd, adamw)`},
		{"NumericChoice", map[string]string{"batch_size": "100"}, `param batch_size: "100" is not one of its choices (64, 128, 256)`},
		{"ParentMissing", map[string]string{"momentum": "0.9"}, "param momentum: exists only when optimizer is sgd; give optimizer=sgd too"},
		{"ParentOther", map[string]string{"optimizer": "adamw", "momentum": "0.9"}, "param momentum: exists only when optimizer is sgd (got optimizer=adamw)"},
		{"GrandparentOther", map[string]string{"optimizer": "sgd", "kind": "classic", "dampening": "0.1"}, "param dampening: exists only when kind is nesterov (got kind=classic)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := search.Assign(spec.Params, c.given); err == nil || err.Error() != c.want {
				t.Errorf("error\n%v\nwant\n%s", err, c.want)
			}
		})
	}

	// Params left out are the sampler's, with the branches the given
	// choices open.
	partial, err := search.Assign(spec.Params, map[string]string{"lr": "0.1", "optimizer": "sgd"})
	if err != nil {
		t.Fatal(err)
	}
	if got := search.Unassigned(spec.Params, partial); !slices.Equal(got, []string{"wd", "width", "depth", "batch_size", "eps", "momentum", "kind"}) {
		t.Errorf("Unassigned = %v", got)
	}
}

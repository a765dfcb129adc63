package reports

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestBestConfig_SyntheticStudy: a synthetic study's best trial becomes
// the structured file sweep train reruns: objective, params, the study's
// space (comments kept) and the trial number that seeds the noise.
func TestBestConfig_SyntheticStudy(t *testing.T) {
	spec := "study: s\nmetric: val_acc\nobjective: {type: synthetic, epochs: 4}\nparams:\n" +
		"  lr: {type: float, low: 1.0e-4, high: 1, log: true}   # the one that matters\n" +
		"  bs: {type: categorical, choices: [64, 128]}\n"
	out, err := bestConfig(StudyRow{Name: "s", Metric: "val_acc", Spec: spec},
		[]ParamRow{{Name: "lr", Kind: "float", Log: true}, {Name: "bs", Kind: "categorical", Choices: []any{"64", "128"}}},
		Best{Number: 3, Value: 0.8, Params: map[string]any{"lr": 0.0312, "bs": "128"}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Study     string                    `yaml:"study"`
		Trial     int                       `yaml:"trial"`
		Metric    string                    `yaml:"metric"`
		Objective map[string]any            `yaml:"objective"`
		Params    map[string]any            `yaml:"params"`
		Space     map[string]map[string]any `yaml:"space"`
	}
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, out)
	}
	if got.Study != "s" || got.Trial != 3 || got.Metric != "val_acc" || got.Objective["type"] != "synthetic" || got.Objective["epochs"] != 4 ||
		got.Params["lr"] != 0.0312 || got.Params["bs"] != 128 || got.Space["lr"]["log"] != true {
		t.Errorf("config:\n%s", out)
	}
	if !strings.Contains(out, "# Run it alone with: sweep train best.yaml") || !strings.Contains(out, "# the one that matters") {
		t.Errorf("config lacks the instructions or the space's comment:\n%s", out)
	}
}

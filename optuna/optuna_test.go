package optuna_test

import (
	"encoding/json"
	"errors"
	"math"
	"os/exec"
	"strings"
	"testing"

	"sweep/optuna"
	"sweep/search"
)

// distributionCases pairs params with the JSON Optuna 3's
// distribution_to_json writes for the same distribution.
var distributionCases = []struct {
	param search.Param
	want  string
	py    string // the same distribution in Python
}{
	{search.Param{Name: "lr", Type: search.Float, Low: 1e-4, High: 1, Log: true},
		`{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0001, "high": 1.0, "log": true}}`,
		`FloatDistribution(0.0001, 1.0, log=True)`},
	{search.Param{Name: "dropout", Type: search.Float, Low: 0, High: 0.5, Step: 0.1},
		`{"name": "FloatDistribution", "attributes": {"step": 0.1, "low": 0.0, "high": 0.5, "log": false}}`,
		`FloatDistribution(0.0, 0.5, step=0.1)`},
	{search.Param{Name: "width", Type: search.Int, Low: 8, High: 256, Log: true},
		`{"name": "IntDistribution", "attributes": {"log": true, "step": 1, "low": 8, "high": 256}}`,
		`IntDistribution(8, 256, log=True)`},
	{search.Param{Name: "warmup", Type: search.Int, Low: 0, High: 10, Step: 2},
		`{"name": "IntDistribution", "attributes": {"log": false, "step": 2, "low": 0, "high": 10}}`,
		`IntDistribution(0, 10, step=2)`},
	{search.Param{Name: "epochs", Type: search.Int, Low: 1, High: 5},
		`{"name": "IntDistribution", "attributes": {"log": false, "step": 1, "low": 1, "high": 5}}`,
		`IntDistribution(1, 5)`},
	{search.Param{Name: "mixed", Type: search.Categorical, Choices: []any{64, "adam", true, 0.5, 1.0}},
		`{"name": "CategoricalDistribution", "attributes": {"choices": [64, "adam", true, 0.5, 1.0]}}`,
		`CategoricalDistribution([64, "adam", True, 0.5, 1.0])`},
}

func TestDistribution(t *testing.T) {
	for _, c := range distributionCases {
		t.Run(c.param.Name, func(t *testing.T) {
			got, err := optuna.Distribution(c.param)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, []byte(c.want)) {
				t.Errorf("Distribution = %s\nwant            %s", got, c.want)
			}
		})
	}
}

// TestDistribution_Python asks Optuna itself, when python3 has it: the
// distribution Optuna decodes from our JSON equals the one it builds, and
// its own JSON of it is ours, value for value and type for type.
func TestDistribution_Python(t *testing.T) {
	py := ""
	for _, c := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(c, "-c", "import optuna").Run() == nil {
			py = c
			break
		}
	}
	if py == "" || testing.Short() {
		t.Skip("skipped: -short, or no python3 with optuna (apt-get install python3-optuna)")
	}
	var script strings.Builder
	script.WriteString("import json, sys\nfrom optuna.distributions import *\nbad = []\n")
	for _, c := range distributionCases {
		got, err := optuna.Distribution(c.param)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := json.Marshal(string(got))
		script.WriteString("d, ours = " + c.py + ", " + string(q) + "\n")
		script.WriteString("if json_to_distribution(ours) != d or [(type(x), x) for x in json.loads(ours)['attributes'].get('choices', [])] != " +
			"[(type(x), x) for x in json.loads(distribution_to_json(d))['attributes'].get('choices', [])]: bad.append(ours)\n")
	}
	script.WriteString("print('\\n'.join(bad) or 'ok')\n")
	out, err := exec.Command(py, "-c", script.String()).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("optuna disagrees: %v\n%s", err, out)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}

func TestParams(t *testing.T) {
	space := []search.Param{
		{Name: "opt", Type: search.Categorical, Choices: []any{"sgd", "adam"}, Conditional: map[string][]search.Param{
			"adam": {{Name: "beta2", Type: search.Float, Low: 0.9, High: 0.999}},
			"sgd":  {{Name: "momentum", Type: search.Float, Low: 0.8, High: 0.99}},
		}},
		{Name: "lr", Type: search.Float, Low: 0.001, High: 1},
	}
	var names []string
	for _, p := range optuna.Params(space) {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "opt momentum beta2 lr" {
		t.Errorf("Params = %s, want spec order with each choice's params after their parent", got)
	}
}

func TestURL(t *testing.T) {
	for _, c := range []struct{ dsn, want, err string }{
		{"postgres://sweep@/sweep?host=/d/run&port=5433&sslmode=disable",
			"postgresql://sweep@/sweep?host=/d/run&port=5433&sslmode=disable&options=-csearch_path%3Doptuna", ""},
		{"postgresql://u@db.example:5432/s",
			"postgresql://u@db.example:5432/s?options=-csearch_path%3Doptuna", ""},
		{"postgres://u@h/s?options=-cstatement_timeout%3D5000",
			"postgresql://u@h/s?options=-cstatement_timeout%3D5000+-csearch_path%3Doptuna", ""},
		{"postgres://u@h/s?options=-csearch_path%3Dx", "", "make optuna url: the DSN's options already set search_path (\"-csearch_path=x\")"},
		{"host=/tmp dbname=sweep", "", "make optuna url: want a postgres:// URL DSN, not key=value settings"},
	} {
		got, err := optuna.URL(c.dsn)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("URL(%q) error = %v, want %q", c.dsn, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("URL(%q) = %q, %v\nwant %q", c.dsn, got, err, c.want)
		}
	}
}

// TestReadJournal replays a hand-written log in Python's JSON dialect: a
// NaN token outside strings, "NaN" inside one, a template trial and
// incremental operations on a second trial.
func TestReadJournal(t *testing.T) {
	log := `{"op_code": 0, "worker_id": "w", "study_name": "other", "directions": [1]}
{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [2]}
{"op_code": 2, "worker_id": "w", "study_id": 1, "user_attr": {"team": "NaN here"}}
{"op_code": 4, "worker_id": "w", "study_id": 1, "datetime_start": "2026-01-02T03:04:05.000006", "state": 2, "value": 0.5, "values": null, "datetime_complete": "2026-01-02T03:04:06.000000", "distributions": {"bs": "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [64, 128.0]}}"}, "params": {"bs": 1.0}, "user_attrs": {}, "system_attrs": {}, "intermediate_values": {"1": NaN, "2": 0.5}}
{"op_code": 4, "worker_id": "w", "study_id": 0, "datetime_start": null}
{"op_code": 4, "worker_id": "w", "study_id": 1, "datetime_start": "2026-01-02T03:04:07.000000"}
{"op_code": 5, "worker_id": "w", "trial_id": 2, "param_name": "lr", "param_value_internal": 0.01, "distribution": "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": 0.001, \"high\": 1.0, \"log\": true}}"}
{"op_code": 7, "worker_id": "w", "trial_id": 2, "step": 3, "intermediate_value": -Infinity}
{"op_code": 8, "worker_id": "w", "trial_id": 2, "user_attr": {"acc": 0.75}}
{"op_code": 9, "worker_id": "w", "trial_id": 2, "system_attr": {"fail_reason": "boom"}}
{"op_code": 6, "worker_id": "w", "trial_id": 2, "state": 3, "values": null, "datetime_complete": "2026-01-02T03:04:08.000000"}
`
	st, err := optuna.ReadJournal(strings.NewReader(log), "s")
	if err != nil {
		t.Fatal(err)
	}
	if st.Direction != "maximize" || string(st.UserAttrs["team"]) != `"NaN here"` || len(st.Trials) != 2 {
		t.Fatalf("study: %+v", st)
	}
	a, b := st.Trials[0], st.Trials[1]
	if a.Number != 0 || a.State != "PRUNED" || *a.Value != 0.5 || a.Params["bs"] != 1 || !math.IsNaN(a.Intermediate[1]) ||
		a.Intermediate[2] != 0.5 || a.Start.Nanosecond() != 6000 || a.End == nil {
		t.Errorf("template trial: %+v", a)
	}
	p, err := optuna.ParamFromDistribution("bs", a.Dists["bs"])
	if err != nil || p.Choices[0] != 64 || p.Choices[1] != 128.0 {
		t.Errorf("choices %#v (%v): want int 64 and float 128", p.Choices, err)
	}
	if b.Number != 1 || b.State != "FAIL" || b.Value != nil || b.Params["lr"] != 0.01 || !math.IsInf(b.Intermediate[3], -1) ||
		string(b.UserAttrs["acc"]) != "0.75" || b.FailReason != "boom" || b.End == nil {
		t.Errorf("incremental trial: %+v", b)
	}
	if _, err := optuna.ReadJournal(strings.NewReader(log), "nope"); !errors.Is(err, optuna.ErrStudyNotFound) {
		t.Errorf("unknown study: %v", err)
	}
}

package search_test

import (
	"strings"
	"testing"
	"time"

	"sweep/search"
)

// durationOptions has the option kinds objective `command` decodes.
type durationOptions struct {
	Timeout time.Duration     `yaml:"timeout"`
	Grace   time.Duration     `yaml:"grace"`
	Env     map[string]string `yaml:"env"`
}

func TestOptionChecker_DecodeDurationsAndMaps(t *testing.T) {
	for _, tc := range []struct {
		options string
		want    durationOptions
		err     string
	}{
		{`timeout: 2h, grace: 10s`, durationOptions{Timeout: 2 * time.Hour, Grace: 10 * time.Second}, ""},
		{`timeout: 7200, grace: 2.5`, durationOptions{Timeout: 2 * time.Hour, Grace: 2500 * time.Millisecond}, ""},
		{`timeout: 1h30m, env: {A: "x", N: 4, B: true, F: 1.5}`, durationOptions{Timeout: 90 * time.Minute, Env: map[string]string{"A": "x", "N": "4", "B": "true", "F": "1.5"}}, ""},
		{`timeout: soon`, durationOptions{}, `s.yaml:4: objective.timeout: must be a duration between 0 and 8760h such as 90s, 2h or a number of seconds (got "soon")`},
		{`timeout: -5s`, durationOptions{}, `s.yaml:4: objective.timeout: must be a duration between 0 and 8760h`},
		{`grace: -1`, durationOptions{}, `s.yaml:4: objective.grace: must be between 0 and 8760h (got -1 seconds)`},
		{`grace: 1e12`, durationOptions{}, `s.yaml:4: objective.grace: must be between 0 and 8760h (got 1e12 seconds)`},
		{`grace: [1]`, durationOptions{}, `s.yaml:4: objective.grace: must be a duration such as 90s, 2h or a number of seconds (got a list)`},
		{`env: [A]`, durationOptions{}, `s.yaml:4: objective.env: must be a mapping (got a list)`},
		{`env: {A: [1]}`, durationOptions{}, `s.yaml:4: objective.env.A: must be a string (got a list)`},
	} {
		src := "study: s\ndirection: maximize\ntrials: 1\nobjective: {type: x, " + tc.options + "}\nparams:\n  a: {type: float, low: 0, high: 1}\n"
		spec, err := search.ParseSpec("s.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", tc.options, err)
		}
		var got durationOptions
		c := spec.Objective.Checker()
		c.Decode(&got)
		err = c.Err()
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.options, err)
		case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want %s", tc.options, err, tc.err)
		case tc.err == "" && (got.Timeout != tc.want.Timeout || got.Grace != tc.want.Grace || len(got.Env) != len(tc.want.Env)):
			t.Errorf("%s: got %+v, want %+v", tc.options, got, tc.want)
		}
		for k, v := range tc.want.Env {
			if got.Env[k] != v {
				t.Errorf("%s: env %s=%q, want %q", tc.options, k, got.Env[k], v)
			}
		}
	}
}

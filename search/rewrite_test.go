package search_test

import (
	"strings"
	"testing"

	"sweep/search"
)

func TestSetStudyName(t *testing.T) {
	body := "direction: minimize\ntrials: 10\nobjective: {type: synthetic}\nparams:\n  x: {type: float, low: 0, high: 1}\n"
	for _, c := range []struct {
		name, spec, to, want string
	}{
		{"Plain", "# my study\nstudy: old   # keep this comment\n" + body, "new-name",
			"# my study\nstudy: new-name   # keep this comment\n" + body},
		{"Quoted", "study: \"old #1\"\n" + body, "a: b",
			"study: \"a: b\"\n" + body},
		{"SingleQuoted", "study: 'it''s'\n" + body, "ünïcode name",
			"study: ünïcode name\n" + body},
		{"NotPlain", "study: old\n" + body, "true",
			"study: \"true\"\n" + body},
		{"SpacedValue", "\nstudy:   ölé\n" + body, "x", "\nstudy:   x\n" + body},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := search.SetStudyName("s.yaml", []byte(c.spec), c.to)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
	t.Run("FlowMapping", func(t *testing.T) {
		spec := "{study: old, direction: minimize, trials: 10, objective: {type: synthetic}, params: {x: {type: float, low: 0, high: 1}}}\n"
		got, err := search.SetStudyName("s.yaml", []byte(spec), "new")
		if err != nil {
			t.Fatal(err)
		}
		s, err := search.ParseSpec("s.yaml", got)
		if err != nil || s.Study != "new" || s.Trials != 10 || len(s.Params) != 1 {
			t.Errorf("re-encoded spec %q: %+v, %v", got, s, err)
		}
	})
	t.Run("InvalidName", func(t *testing.T) {
		_, err := search.SetStudyName("s.yaml", []byte("study: old\n"+body), "tab\there")
		if err == nil || !strings.Contains(err.Error(), "study: must not contain control characters") {
			t.Errorf("error %v; want the spec's own message", err)
		}
		_, err = search.SetStudyName("s.yaml", []byte("study: old\n"+body), strings.Repeat("x", search.MaxNameLen+1))
		if err == nil || !strings.Contains(err.Error(), "study: must be at most 200 bytes") {
			t.Errorf("error %v; want the spec's own message", err)
		}
	})
}

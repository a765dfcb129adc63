package search_test

import (
	"testing"
	"time"

	"sweep/search"
)

func TestParseSpec_Stop(t *testing.T) {
	s, err := search.ParseSpec("s.yaml", []byte(base+"stop: {timeout: 2h30m, max_failed: 5, target: 0.05}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Stop.Timeout != 150*time.Minute || s.Stop.MaxFailed != 5 || s.Stop.Target == nil || *s.Stop.Target != 0.05 || !s.Stop.Set() {
		t.Errorf("stop = %+v", s.Stop)
	}
	for _, in := range []string{"stop: {timeout: 90}\n", "stop: {timeout: 90s}\n", "stop: {timeout: 1m30s}\n"} {
		s, err := search.ParseSpec("s.yaml", []byte(base+in))
		if err != nil || s.Stop.Timeout != 90*time.Second {
			t.Errorf("%s: timeout %v, %v; want 1m30s", in, s.Stop.Timeout, err)
		}
	}
	if s, err := search.ParseSpec("s.yaml", []byte(base)); err != nil || s.Stop.Set() {
		t.Errorf("no stop key: %+v, %v", s.Stop, err)
	}
	for _, c := range []struct{ in, want string }{
		{"stop: {timeout: 0}\n", "s.yaml:7: stop.timeout: must be at least 1s (omit it for no time limit; got 0s)"},
		{"stop: {timeout: soon}\n", `s.yaml:7: stop.timeout: must be a duration between 0 and 8760h such as 90s, 2h or a number of seconds (got "soon")`},
		{"stop: {max_failed: 0}\n", "s.yaml:7: stop.max_failed: must be between 1 and 1000000 (omit it for no limit; got 0)"},
		{"stop: {max_failed: many}\n", `s.yaml:7: stop.max_failed: must be an integer (got "many")`},
		{"stop: {target: high}\n", `s.yaml:7: stop.target: must be a number (got "high")`},
		{"stop: {tarket: 0.9}\n", `s.yaml:7: stop.tarket: unknown key (want one of timeout, max_failed, target); did you mean "target"?`},
	} {
		if _, err := search.ParseSpec("s.yaml", []byte(base+c.in)); err == nil || err.Error() != c.want {
			t.Errorf("%s: error\n%v\nwant\n%s", c.in, err, c.want)
		}
	}
	// A changed stop condition is a changed study: resuming needs
	// --force-update, which stores it for every worker.
	a, _ := search.ParseSpec("s.yaml", []byte(base+"stop: {target: 0.1}\n"))
	b, _ := search.ParseSpec("s.yaml", []byte(base+"stop: {target: 0.2}\n"))
	if search.Equivalent(a, b) {
		t.Error("specs with different stop targets are Equivalent")
	}
}

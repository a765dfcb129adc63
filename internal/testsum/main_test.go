package main

import (
	"bytes"
	"strings"
	"testing"
)

// A run with a pass, two skips for one reason and a failure: the package
// lines and the failing test's output are printed, the skips counted by
// reason, and the status is 1.
func TestRun(t *testing.T) {
	in := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:9: no GPU: driver missing\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: no GPU: driver missing\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:5: got 2, want 3\n"}
{"Action":"fail","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}
{"Action":"fail","Package":"p"}
{"Action":"output","Package":"q","Output":"ok  \tq\t0.2s\n"}
{"Action":"pass","Package":"q"}
`
	var out bytes.Buffer
	if rc := run(strings.NewReader(in), &out); rc != 1 {
		t.Errorf("status %d, want 1 (a test failed)", rc)
	}
	for _, want := range []string{"c_test.go:5: got 2, want 3", "FAIL\tp", "ok  \tq", "2 test(s) skipped", "  2  no GPU: driver missing", "p TestB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	var ok bytes.Buffer
	if rc := run(strings.NewReader(`{"Action":"pass","Package":"q"}`+"\n"), &ok); rc != 0 || !strings.Contains(ok.String(), "0 test(s) skipped") {
		t.Errorf("passing run: status %d, output %q", rc, ok.String())
	}
	if rc := run(strings.NewReader(""), &ok); rc != 1 {
		t.Errorf("empty input: status %d, want 1 (no package result)", rc)
	}
}

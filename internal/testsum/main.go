// Command testsum reads `go test -json` on stdin and prints what a plain
// `go test` would (each package's ok/FAIL line, and the output of failing
// tests) as it arrives, then how many tests were skipped and why, grouped
// by reason. It exits 1 when a package or test failed or no package
// result arrived. `make test` pipes the test run through it. It does not
// run tests or rewrite their output.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of test2json output.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

// run streams the summary of in to out and returns the exit status.
func run(in io.Reader, out io.Writer) int {
	outputs := map[string][]string{} // package/test → its output so far
	skips := map[string][]string{}   // reason → tests
	failed, results := false, 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			fmt.Fprintln(out, sc.Text()) // not JSON: a build error, a panic
			continue
		}
		key := e.Package + "/" + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(out, e.Output)
		case e.Action == "output" && e.Test == "":
			if t := strings.TrimSpace(e.Output); strings.HasPrefix(t, "ok") || strings.HasPrefix(t, "FAIL") || strings.HasPrefix(t, "?") || strings.HasPrefix(t, "---") || strings.HasPrefix(t, "panic") {
				fmt.Fprint(out, e.Output)
			}
		case e.Action == "output":
			outputs[key] = append(outputs[key], e.Output)
		case e.Action == "fail" && e.Test != "":
			failed = true
			fmt.Fprint(out, strings.Join(outputs[key], ""))
		case e.Action == "skip" && e.Test != "":
			skips[reason(outputs[key])] = append(skips[reason(outputs[key])], e.Package+" "+e.Test)
		case e.Action == "fail":
			failed, results = true, results+1
		case e.Action == "pass" || e.Action == "skip":
			results++
		}
		if e.Action == "pass" || e.Action == "skip" || e.Action == "fail" {
			delete(outputs, key)
		}
	}
	summarize(out, skips)
	if failed || results == 0 || sc.Err() != nil {
		return 1
	}
	return 0
}

// reason is the message a skipped test gave: its last indented output
// line, without the file:line prefix.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "---") || strings.HasPrefix(l, "=== ") {
			continue
		}
		if _, after, ok := strings.Cut(l, ": "); ok && strings.Contains(l[:len(l)-len(after)], ".go:") {
			return after
		}
		return l
	}
	return "(no reason given)"
}

// summarize prints the skipped tests by reason, most common first.
func summarize(out io.Writer, skips map[string][]string) {
	n := 0
	reasons := make([]string, 0, len(skips))
	for r, ts := range skips {
		n += len(ts)
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if len(skips[reasons[i]]) != len(skips[reasons[j]]) {
			return len(skips[reasons[i]]) > len(skips[reasons[j]])
		}
		return reasons[i] < reasons[j]
	})
	fmt.Fprintf(out, "%d test(s) skipped\n", n)
	for _, r := range reasons {
		fmt.Fprintf(out, "  %3d  %s\n", len(skips[r]), r)
		for i, t := range skips[r] {
			if i == 5 {
				fmt.Fprintf(out, "         ... and %d more\n", len(skips[r])-5)
				break
			}
			fmt.Fprintf(out, "         %s\n", t)
		}
	}
}

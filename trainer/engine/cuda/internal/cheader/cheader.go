// Package cheader reads the "NAME VALUE" excerpts of NVIDIA's C headers
// that the binding packages keep in testdata, so their tests can check every
// enumeration and status table against the headers' values. It does not
// parse C: the excerpts were cut from the headers once, by hand.
package cheader

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Values reads path: one "NAME VALUE" pair per line, '#' lines are
// comments. It fails tb on a malformed line or an empty file.
func Values(tb testing.TB, path string) map[string]int {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	m := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.Atoi(fields[len(fields)-1])
		if len(fields) != 2 || err != nil {
			tb.Fatalf("%s: malformed line %q", path, line)
		}
		m[fields[0]] = v
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(m) == 0 {
		tb.Fatalf("%s: no values", path)
	}
	return m
}

// Names inverts m (value → name); of names sharing a value, the first in
// sorted order wins, so aliases must not be listed.
func Names(m map[string]int) map[int]string {
	out := map[int]string{}
	for n, v := range m {
		if old, ok := out[v]; !ok || n < old {
			out[v] = n
		}
	}
	return out
}

package main

import (
	"testing"

	"sweep/search/bench"
)

func TestSplice(t *testing.T) {
	sec := bench.MOSectionStart + "\nnew\n" + bench.MOSectionEnd + "\n"
	for _, tc := range []struct{ doc, want string }{
		{"", sec},
		{"# B\n", "# B\n\n" + sec},
		{"# B\n\n" + bench.MOSectionStart + "\nold\n" + bench.MOSectionEnd + "\nafter\n", "# B\n\n" + sec + "after\n"},
	} {
		if got := splice(tc.doc, sec); got != tc.want {
			t.Errorf("splice(%q) = %q, want %q", tc.doc, got, tc.want)
		}
	}
}

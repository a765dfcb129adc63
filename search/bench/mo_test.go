package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunMO runs the multi-objective benchmark at a toy size: every cell
// is filled, and the samplers find more hypervolume than random search on
// ZDT1 after 60 trials.
func TestRunMO(t *testing.T) {
	res, err := RunMO(context.Background(), MOConfig{Seeds: 2, Checkpoints: []int{30, 60}, Dims: 3, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 3 || len(res.Results[0].Stats) != len(MOMethods()) {
		t.Fatalf("results %+v", res.Results)
	}
	zdt1 := res.Results[0].Stats
	if random, motpe := zdt1[0][1].Median, zdt1[3][1].Median; !(motpe > random) {
		t.Errorf("ZDT1 at 60 trials: MOTPE %.4f, random %.4f; want MOTPE ahead", motpe, random)
	}
	var b bytes.Buffer
	if err := res.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{MOSectionStart, "### ZDT1 (2 objectives)", "### DTLZ2 (3 objectives)", "| MOTPE |", MOSectionEnd} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, b.String())
		}
	}
}

func TestSpliceMO(t *testing.T) {
	sec := MOSectionStart + "\nnew\n" + MOSectionEnd + "\n"
	old := "# B\n\n" + MOSectionStart + "\nold\n" + MOSectionEnd + "\nafter\n"
	for _, tc := range []struct{ doc, want string }{
		{"", sec},
		{"# B\n", "# B\n\n" + sec},
		{old, "# B\n\n" + sec + "after\n"},
	} {
		if got := SpliceMO(tc.doc, sec); got != tc.want {
			t.Errorf("SpliceMO(%q) = %q, want %q", tc.doc, got, tc.want)
		}
	}
	// What benchsearch does on rewriting the report: the old section
	// survives into the fresh single-objective text.
	if got, want := MOSection(old), MOSectionStart+"\nold\n"+MOSectionEnd+"\n"; got != want {
		t.Fatalf("MOSection = %q, want %q", got, want)
	}
	if got := MOSection("# B\n"); got != "" {
		t.Fatalf("MOSection of a doc without one = %q", got)
	}
	if got, want := SpliceMO("# fresh\n", MOSection(old)), "# fresh\n\n"+MOSectionStart+"\nold\n"+MOSectionEnd+"\n"; got != want {
		t.Fatalf("kept section: %q, want %q", got, want)
	}
}

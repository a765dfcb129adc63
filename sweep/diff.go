package sweep

import (
	"fmt"
	"strings"
)

// maxDiffCells bounds the LCS table of Diff; larger inputs are shown whole.
const maxDiffCells = 4_000_000

// Diff returns a line diff of a against b in unified style: unchanged lines
// prefixed "  ", removed "- ", added "+ ", with runs of more than three
// unchanged lines elided. Specs are small, so a plain LCS table is enough.
func Diff(a, b string) string {
	x, y := splitLines(a), splitLines(b)
	if len(x)*len(y) > maxDiffCells {
		return "- (stored spec, " + fmt.Sprint(len(x)) + " lines)\n+ (new spec, " + fmt.Sprint(len(y)) + " lines)\n"
	}
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out = append(out, "  "+x[i])
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "- "+x[i])
			i++
		default:
			out = append(out, "+ "+y[j])
			j++
		}
	}
	return elide(out, 1)
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// elide keeps ctx unchanged lines around each change and replaces longer
// unchanged runs with "  ...".
func elide(lines []string, ctx int) string {
	keep := make([]bool, len(lines))
	for i, l := range lines {
		if !strings.HasPrefix(l, "  ") {
			for k := max(0, i-ctx); k <= min(len(lines)-1, i+ctx); k++ {
				keep[k] = true
			}
		}
	}
	var b strings.Builder
	skipped := false
	for i, l := range lines {
		if keep[i] {
			b.WriteString(l + "\n")
			skipped = false
		} else if !skipped {
			b.WriteString("  ...\n")
			skipped = true
		}
	}
	return b.String()
}

package search

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// SpecError is one problem in a study spec, located by file, line and the
// dotted path of the field (params.lr.low).
type SpecError struct {
	File  string
	Line  int    // 1-based; 0 when the problem has no position (file too large)
	Field string // dotted path; empty for whole-file problems
	Err   error
}

// Error formats the problem as "file:line: field: message", the form editors
// and terminals recognise as a jump target.
func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *SpecError) Unwrap() error { return e.Err }

// SpecErrors lists every problem found in a spec, in file order. ParseSpec
// returns it (as error) so that one run shows all mistakes at once rather
// than one per edit.
type SpecErrors []*SpecError

// Error joins the problems, one per line.
func (l SpecErrors) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the individual problems to errors.Is and errors.As.
func (l SpecErrors) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Merge returns the problems of a and b (SpecErrors or nil) as one list in
// line order; a non-SpecErrors error is returned as is.
func Merge(a, b error) error {
	var la, lb SpecErrors
	if a != nil && !errors.As(a, &la) {
		return a
	}
	if b != nil && !errors.As(b, &lb) {
		return b
	}
	if len(la)+len(lb) == 0 {
		return nil
	}
	return append(append(SpecErrors{}, la...), lb...).sorted()
}

// sorted orders problems by line, keeping discovery order within a line.
func (l SpecErrors) sorted() SpecErrors {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Line < l[j].Line })
	return l
}

// Sentinel errors of spec parsing.
var (
	// ErrSpecTooLarge means the spec file exceeds MaxSpecBytes.
	ErrSpecTooLarge = errors.New("search: spec file too large")
	// ErrSpecTooComplex means the document expands (through YAML aliases or
	// sheer size) past MaxSpecNodes nodes.
	ErrSpecTooComplex = errors.New("search: spec too complex")
)

// DidYouMean returns `; did you mean "x"?` when one of candidates is close
// enough to got to be what was meant (see closest), else "". Spec errors
// for unknown keys and enum values end with it; cmd/sweep uses it for
// objective types.
func DidYouMean(got string, candidates []string) string {
	if c := closest(got, candidates); c != "" {
		return fmt.Sprintf("; did you mean %q?", c)
	}
	return ""
}

// closest returns the candidate nearest to got, ignoring case, when it is
// within one edit (insert, delete, substitute, swap two neighbours) per
// three letters of the candidate (at least one, and fewer than got has
// letters): "flaot" → "float", "lgo" → "log", "maximise" → "maximize",
// but nothing for "colour". Ties go to the earlier candidate; an exact
// match is no suggestion.
func closest(got string, candidates []string) string {
	if got == "" || len(got) > 64 {
		return ""
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		if c == got {
			return ""
		}
		d := editDistance(strings.ToLower(got), strings.ToLower(c))
		if d > max(1, len([]rune(c))/3) || d >= len([]rune(got)) {
			continue // too far, or nothing in common (a one-letter key)
		}
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// Levenshtein's insertions, deletions and substitutions plus swaps of two
// adjacent letters, the commonest typing slip.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1) // row i-2, for swaps
	prev := make([]int, len(rb)+1)  // row i-1
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

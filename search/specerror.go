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

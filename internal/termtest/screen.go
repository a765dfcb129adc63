// Package termtest is a minimal terminal for tests of live displays: it
// applies what a program wrote to a terminal of a given width and says
// what is left on the screen and whether any line ran past the width.
//
// It understands printable text (display widths as go-runewidth counts
// them), carriage return, line feed (which also returns the carriage, as a
// tty in its usual ONLCR output mode shows it), and the CSI sequences a line-based
// display uses: cursor up (A), cursor to the start of a previous line (F),
// erase below (J) and erase to the end of the line (K). Anything else is
// recorded in Unknown, so a test fails on escapes it did not expect. It
// has no height (nothing scrolls off), no colours, no cursor addressing
// and no reflow on resize. It is not safe for concurrent use.
package termtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// Screen is the terminal's state after the bytes written so far.
type Screen struct {
	// Width is the number of columns; text past it wraps, as a terminal
	// with autowrap does, and is recorded in Wrapped.
	Width int
	// Wrapped holds each row (as it was then) that a write ran past the
	// width.
	Wrapped []string
	// Unknown holds the escape sequences and control bytes Screen does
	// not implement.
	Unknown []string
	// Moves counts cursor-up movements (A or F): a display that redraws in
	// place moves up; one that appends does not.
	Moves int

	rows    [][]cell
	row     int
	col     int
	partial []byte // an incomplete UTF-8 or escape sequence from the last Write
}

// cell is one column; a wide character's second column has r == 0.
type cell struct{ r rune }

// NewScreen returns an empty screen of width columns.
func NewScreen(width int) *Screen { return &Screen{Width: width} }

// Write applies p. It never fails.
func (s *Screen) Write(p []byte) (int, error) {
	n := len(p)
	b := append(s.partial, p...)
	s.partial = nil
	for len(b) > 0 {
		switch c := b[0]; {
		case c == 0x1b:
			size, ok := s.escape(b)
			if !ok {
				s.partial = append([]byte(nil), b...)
				return n, nil
			}
			b = b[size:]
		case c == '\r':
			s.col = 0
			b = b[1:]
		case c == '\n':
			// As a tty shows it: its ONLCR output mode adds the carriage return.
			s.row++
			s.col = 0
			s.ensure()
			b = b[1:]
		case c < 0x20 || c == 0x7f:
			s.Unknown = append(s.Unknown, fmt.Sprintf("%q", c))
			b = b[1:]
		default:
			if !utf8.FullRune(b) {
				s.partial = append([]byte(nil), b...)
				return n, nil
			}
			r, size := utf8.DecodeRune(b)
			s.put(r)
			b = b[size:]
		}
	}
	return n, nil
}

// escape applies the escape sequence at the start of b and returns its
// length; ok is false when b ends inside it.
func (s *Screen) escape(b []byte) (size int, ok bool) {
	if len(b) < 2 {
		return 0, false
	}
	if b[1] != '[' {
		s.Unknown = append(s.Unknown, fmt.Sprintf("%q", b[:2]))
		return 2, true
	}
	i := 2
	for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == ';' || b[i] == '?') {
		i++
	}
	if i == len(b) {
		return 0, false
	}
	arg, final := string(b[2:i]), b[i]
	n := 1
	if arg != "" {
		v, err := strconv.Atoi(arg)
		if err != nil {
			s.Unknown = append(s.Unknown, fmt.Sprintf("%q", b[:i+1]))
			return i + 1, true
		}
		n = v
	}
	switch {
	case final == 'A' || final == 'F':
		s.row = max(0, s.row-n)
		if final == 'F' {
			s.col = 0
		}
		s.Moves++
	case final == 'J' && (arg == "" || arg == "0"):
		s.ensure()
		s.rows[s.row] = s.rows[s.row][:min(s.col, len(s.rows[s.row]))]
		s.rows = s.rows[:s.row+1]
	case final == 'K' && (arg == "" || arg == "0"):
		s.ensure()
		s.rows[s.row] = s.rows[s.row][:min(s.col, len(s.rows[s.row]))]
	default:
		s.Unknown = append(s.Unknown, fmt.Sprintf("%q", b[:i+1]))
	}
	return i + 1, true
}

// put writes r at the cursor, wrapping first if it does not fit.
func (s *Screen) put(r rune) {
	w := runewidth.RuneWidth(r)
	s.ensure()
	if w == 0 {
		return // combining marks and the like: nothing to place
	}
	if s.col+w > s.Width {
		s.Wrapped = append(s.Wrapped, s.line(s.row))
		s.row++
		s.col = 0
		s.ensure()
	}
	line := s.rows[s.row]
	for len(line) < s.col+w {
		line = append(line, cell{' '})
	}
	line[s.col] = cell{r}
	if w == 2 {
		line[s.col+1] = cell{0}
	}
	s.rows[s.row] = line
	s.col += w
}

// ensure makes the cursor's row exist.
func (s *Screen) ensure() {
	for len(s.rows) <= s.row {
		s.rows = append(s.rows, nil)
	}
}

// line returns row i as text, trailing spaces removed.
func (s *Screen) line(i int) string {
	var b strings.Builder
	for _, c := range s.rows[i] {
		if c.r != 0 {
			b.WriteRune(c.r)
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// Lines returns the screen's rows, trailing spaces removed, without the
// empty row the cursor sits on after a final line feed.
func (s *Screen) Lines() []string {
	out := make([]string, len(s.rows))
	for i := range s.rows {
		out[i] = s.line(i)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// String is the screen as text, one row a line.
func (s *Screen) String() string { return strings.Join(s.Lines(), "\n") }

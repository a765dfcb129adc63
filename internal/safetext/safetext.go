// Package safetext makes untrusted text safe to show: study and param
// names, categorical choices, objective argv, attrs and failure reasons come
// from spec files and objectives that other people write, and end up on a
// terminal, in a spreadsheet or in a Markdown file.
//
//   - Terminal strips terminal escape sequences (a name holding
//     "\x1b]0;...\a" must not retitle the window, "\x1b[2J" must not clear
//     it), other control characters and bidirectional overrides, and folds
//     line breaks and tabs into spaces so one value stays one cell or line.
//   - CSV also neutralises spreadsheet formulas: a cell starting with = + - @
//     that is not a plain number gets a leading apostrophe,
//     so "=HYPERLINK(...)" stays text in Excel and LibreOffice.
//   - Markdown also escapes the characters that would close a table cell or
//     open raw HTML.
//
// It does not escape HTML: html/template does that where reports render it.
// It never fails: every input maps to some printable string.
package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal returns s without escape sequences, control characters or
// bidirectional formatting characters, on one line. Printable text,
// unicode included, passes unchanged.
func Terminal(s string) string {
	if isPlain(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r == 0x9b: // C1 CSI: the same as ESC [
			i += size + csiLen(s[i+size:])
			continue
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			b.WriteByte(' ')
		case unicode.Is(unicode.Bidi_Control, r) || r == '\u200e' || r == '\u200f':
			// dropped: they reorder the text around them
		case unicode.IsControl(r):
			// dropped: C0 and C1 controls, DEL
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII, the common case.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// escapeLen returns the length of the escape sequence at the start of s
// (s[0] is ESC): CSI (ESC [ ... final byte), the string sequences OSC, DCS,
// SOS, PM and APC (up to BEL or ESC \), or ESC and one more character.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiLen(s[2:])
	case ']', 'P', 'X', '^', '_':
		for j := 2; j < len(s); j++ {
			if s[j] == 0x07 {
				return j + 1
			}
			if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
		}
		return len(s)
	}
	_, size := utf8.DecodeRuneInString(s[1:])
	return 1 + size
}

// csiLen returns the length of a CSI sequence's parameters and final byte
// (0x40-0x7e), or of the run of parameter bytes when it is cut short.
func csiLen(s string) int {
	for j := 0; j < len(s); j++ {
		c := s[j]
		if c >= 0x40 && c <= 0x7e {
			return j + 1
		}
		if c < 0x20 || c > 0x7e {
			return j
		}
	}
	return len(s)
}

// CSV returns Terminal(s) with a leading apostrophe when a spreadsheet would
// read it as a formula. Plain numbers ("-0.5", "+3", "1e-4") stay numbers,
// and a lone "-" (a missing value) stays as it is.
func CSV(s string) string {
	s = Terminal(s)
	if s == "" || s == "-" || !strings.ContainsRune("=+-@", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// Markdown returns Terminal(s) with the characters escaped that would end a
// table cell (|), start raw HTML (<, >, &) or a code span (`).
func Markdown(s string) string {
	return mdEscaper.Replace(Terminal(s))
}

var mdEscaper = strings.NewReplacer(`|`, `\|`, `<`, `&lt;`, `>`, `&gt;`, `&`, `&amp;`, "`", "\\`", `\`, `\\`)

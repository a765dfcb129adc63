package safetext_test

import (
	"testing"

	"sweep/internal/safetext"
)

func TestTerminal(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain name", "plain name"},
		{"lr=0.03 ≥ ü", "lr=0.03 ≥ ü"},
		{"red\x1b[31mtext\x1b[0m", "redtext"},
		{"clear\x1b[2J\x1b[H", "clear"},
		{"title\x1b]0;pwned\x07x", "titlex"},
		{"link\x1b]8;;http://h\x1b\\x\x1b]8;;\x1b\\", "linkx"},
		{"c1\u009b31mcsi", "c1csi"},
		{"dcs\x1bPq#0\x1b\\end", "dcsend"},
		{"two\x1bcchar", "twochar"},
		{"cut\x1b[31", "cut"},
		{"bell\a nul\x00 del\x7f", "bell nul del"},
		{"multi\nline\ttab\rcr", "multi line tab cr"},
		{"bidi\u202eevil\u2066x\u2069", "bidievilx"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
	}
	for _, c := range cases {
		if got := safetext.Terminal(c.in); got != c.want {
			t.Errorf("Terminal(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCSV(t *testing.T) {
	cases := []struct{ in, want string }{
		{"=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"-0.5", "-0.5"},
		{"+3", "+3"},
		{"-1e-4", "-1e-4"},
		{"name", "name"},
		{"-", "-"},
		{"", ""},
		{"\x1b[31m=1+1", "'=1+1"},
	}
	for _, c := range cases {
		if got := safetext.CSV(c.in); got != c.want {
			t.Errorf("CSV(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	in := "a|b <script>x</script> `c` \x1b[1m"
	want := "a\\|b &lt;script&gt;x&lt;/script&gt; \\`c\\` "
	if got := safetext.Markdown(in); got != want {
		t.Errorf("Markdown(%q) = %q, want %q", in, got, want)
	}
}

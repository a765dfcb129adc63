package termtest

import (
	"reflect"
	"testing"
)

func TestScreen_Write(t *testing.T) {
	cases := []struct {
		name      string
		width     int
		in        []string // written one by one, so sequences may be split
		want      []string
		wrapped   int
		moves     int
		unknownOK bool
	}{
		{name: "Lines", width: 10, in: []string{"ab\r\ncd\n"}, want: []string{"ab", "cd"}},
		{name: "ExactWidthDoesNotWrap", width: 4, in: []string{"abcd\n", "ef\n"}, want: []string{"abcd", "ef"}},
		{name: "Wrap", width: 4, in: []string{"abcdef\n"}, want: []string{"abcd", "ef"}, wrapped: 1},
		{name: "WideRunes", width: 4, in: []string{"日本語\n"}, want: []string{"日本", "語"}, wrapped: 1},
		{name: "RedrawInPlace", width: 20, in: []string{"log\nlive 1\nlive 2\n", "\x1b[2F\x1b[Jlog 2\nlive 3\n"},
			want: []string{"log", "log 2", "live 3"}, moves: 1},
		{name: "CursorUpAndEraseLine", width: 20, in: []string{"a\nb\n", "\x1b[2A\r\x1b[Kc\n"}, want: []string{"c", "b"}, moves: 1},
		{name: "SplitSequence", width: 20, in: []string{"x\ny\n\x1b[", "1F\x1b", "[J", "z\n", "\xe6\x97", "\xa5\n"}, want: []string{"x", "z", "日"}, moves: 1},
		{name: "Unknown", width: 20, in: []string{"\x1b]0;title\x07a\n"}, want: []string{"0;titlea"}, unknownOK: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewScreen(c.width)
			for _, p := range c.in {
				s.Write([]byte(p))
			}
			if got := s.Lines(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("lines %q, want %q", got, c.want)
			}
			if len(s.Wrapped) != c.wrapped {
				t.Errorf("wrapped %q, want %d", s.Wrapped, c.wrapped)
			}
			if s.Moves != c.moves {
				t.Errorf("moves %d, want %d", s.Moves, c.moves)
			}
			if (len(s.Unknown) > 0) != c.unknownOK {
				t.Errorf("unknown %q", s.Unknown)
			}
		})
	}
}

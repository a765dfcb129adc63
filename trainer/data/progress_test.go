package data

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fakeClock advances by step on every call.
func fakeClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(step); return t }
}

func TestProgress_NonTTY(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, fakeClock(10*time.Millisecond), 0, 100<<20)
	chunk := make([]byte, 1<<20)
	for range 100 {
		p.Write(chunk)
	}
	p.finish()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want one per 10%%:\n%s", len(lines), out.String())
	}
	// 1 MiB per 10 ms is 100 MiB/s; at 50% the rest takes 0.5 s.
	if want := "fetch:  50%  50.0 MiB of 100.0 MiB  100.0 MiB/s  ETA 1s"; lines[4] != want {
		t.Errorf("line 5 = %q, want %q", lines[4], want)
	}
	if !strings.HasPrefix(lines[9], "fetch: 100%") {
		t.Errorf("last line = %q", lines[9])
	}
}

func TestProgress_TTY(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, true, fakeClock(10*time.Millisecond), 25<<20, 100<<20)
	chunk := make([]byte, 1<<20)
	for range 75 {
		p.Write(chunk)
	}
	p.finish()
	s := out.String()
	// 75 writes 10 ms apart: a redraw every 100 ms, plus the final one.
	if n := strings.Count(s, "\r\033[K"); n < 7 || n > 9 {
		t.Errorf("%d redraws, want about 8", n)
	}
	last := s[strings.LastIndex(s, "\r"):]
	if !strings.HasPrefix(last, "\r\033[K[==============================] 100%  100.0 MiB of 100.0 MiB  ") ||
		!strings.HasSuffix(last, "ETA 0s\n") {
		t.Errorf("final line: %q", last)
	}
	if !strings.Contains(s, "\r\033[K[==========                    ]  36%  36.0 MiB of 100.0 MiB  100.0 MiB/s  ETA 1s") {
		t.Errorf("no 36%% bar in %q", s)
	}
}

func TestProgress_UnknownSize(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, fakeClock(time.Millisecond), 0, -1)
	p.Write(make([]byte, 40<<20))
	if got := out.String(); !strings.HasPrefix(got, "fetch: 40.0 MiB  ") {
		t.Errorf("output %q", got)
	}
}

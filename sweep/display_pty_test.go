//go:build unix

package sweep_test

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/mattn/go-runewidth"

	"sweep/sweep"
)

// ptyTerm is a pseudo-terminal: the display writes to its tty end, as it
// would to a user's terminal, and the test reads what came out of the
// master end (with the tty's own output processing, \n as \r\n).
type ptyTerm struct {
	master, tty *os.File
	mu          sync.Mutex
	out         bytes.Buffer
	read        int // bytes of out handed to the test so far
	done        chan struct{}
}

// phaseMark separates the test's phases in the output. The display never
// sends it, and on a terminal it erases the empty row under the block:
// nothing.
const phaseMark = "\x1b[0K"

// openPTY opens a pseudo-terminal of width columns, skipping the test
// where the system has none.
func openPTY(t *testing.T, width int) *ptyTerm {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	p := &ptyTerm{master: master, tty: tty, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		tty.Close()
		master.Close()
		<-p.done
	})
	p.resize(t, width)
	return p
}

// resize sets the window's width, as a user dragging its edge would.
func (p *ptyTerm) resize(t *testing.T, width int) {
	t.Helper()
	if err := pty.Setsize(p.master, &pty.Winsize{Rows: 50, Cols: uint16(width)}); err != nil {
		t.Fatalf("set the pty's size: %v", err)
	}
}

// phase marks the end of a phase and returns what the terminal received
// since the last mark, once all of it has arrived.
func (p *ptyTerm) phase(t *testing.T) string {
	t.Helper()
	if _, err := p.tty.WriteString(phaseMark); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		rest := p.out.String()[p.read:]
		p.mu.Unlock()
		if i := strings.Index(rest, phaseMark); i >= 0 {
			p.read += i + len(phaseMark)
			return rest[:i]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the terminal output never arrived")
	return ""
}

func TestDisplay_PTY(t *testing.T) {
	// The display learns the width from the terminal itself here (no
	// SetWidth), at 40, 80 and 200 columns.
	for _, width := range []int{40, 80, 200} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			term := openPTY(t, width)
			c := newTestClock()
			d := sweep.NewDisplay(term.tty, true, 3, c.now)
			logs := scenario(d, c)
			live := term.phase(t)
			if !strings.Contains(live, "\r\n") {
				t.Errorf("output did not go through the tty (no \\r\\n): %q", live)
			}
			s := screen(t, width, live)
			checkScreen(t, s, width, logs, true)
			if s.Moves < 10 {
				t.Errorf("%d cursor-up moves: the block was not redrawn in place", s.Moves)
			}
			d.Close()
			checkScreen(t, screen(t, width, live+term.phase(t)), width, logs, false)
		})
	}
	t.Run("Resize", func(t *testing.T) {
		// Narrowed from 120 to 40 columns: the next redraw fits 40 and
		// moves up over the old block as a reflowing terminal shows it
		// (each old line on ceil(width/40) rows).
		term := openPTY(t, 120)
		c := newTestClock()
		d := sweep.NewDisplay(term.tty, true, 3, c.now)
		logs := scenario(d, c)
		before := screen(t, 120, term.phase(t)).Lines()
		wantUp := 0
		for _, r := range before[len(before)-4:] {
			wantUp += (runewidth.StringWidth(r) + 39) / 40
		}
		term.resize(t, 40)
		c.add(time.Second)
		d.TrialReported(1, 5, 0.9)
		c.add(time.Second)
		d.Logf("%s", logs[1])
		after := term.phase(t)
		m := regexp.MustCompile(`^\x1b\[(\d+)F\x1b\[J`).FindStringSubmatch(after)
		if m == nil {
			t.Fatalf("the first redraw after the resize does not move up: %q", after)
		}
		if up, _ := strconv.Atoi(m[1]); up != wantUp || wantUp <= 4 {
			t.Errorf("moved up %s rows over the old block, want %d (4 lines at 120 columns reflowed to 40)", m[1], wantUp)
		}
		s := screen(t, 40, after)
		if len(s.Wrapped) > 0 {
			t.Errorf("rows wrapped after the resize: %q", s.Wrapped)
		}
		rows := s.Lines()
		for _, r := range rows {
			if runewidth.StringWidth(r) >= 40 {
				t.Errorf("row %q does not fit 40 columns", r)
			}
		}
		if len(rows) < 4 || !strings.HasPrefix(rows[len(rows)-4], "12/30 done") || !strings.HasPrefix(rows[len(rows)-2], "#21 step 5/10") {
			t.Errorf("live block after the resize: %q", rows)
		}
		d.Close()
	})
}

package sweep

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"sweep/internal/safetext"
)

// redrawEvery throttles live-line redraws on a terminal.
const redrawEvery = 100 * time.Millisecond

// Display shows what the worker does. On a terminal it keeps one live line
// per slot (trial, step, metric) at the bottom, redrawn in place with ANSI
// escapes, and scrolls log lines above it. Elsewhere (a file, a pipe, CI) it
// writes only the log lines. Display is safe for concurrent use.
type Display struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	now   func() time.Time
	slots []string
	drawn int // live lines currently on screen
	last  time.Time
}

// NewDisplay returns a display for slots live lines writing to w; tty
// selects live redrawing. now is the clock (nil: time.Now).
func NewDisplay(w io.Writer, tty bool, slots int, now func() time.Time) *Display {
	if now == nil {
		now = time.Now
	}
	return &Display{w: w, tty: tty, now: now, slots: make([]string, slots)}
}

// Logf writes one permanent line. Its arguments may hold untrusted text
// (params, reasons, names): escape sequences and control characters are
// stripped, and line breaks inside it become spaces.
func (d *Display) Logf(format string, args ...any) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	line := safetext.Terminal(strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
	if !d.tty {
		fmt.Fprintln(d.w, line)
		return
	}
	d.redraw(line)
}

// Slot sets slot i's live line ("" hides it). On a terminal the screen is
// redrawn at most every redrawEvery; elsewhere nothing is written.
func (d *Display) Slot(i int, text string) {
	if d == nil || !d.tty {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if i < 0 || i >= len(d.slots) {
		return
	}
	d.slots[i] = safetext.Terminal(text)
	if now := d.now(); now.Sub(d.last) >= redrawEvery {
		d.last = now
		d.redraw("")
	}
}

// Close removes the live lines, leaving only the log.
func (d *Display) Close() {
	if d == nil || !d.tty {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.slots {
		d.slots[i] = ""
	}
	d.redraw("")
}

// redraw moves to the top of the live block, erases it, prints logLine (if
// any) and the non-empty live lines. Callers hold mu.
func (d *Display) redraw(logLine string) {
	var b strings.Builder
	if d.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dF", d.drawn) // cursor up to column 1
	}
	b.WriteString("\x1b[J") // erase to end of screen
	if logLine != "" {
		b.WriteString(logLine + "\n")
	}
	d.drawn = 0
	for _, s := range d.slots {
		if s != "" {
			b.WriteString(s + "\n")
			d.drawn++
		}
	}
	io.WriteString(d.w, b.String())
}

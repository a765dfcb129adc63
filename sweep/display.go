package sweep

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/c-bata/goptuna"
	"github.com/mattn/go-runewidth"
	"golang.org/x/term"

	"sweep/internal/safetext"
)

// Why no terminal library: issue 14 asked for one (vbauerster/mpb,
// charmbracelet/bubbletea) unless its cost is written down. What the
// display needs from the terminal is its width (golang.org/x/term, already
// a dependency), the display width of text (go-runewidth, already in the
// module graph through tablewriter) and two escape sequences. Measured
// with mpb v8.16.2 (a toy program drawing this block, CGO_ENABLED=0,
// go 1.26): four more modules (mpb, cupwriter, VividCortex/ewma and
// acarl005/stripansi, untouched since 2018), go-runewidth forced from
// v0.0.19 to v0.0.30 or later under tablewriter's tables, +0.85 MB
// of binary (+0.61 MB stripped), and 8 goroutines of its own for one
// container with 5 bars, where this display has a timer at most. mpb
// draws from those goroutines on a wall-clock ticker, so what reaches the
// screen depends on scheduling: the byte-exact tests, the injected clock
// and the commands' golden output would go. Its bars are counters made to
// complete, where a slot's line lives across trials and the study line
// is no bar. bubbletea is an application loop that owns rendering and,
// by default, reads the terminal in raw mode, where Ctrl-C arrives as
// a key rather than the SIGINT of Interrupts' two-stage stop.

// Display cadences. redrawEvery throttles redraws of the live block on a
// terminal (a synthetic study reports thousands of steps a second);
// progressTrials and progressEvery space the study line in plain logs.
const (
	redrawEvery    = 100 * time.Millisecond
	progressTrials = 5 // at least; a tenth of the budget for larger studies
	progressEvery  = 5 * time.Minute
	defaultColumns = 80 // when the terminal does not say
)

// Display shows what a worker does.
//
// On a terminal it keeps a live block at the bottom of the screen, redrawn
// in place (cursor up, erase below) with log lines scrolling above it:
//
//	12/30 done · 3 running · best 0.858 (#19) · ETA 4m
//	#21 step 3/10 ██████░░░░░░░░░░░░░░ val_acc=0.8123 1m12s  lr=0.01 opt=sgd
//	#22 starting  lr=0.2 opt=adam
//
// Every line it draws fits the terminal's width, asked again at each
// redraw (so a resized window is honoured without a SIGWINCH handler), and
// one column is left free because some terminals wrap as soon as the last
// one is written. A line that wrapped would take two rows, the cursor-up
// count would miss one, and stale copies of the block would pile up. Live
// lines are cut with "…"; log lines are folded onto indented continuation
// rows instead, so nothing in the log is lost.
//
// Elsewhere (a file, a pipe, CI) it writes plain log lines without escape
// sequences, one per event: a trial started, finished, was pruned or
// failed, and the study line every few trials or minutes.
//
// Every line passes through safetext.Terminal: params, metric names and
// failure reasons come from specs and objectives other people write.
//
// Display is safe for concurrent use. A nil *Display is silent.
type Display struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	now   func() time.Time
	width func() int // columns of w; ≤ 0 when unknown
	slots []liveTrial
	study studyProgress

	// On a terminal.
	drawn   []int       // display width of each live line now on screen
	last    time.Time   // when the live block was last drawn
	pending *time.Timer // the trailing redraw of a throttled update
	closed  bool

	// In plain logs: the finished count and time of the last study line.
	loggedDone int
	loggedAt   time.Time
}

// liveTrial is a slot's running trial.
type liveTrial struct {
	number int // -1: the slot is idle
	params string
	steps  int // steps the trial reports in all; 0 when unknown
	step   int // last reported step; 0 before the first report
	value  float64
	start  time.Time
}

// NewDisplay returns a display with slots live lines writing to w; tty
// selects the live block. When w is a terminal file its width is read at
// each redraw; otherwise lines are fitted to 80 columns (see SetWidth).
// now is the clock (nil: time.Now).
func NewDisplay(w io.Writer, tty bool, slots int, now func() time.Time) *Display {
	if now == nil {
		now = time.Now
	}
	d := &Display{w: w, tty: tty, now: now, width: func() int { return 0 }, slots: make([]liveTrial, slots)}
	for i := range d.slots {
		d.slots[i].number = -1
	}
	if f, ok := w.(*os.File); ok {
		fd := int(f.Fd())
		d.width = func() int {
			cols, _, err := term.GetSize(fd)
			if err != nil {
				return 0
			}
			return cols
		}
	}
	d.study.finished = map[int]finishedTrial{}
	d.loggedAt = now()
	return d
}

// SetWidth replaces how the display learns the terminal's width in
// columns (asked at each redraw; ≤ 0 means unknown, 80).
func (d *Display) SetWidth(columns func() int) {
	if d == nil || columns == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.width = columns
}

// DisplayStudy is what the study line shows besides the trials.
type DisplayStudy struct {
	Trials   int    // the study's budget (all workers, retries included)
	Metric   string // the objective's metric, for slot lines
	Maximize bool   // the direction, for "best"
}

// SetStudy turns on the study line.
func (d *Display) SetStudy(s DisplayStudy) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s.Metric = safetext.Terminal(s.Metric)
	d.study.DisplayStudy = s
	d.study.known = true
	d.update()
}

// Observe merges the study's trials as stored: other workers' running and
// finished trials, and those finished before this worker started.
func (d *Display) Observe(trials []goptuna.FrozenTrial) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.study.observe(trials)
	d.update()
}

// TrialStarted says slot runs trial number with params (formatted), which
// reports steps steps in all (0 when unknown).
func (d *Display) TrialStarted(slot, number int, params string, steps int) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if slot >= 0 && slot < len(d.slots) {
		d.slots[slot] = liveTrial{number: number, params: safetext.Terminal(params), steps: steps, start: d.now()}
	}
	if !d.tty {
		d.plain(strings.TrimRight(fmt.Sprintf("trial %d started  %s", number, params), " "))
		return
	}
	d.update()
}

// TrialReported says slot's trial reported value at step.
func (d *Display) TrialReported(slot, step int, value float64) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if slot < 0 || slot >= len(d.slots) || d.slots[slot].number < 0 {
		return
	}
	d.slots[slot].step, d.slots[slot].value = step, value
	if !d.tty {
		d.progress()
		return
	}
	d.update()
}

// TrialFinished says trial number, run by slot, ended in state with value
// after took; line is its log line.
func (d *Display) TrialFinished(slot, number int, state goptuna.TrialState, value float64, took time.Duration, line string) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.study.add(number, finishedTrial{state: state, value: value, took: took})
	if slot >= 0 && slot < len(d.slots) {
		d.slots[slot].number = -1
	}
	if !d.tty {
		d.plain(line)
		d.progress()
		return
	}
	d.draw(line)
}

// SlotIdle clears slot's live line without counting its trial (one taken
// away, for instance: the stored state says how it ended).
func (d *Display) SlotIdle(slot int) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if slot < 0 || slot >= len(d.slots) {
		return
	}
	d.slots[slot].number = -1
	if d.tty {
		d.update()
	}
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
	line := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	if !d.tty {
		d.plain(line)
		return
	}
	d.draw(line)
}

// Close removes the live block, leaving only the log.
func (d *Display) Close() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.closed = true
	if d.tty {
		d.draw()
	}
}

// plain writes a log line as it is (files and pipes have no width).
// Callers hold mu.
func (d *Display) plain(line string) {
	fmt.Fprintln(d.w, safetext.Terminal(line))
}

// progress writes the study line to a plain log when progressTrials (or
// a tenth of the budget) more trials have finished, or progressEvery has
// passed with trials running, since the last one. Callers hold mu.
func (d *Display) progress() {
	if !d.study.known {
		return
	}
	done, now := len(d.study.finished), d.now()
	due := done-d.loggedDone >= max(progressTrials, d.study.Trials/10) ||
		now.Sub(d.loggedAt) >= progressEvery && (done > d.loggedDone || len(d.busy()) > 0)
	if !due {
		return
	}
	d.loggedDone, d.loggedAt = done, now
	d.plain("progress: " + d.study.line(d.busy(), len(d.slots)))
}

// update redraws the live block, or schedules it when the last redraw was
// less than redrawEvery ago. Callers hold mu.
func (d *Display) update() {
	if !d.tty || d.closed || d.pending != nil {
		return
	}
	wait := redrawEvery - d.now().Sub(d.last)
	if wait <= 0 {
		d.draw()
		return
	}
	// The timer runs on the wall clock whatever d.now is: it only bounds
	// how long a throttled change waits when no other event follows.
	// The callback waits for mu, which the caller holds, so it sees timer
	// set; one that draw stopped too late finds another (or none) pending.
	var timer *time.Timer
	timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.pending == timer && !d.closed {
			d.draw()
		}
	})
	d.pending = timer
}

// draw moves to the top of the live block, erases it, prints the log lines
// and then the live block again. Callers hold mu.
func (d *Display) draw(logs ...string) {
	if d.pending != nil {
		d.pending.Stop()
		d.pending = nil
	}
	d.last = d.now()
	cols := d.width()
	if cols <= 0 {
		cols = defaultColumns
	}
	fit := max(cols-1, 1)
	var b strings.Builder
	if rows := d.rows(cols); rows > 0 {
		// Cursor to column 1 of the block's first row, erase to the end.
		fmt.Fprintf(&b, "\x1b[%dF\x1b[J", rows)
	}
	for _, l := range logs {
		for _, r := range fold(safetext.Terminal(l), fit) {
			b.WriteString(r + "\n")
		}
	}
	d.drawn = d.drawn[:0]
	if !d.closed {
		for _, l := range d.live(fit) {
			b.WriteString(l + "\n")
			d.drawn = append(d.drawn, runewidth.StringWidth(l))
		}
	}
	if b.Len() > 0 {
		io.WriteString(d.w, b.String())
	}
}

// rows is how many rows the drawn block takes at cols columns. Each line
// took one row when drawn; after the window narrowed, terminals that
// reflow (most do: VTE, iTerm2, kitty, Windows Terminal, tmux) rewrap it
// onto more. One that does not (xterm) loses a few rows of log from the
// screen above the block then, rather than leaving stale copies of it.
func (d *Display) rows(cols int) int {
	n := 0
	for _, w := range d.drawn {
		n += max(1, (w+cols-1)/cols)
	}
	return n
}

// live returns the live block's lines, each fitted to fit columns.
// Callers hold mu.
func (d *Display) live(fit int) []string {
	var lines []string
	if d.study.known {
		lines = append(lines, truncate(d.study.line(d.busy(), len(d.slots)), fit))
	}
	now := d.now()
	for _, t := range d.slots {
		if t.number >= 0 {
			lines = append(lines, t.line(now, d.study.Metric, fit))
		}
	}
	return lines
}

// busy returns the numbers of the trials this display's slots run.
func (d *Display) busy() []int {
	var n []int
	for _, t := range d.slots {
		if t.number >= 0 {
			n = append(n, t.number)
		}
	}
	return n
}

// line is the trial's live line at fit columns: number, step of steps, a
// bar when the total is known and there is room, the last value and the
// time it has run, then its params when at least a few of their columns
// fit (cut with "…" when not all do).
func (t liveTrial) line(now time.Time, metric string, fit int) string {
	line := fmt.Sprintf("#%d starting", t.number)
	if t.step > 0 {
		progress := fmt.Sprintf("step %d", t.step)
		if t.steps > 0 {
			progress += fmt.Sprintf("/%d", t.steps)
		}
		value := fmt.Sprintf("%s=%.4g", metric, t.value)
		took := shortDuration(now.Sub(t.start))
		line = fmt.Sprintf("#%d %s %s %s", t.number, progress, value, took)
		// The room left for the bar and its separator, as if took were 5
		// columns wide (shortDuration's usual most), so bars line up.
		room := fit - runewidth.StringWidth(line) - 1 - max(0, 5-len(took))
		if cells := min(20, room) / runewidth.StringWidth("█"); t.steps > 0 && cells >= 5 {
			full := min(cells, cells*t.step/t.steps)
			bar := strings.Repeat("█", full) + strings.Repeat("░", cells-full)
			line = fmt.Sprintf("#%d %s %s %s %s", t.number, progress, bar, value, took)
		}
	}
	if t.params != "" && fit-runewidth.StringWidth(line) >= 6 {
		line += "  " + t.params
	}
	return truncate(line, fit)
}

// truncate makes s safe for the terminal and cuts it to fit columns.
func truncate(s string, fit int) string {
	return runewidth.Truncate(safetext.Terminal(s), fit, "…")
}

// fold splits s into rows of at most fit columns, breaking at the last
// space that leaves a row at least half full, and indents continuation
// rows by two spaces.
func fold(s string, fit int) []string {
	const indent = "  "
	var rows []string
	for first := true; ; first = false {
		if !first {
			rest := strings.TrimLeft(s, " ")
			if rest == "" {
				return rows
			}
			s = indent + rest
		}
		// Below 4 columns a row may hold no character past the indent.
		if runewidth.StringWidth(s) <= fit || fit < 4 {
			return append(rows, s)
		}
		cut := len(runewidth.Truncate(s, fit, ""))
		if i := strings.LastIndexByte(s[:cut], ' '); i > len(indent) && runewidth.StringWidth(s[:i]) >= fit/2 {
			cut = i
		}
		rows = append(rows, strings.TrimRight(s[:cut], " "))
		s = s[cut:]
	}
}

// shortDuration is d in at most two units: 45s, 1m12s, 1h05m, 2d03h.
func shortDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", max(s, 0))
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// roughDuration is an estimate in one or two whole units: 40s, 4m, 1h05m,
// 2d03h.
func roughDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", max(1, int64(d.Round(time.Second)/time.Second)))
	}
	if m := d.Round(time.Minute); m < time.Hour {
		return fmt.Sprintf("%dm", int64(m/time.Minute))
	}
	return shortDuration(d.Round(time.Minute))
}

package sweep_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/c-bata/goptuna"
	"github.com/mattn/go-runewidth"

	"sweep/internal/termtest"
	"sweep/sweep"
)

// testClock is a settable clock, safe to read from the display's timer.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// stored is a trial as the store returns it, took long when finished.
func stored(number int, state goptuna.TrialState, value float64, took time.Duration) goptuna.FrozenTrial {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t := goptuna.FrozenTrial{Number: number, State: state, Value: value, DatetimeStart: start}
	if state.IsFinished() {
		t.DatetimeComplete = start.Add(took)
	}
	return t
}

// screen replays out on a terminal of width columns and fails the test on
// escapes the display should not send.
func screen(t *testing.T, width int, out string) *termtest.Screen {
	t.Helper()
	s := termtest.NewScreen(width)
	s.Write([]byte(out))
	if len(s.Unknown) > 0 {
		t.Errorf("unexpected control sequences %q", s.Unknown)
	}
	return s
}

func TestDisplay(t *testing.T) {
	t.Run("Plain", func(t *testing.T) {
		// One line per event and the study line every 5 trials or 5
		// minutes, with no escape sequences: this goes to files and CI.
		var b bytes.Buffer
		c := newTestClock()
		d := sweep.NewDisplay(&b, false, 2, c.now)
		d.SetStudy(sweep.DisplayStudy{Trials: 6, Metric: "val_acc", Maximize: true})
		for i := range 5 {
			state := goptuna.TrialStateComplete
			if i == 4 {
				state = goptuna.TrialStatePruned // its higher value is no best
			}
			d.TrialStarted(i%2, i, "lr=0.1", 4)
			d.TrialReported(i%2, 1, 0.1)
			d.TrialFinished(i%2, i, state, 0.1*float64(i+1)+0.4*float64(i/4), time.Minute, fmt.Sprintf("trial %d %s", i, state))
		}
		c.add(6 * time.Minute)
		d.TrialStarted(0, 5, "", 4)
		d.TrialReported(0, 1, 0.2) // 6 minutes since the last study line
		d.TrialReported(0, 2, 0.3)
		d.Logf("note\n")
		d.Close()
		want := `trial 0 started  lr=0.1
trial 0 Complete
trial 1 started  lr=0.1
trial 1 Complete
trial 2 started  lr=0.1
trial 2 Complete
trial 3 started  lr=0.1
trial 3 Complete
trial 4 started  lr=0.1
trial 4 Pruned
progress: 5/6 done · 0 running · best 0.4 (#3) · ETA 1m
trial 5 started
progress: 5/6 done · 1 running · best 0.4 (#3) · ETA 1m
note
`
		if b.String() != want {
			t.Errorf("plain output\n%s\nwant\n%s", b.String(), want)
		}
	})
	t.Run("HostileText", func(t *testing.T) {
		// Reasons, params and metric names come from objectives and specs:
		// their escape sequences must not reach the terminal, and a line
		// break must not forge a second log line.
		own := regexp.MustCompile(`\x1b\[\d+F\x1b\[J`) // the display's own escapes
		for _, tty := range []bool{false, true} {
			var b bytes.Buffer
			c := newTestClock()
			d := sweep.NewDisplay(&b, tty, 1, c.now)
			d.SetWidth(func() int { return 200 })
			d.SetStudy(sweep.DisplayStudy{Trials: 2, Metric: "acc\x1b[31m", Maximize: true})
			c.add(time.Second)
			d.TrialStarted(0, 1, "\x1b]0;pwned\x07x=1", 2)
			c.add(time.Second)
			d.TrialReported(0, 1, 0.5)
			c.add(time.Second)
			d.TrialFinished(0, 1, goptuna.TrialStateFail, 0, time.Second, "trial 1 FAIL (boom\x1b[2J\ntrial 2 COMPLETE value=1)")
			d.Close()
			out := own.ReplaceAllString(b.String(), "")
			if strings.ContainsAny(out, "\x1b\x07") || strings.Contains(out, "\ntrial 2") {
				t.Errorf("tty=%v output %q", tty, b.String())
			}
			if !strings.Contains(out, "trial 1 FAIL (boom trial 2 COMPLETE value=1)\n") {
				t.Errorf("tty=%v output %q lacks the cleaned log line", tty, out)
			}
			if tty {
				screen(t, 200, b.String())
				if !strings.Contains(out, " acc=0.5 ") || !strings.Contains(out, "  x=1") || strings.Contains(out, "pwned") {
					t.Errorf("live lines lack the cleaned metric or params: %q", b.String())
				}
			}
		}
	})
	t.Run("TTY", func(t *testing.T) {
		// The exact bytes of a short run at 60 columns: each redraw moves up
		// over the rows drawn last (one per line), erases them, prints any
		// log line and the block again; Close leaves only the log.
		var b bytes.Buffer
		c := newTestClock()
		d := sweep.NewDisplay(&b, true, 1, c.now)
		d.SetWidth(func() int { return 60 })
		c.add(time.Second)
		d.SetStudy(sweep.DisplayStudy{Trials: 2, Metric: "val_acc", Maximize: true})
		c.add(time.Second)
		d.TrialStarted(0, 0, "x=1", 2)
		c.add(time.Second)
		d.TrialReported(0, 1, 0.5)
		c.add(time.Second)
		d.TrialFinished(0, 0, goptuna.TrialStateComplete, 0.5, 2*time.Second, "trial 0 COMPLETE val_acc=0.5000")
		d.Close()
		want := "0/2 done · 0 running\n" +
			"\x1b[1F\x1b[J0/2 done · 1 running\n#0 starting  x=1\n" +
			"\x1b[2F\x1b[J0/2 done · 1 running\n#0 step 1/2 ██████████░░░░░░░░░░ val_acc=0.5 1s  x=1\n" +
			"\x1b[2F\x1b[Jtrial 0 COMPLETE val_acc=0.5000\n1/2 done · 0 running · best 0.5 (#0) · ETA 2s\n" +
			"\x1b[1F\x1b[J"
		if b.String() != want {
			t.Errorf("tty output\n%q\nwant\n%q", b.String(), want)
		}
	})
	t.Run("Throttle", func(t *testing.T) {
		// A burst of reports within redrawEvery draws once more, soon
		// after, with the last value; not once per report.
		var b syncBuffer
		c := newTestClock() // never advances: every report is within the interval
		d := sweep.NewDisplay(&b, true, 1, c.now)
		d.SetStudy(sweep.DisplayStudy{Trials: 1, Metric: "loss"})
		d.TrialStarted(0, 7, "", 1000)
		for step := 1; step <= 1000; step++ {
			d.TrialReported(0, step, 1/float64(step))
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(b.String(), "#7 step 1000/1000") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		d.Close()
		out := b.String()
		if !strings.Contains(out, "#7 step 1000/1000") {
			t.Fatalf("the last report was never drawn: %q", out)
		}
		if n := strings.Count(out, "\x1b[J"); n > 3 {
			t.Errorf("%d redraws for a burst of 1000 reports, want at most 3: %q", n, out)
		}
	})
}

func TestDisplay_StudyLine(t *testing.T) {
	// The study line through the public API: counts merged from this
	// worker's slots and the store, best by direction among COMPLETE
	// trials only, and ETA = mean duration × remaining ÷ min(workers,
	// remaining).
	sec := time.Second
	done := func(n int, state goptuna.TrialState, v float64, took time.Duration) goptuna.FrozenTrial {
		return stored(n, state, v, took)
	}
	complete, pruned, fail, running := goptuna.TrialStateComplete, goptuna.TrialStatePruned, goptuna.TrialStateFail, goptuna.TrialStateRunning
	cases := []struct {
		name     string
		slots    int
		maximize bool
		trials   []goptuna.FrozenTrial
		busy     []int // trials the slots run
		want     string
	}{
		{name: "Empty", slots: 3, want: "0/30 done · 0 running"},
		{name: "IssueExample", slots: 3, maximize: true, busy: []int{20, 21, 22},
			trials: append(repeat(11, func(i int) goptuna.FrozenTrial { return done(i, complete, 0.5+0.01*float64(i), 40*sec) }),
				done(19, complete, 0.858, 40*sec)),
			want: "12/30 done · 3 running · best 0.858 (#19) · ETA 4m"},
		{name: "Minimize", slots: 1, trials: []goptuna.FrozenTrial{done(0, complete, 2.5, 10*sec), done(1, complete, 0.25, 10*sec), done(2, complete, 1, 10*sec)},
			want: "3/30 done · 0 running · best 0.25 (#1) · ETA 5m"},
		{name: "PrunedAndFailedAreNoBest", slots: 2, maximize: true,
			trials: []goptuna.FrozenTrial{done(0, complete, 0.5, 10*sec), done(1, pruned, 0.9, 70*sec), done(2, fail, 0.95, 40*sec)},
			want:   "3/30 done · 0 running · best 0.5 (#0) · ETA 9m"}, // mean 40 s × 27 ÷ 2
		{name: "TailRunsOneAtATime", slots: 4, maximize: true,
			trials: repeat(29, func(i int) goptuna.FrozenTrial { return done(i, complete, 0.1, 2*time.Minute) }),
			want:   "29/30 done · 0 running · best 0.1 (#0) · ETA 2m"},
		{name: "OtherWorkers", slots: 1, maximize: true, busy: []int{22},
			trials: []goptuna.FrozenTrial{done(0, complete, 0.5, 60*sec), stored(20, running, 0, 0), stored(21, running, 0, 0), stored(22, running, 0, 0), stored(23, running, 0, 0)},
			want:   "1/30 done · 4 running · best 0.5 (#0) · ETA 7m"}, // 60 s × 29 ÷ 4 = 7.25 min
		{name: "BudgetSpent", slots: 2, maximize: true,
			trials: repeat(30, func(i int) goptuna.FrozenTrial { return done(i, complete, float64(i), sec) }),
			want:   "30/30 done · 0 running · best 29 (#29)"},
		{name: "NoDurations", slots: 2, maximize: true,
			trials: []goptuna.FrozenTrial{{Number: 0, State: complete, Value: 0.5}},
			want:   "1/30 done · 0 running · best 0.5 (#0)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			c := newTestClock()
			d := sweep.NewDisplay(&b, true, tc.slots, c.now)
			d.SetWidth(func() int { return 200 })
			d.SetStudy(sweep.DisplayStudy{Trials: 30, Metric: "m", Maximize: tc.maximize})
			c.add(time.Second)
			d.Observe(tc.trials)
			for i, n := range tc.busy {
				c.add(time.Second)
				d.TrialStarted(i, n, "", 0)
			}
			lines := screen(t, 200, b.String()).Lines()
			if len(lines) != 1+len(tc.busy) || lines[0] != tc.want {
				t.Errorf("screen %q, want the study line %q and %d slot lines", lines, tc.want, len(tc.busy))
			}
		})
	}
}

func repeat(n int, f func(int) goptuna.FrozenTrial) []goptuna.FrozenTrial {
	out := make([]goptuna.FrozenTrial, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// longParams is a trial's params as a real study prints them: wider than
// a narrow terminal.
const longParams = "lr=0.0123 optimizer=sgd momentum=0.9 weight_decay=0.0005 batch_size=256 label_smoothing=0.1 augment=true"

// scenario drives d as a worker with 3 slots on a 30-trial study would,
// advancing c by a second an event so that each one redraws. It returns
// the log lines it wrote; the live block it leaves is the study line
// "12/30 done · 3 running · best 0.858 (#19) · ETA 4m" and trials 23, 21
// and 22 at steps 2, 4 and 4 of 10.
func scenario(d *sweep.Display, c *testClock) []string {
	tick := func() { c.add(time.Second) }
	d.SetStudy(sweep.DisplayStudy{Trials: 30, Metric: "val_acc", Maximize: true})
	trials := repeat(10, func(i int) goptuna.FrozenTrial {
		return stored(i, goptuna.TrialStateComplete, 0.5+0.01*float64(i), 40*time.Second)
	})
	trials = append(trials, stored(19, goptuna.TrialStateComplete, 0.858, 40*time.Second), stored(10, goptuna.TrialStateRunning, 0, 0))
	tick()
	d.Observe(trials)
	for slot, n := range []int{10, 21, 22} {
		tick()
		d.TrialStarted(slot, n, longParams, 10)
	}
	for step := 1; step <= 3; step++ {
		for slot := range 3 {
			tick()
			d.TrialReported(slot, step, 0.3+0.1*float64(step)+0.01*float64(slot))
		}
	}
	logs := []string{
		"trial 10 PRUNED at step 3 val_acc=0.6000 in 40s  " + longParams,
		"budget spent; staying while 4 trial(s) run elsewhere, to reap and retry them if their workers die (interrupt to leave)",
	}
	tick()
	d.TrialFinished(0, 10, goptuna.TrialStatePruned, 0.6, 40*time.Second, logs[0])
	tick()
	d.Logf("%s", logs[1])
	tick()
	d.TrialStarted(0, 23, longParams, 10)
	for _, r := range []struct{ slot, step int }{{0, 1}, {0, 2}, {1, 4}, {2, 4}} {
		tick()
		d.TrialReported(r.slot, r.step, 0.25+0.1*float64(r.step))
	}
	return logs
}

// checkScreen checks what scenario left on a screen of width columns:
// no row wrapped or reaches the last column, the log lines in order
// (folded rows joined), then, when live, exactly one live block.
func checkScreen(t *testing.T, s *termtest.Screen, width int, logs []string, live bool) {
	t.Helper()
	if len(s.Wrapped) > 0 {
		t.Errorf("rows wrapped at %d columns: %q", width, s.Wrapped)
	}
	rows := s.Lines()
	for _, r := range rows {
		if w := runewidth.StringWidth(r); w >= width {
			t.Errorf("row %q is %d columns wide at width %d", r, w, width)
		}
	}
	block := 0
	if live {
		block = 4
	}
	if len(rows) < block {
		t.Fatalf("screen %q has no live block", rows)
	}
	var log []string
	for _, r := range rows[:len(rows)-block] {
		if strings.HasPrefix(r, "  ") && len(log) > 0 {
			log[len(log)-1] += " " + r
			continue
		}
		log = append(log, r)
	}
	for i := range log {
		log[i] = strings.Join(strings.Fields(log[i]), " ")
	}
	var want []string
	for _, l := range logs {
		want = append(want, strings.Join(strings.Fields(l), " "))
	}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("log rows\n%s\nwant\n%s\n(screen %q)", strings.Join(log, "\n"), strings.Join(want, "\n"), rows)
	}
	studyRows, slotRows := 0, 0
	for _, r := range rows {
		if regexp.MustCompile(`^\d+/30 done`).MatchString(r) {
			studyRows++
		}
		if strings.HasPrefix(r, "#") {
			slotRows++
		}
	}
	if live && (studyRows != 1 || slotRows != 3) || !live && studyRows+slotRows > 0 {
		t.Errorf("%d study rows and %d slot rows (stale copies?), live=%v: %q", studyRows, slotRows, live, rows)
	}
	if !live {
		return
	}
	study := "12/30 done · 3 running · best 0.858 (#19) · ETA 4m"
	got := rows[len(rows)-4]
	if got != study && !(strings.HasSuffix(got, "…") && strings.HasPrefix(study, strings.TrimSuffix(got, "…"))) {
		t.Errorf("study row %q, want %q cut to width %d", got, study, width)
	}
	for i, prefix := range []string{"#23 step 2/10", "#21 step 4/10", "#22 step 4/10"} {
		if r := rows[len(rows)-3+i]; !strings.HasPrefix(r, prefix) {
			t.Errorf("slot row %q, want it to start %q", r, prefix)
		}
	}
}

func TestDisplay_InPlace(t *testing.T) {
	// Without a pty: the same scenario at three widths, through SetWidth.
	for _, width := range []int{40, 80, 200} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			var b bytes.Buffer
			c := newTestClock()
			d := sweep.NewDisplay(&b, true, 3, c.now)
			d.SetWidth(func() int { return width })
			logs := scenario(d, c)
			s := screen(t, width, b.String())
			t.Logf("the screen at %d columns:\n%s", width, s)
			checkScreen(t, s, width, logs, true)
			if s.Moves < 10 {
				t.Errorf("%d cursor-up moves: the block was not redrawn in place", s.Moves)
			}
			d.Close()
			checkScreen(t, screen(t, width, b.String()), width, logs, false)
		})
	}
}

func TestInterrupts(t *testing.T) {
	wait := func(c <-chan struct{}) bool {
		select {
		case <-c:
			return true
		case <-time.After(2 * time.Second):
			return false
		}
	}
	t.Run("TwoSignals", func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		ctx, drain, stop := sweep.Interrupts(context.Background(), sigs, t.Logf)
		defer stop()
		sigs <- syscall.SIGINT
		if !wait(drain) {
			t.Fatal("first signal did not drain")
		}
		if ctx.Err() != nil {
			t.Fatal("first signal cancelled the context")
		}
		sigs <- syscall.SIGTERM
		if !wait(ctx.Done()) {
			t.Fatal("second signal did not cancel")
		}
	})
	t.Run("ParentOnlyDrains", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		sigs := make(chan os.Signal, 2)
		ctx, drain, stop := sweep.Interrupts(parent, sigs, t.Logf)
		defer stop()
		cancel()
		sigs <- syscall.SIGINT // the same Ctrl-C, seen by both
		if !wait(drain) {
			t.Fatal("parent end did not drain")
		}
		time.Sleep(20 * time.Millisecond)
		if ctx.Err() != nil {
			t.Fatal("one interrupt cancelled the context")
		}
	})
}

package sweep_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"sweep/sweep"
)

func TestDisplay(t *testing.T) {
	t.Run("Plain", func(t *testing.T) {
		var b bytes.Buffer
		d := sweep.NewDisplay(&b, false, 2, nil)
		d.Slot(0, "[0] trial 1 step 2")
		d.Logf("trial 1 COMPLETE")
		d.Close()
		if b.String() != "trial 1 COMPLETE\n" {
			t.Errorf("plain output %q, want only the log line", b.String())
		}
	})
	t.Run("HostileText", func(t *testing.T) {
		// Reasons and params come from objectives and specs: their escape
		// sequences must not reach the terminal, and a line break must not
		// forge a second log line.
		for _, tty := range []bool{false, true} {
			var b bytes.Buffer
			d := sweep.NewDisplay(&b, tty, 1, func() time.Time { return time.Unix(0, 0) })
			d.Slot(0, "[0] \x1b]0;pwned\x07trial 1")
			d.Logf("trial %d FAIL (%s)", 1, "boom\x1b[2J\ntrial 2 COMPLETE value=1")
			d.Close()
			out := b.String()
			for _, own := range []string{"\x1b[J", "\x1b[1F"} { // the display's own escapes
				out = strings.ReplaceAll(out, own, "")
			}
			if strings.ContainsAny(out, "\x1b\x07") || strings.Contains(out, "\ntrial 2") {
				t.Errorf("tty=%v output %q", tty, b.String())
			}
			if !strings.Contains(out, "trial 1 FAIL (boom trial 2 COMPLETE value=1)\n") {
				t.Errorf("tty=%v output %q lacks the cleaned log line", tty, out)
			}
		}
	})
	t.Run("TTY", func(t *testing.T) {
		var b bytes.Buffer
		now := time.Unix(0, 0)
		d := sweep.NewDisplay(&b, true, 2, func() time.Time { return now })
		d.Slot(0, "[0] trial 0 step 1") // first draw
		d.Slot(1, "[1] trial 1 starting")
		now = now.Add(time.Second)
		d.Slot(1, "[1] trial 1 step 1") // redraw, both lines
		d.Logf("trial 0 COMPLETE")      // log above the live block
		d.Close()
		want := "\x1b[J[0] trial 0 step 1\n" +
			"\x1b[1F\x1b[J[0] trial 0 step 1\n[1] trial 1 step 1\n" +
			"\x1b[2F\x1b[Jtrial 0 COMPLETE\n[0] trial 0 step 1\n[1] trial 1 step 1\n" +
			"\x1b[2F\x1b[J"
		if b.String() != want {
			t.Errorf("tty output\n%q\nwant\n%q", b.String(), want)
		}
	})
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

package data

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a download progress bar as an io.Writer fed the bytes
// that pass by. On a terminal it redraws one line at most every 100 ms;
// otherwise (logs, CI) it prints a line at every 10% (every 16 MiB when the
// size is unknown), so logs stay short.
type progress struct {
	w     io.Writer
	tty   bool
	now   func() time.Time
	done  int64 // bytes in the file so far, including a resumed prefix
	total int64 // -1 when unknown
	start time.Time
	base  int64 // done at start, for the rate
	last  time.Time
	mark  int64 // non-TTY: the next tenth (or 16 MiB step) to report
}

func newProgress(w io.Writer, tty bool, now func() time.Time, done, total int64) *progress {
	p := &progress{w: w, tty: tty, now: now, done: done, total: total, base: done}
	p.start = now()
	p.mark = p.step()
	return p
}

// step returns the first reporting threshold above done.
func (p *progress) step() int64 {
	if p.total > 0 {
		return (p.done*10/p.total + 1) * p.total / 10
	}
	const chunk = 16 << 20
	return (p.done/chunk + 1) * chunk
}

// Write counts len(b) bytes and maybe redraws. It never fails.
func (p *progress) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.w == nil {
		return len(b), nil
	}
	now := p.now()
	if p.tty {
		if now.Sub(p.last) >= 100*time.Millisecond {
			p.last = now
			fmt.Fprintf(p.w, "\r\033[K%s", p.line(now))
		}
		return len(b), nil
	}
	if p.done >= p.mark {
		fmt.Fprintf(p.w, "fetch: %s\n", p.line(now))
		p.mark = p.step()
	}
	return len(b), nil
}

// finish draws the final state and ends the terminal line.
func (p *progress) finish() {
	if p.w == nil || !p.tty {
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s\n", p.line(p.now()))
}

func (p *progress) line(now time.Time) string {
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done-p.base) / elapsed
	}
	speed := fmt.Sprintf("%s/s", mib(int64(rate)))
	if p.total <= 0 {
		return fmt.Sprintf("%s  %s", mib(p.done), speed)
	}
	frac := min(float64(p.done)/float64(p.total), 1)
	eta := "--"
	if rate > 0 {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	if !p.tty {
		return fmt.Sprintf("%3.0f%%  %s of %s  %s  ETA %s", 100*frac, mib(p.done), mib(p.total), speed, eta)
	}
	const width = 30
	full := int(frac * width)
	bar := strings.Repeat("=", full) + strings.Repeat(" ", width-full)
	return fmt.Sprintf("[%s] %3.0f%%  %s of %s  %s  ETA %s", bar, 100*frac, mib(p.done), mib(p.total), speed, eta)
}

// mib formats a byte count in MiB with one decimal.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

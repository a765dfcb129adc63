package command

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sweep/objective"
)

// Limits on what a trial's output may cost.
const (
	maxLine   = 1 << 20 // bytes of one stdout line that are parsed; longer lines are log only
	tailLines = 20      // stderr lines quoted in a failure reason
)

// Why a follower stopped the program before it ended by itself.
const (
	stopPruned      = "pruned"
	stopTimeout     = "timeout"
	stopInterrupted = "interrupted"
	stopNonFinite   = "non-finite"
	stopError       = "error"
)

// follower follows one running program: it feeds its reports to the
// Reporter, stops it when told, and turns how it ended into Run's result.
type follower struct {
	o       *Objective
	t       trial
	p       *Process
	r       objective.Reporter
	start   time.Time
	records chan Record
	outDone chan struct{} // stdout read to EOF (or abandoned)
	errDone chan struct{}
	tail    []string // last stderr lines

	stop     string        // why the program is being stopped; "" while it runs
	stopErr  error         // the problem behind stopNonFinite and stopError
	stopped  chan struct{} // closed when the stop that began has finished
	step     int           // last reported step
	reported bool          // some step reported the metric
	last     float64       // the metric at step
	final    *float64      // a report without a step
	attrs    map[string]string
}

// newFollower prepares to follow program p of trial t for o, reporting to r.
func newFollower(o *Objective, t trial, p *Process, r objective.Reporter) *follower {
	return &follower{o: o, t: t, p: p, r: r, start: time.Now(), records: make(chan Record, 64),
		outDone: make(chan struct{}), errDone: make(chan struct{}), attrs: map[string]string{"trial_dir": t.dir}}
}

// follow runs until the program and its group are gone, then says how
// the trial ended.
func (f *follower) follow(ctx context.Context) (objective.Result, error) {
	go f.readStdout()
	go f.readStderr()
	var timeout <-chan time.Time
	if f.o.cfg.Timeout > 0 {
		t := time.NewTimer(f.o.cfg.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	records, done := f.records, ctx.Done()
loop:
	for {
		select {
		case rec, ok := <-records:
			if !ok {
				records = nil // stdout closed; the program may still run
				continue
			}
			f.handle(rec)
		case <-f.p.Done():
			break loop
		case <-done:
			done = nil
			f.halt(stopInterrupted, nil)
		case <-timeout:
			f.halt(stopTimeout, nil)
		}
	}
	if f.stopped != nil {
		<-f.stopped
	} else {
		f.p.Stop(f.o.cfg.KillGrace) // processes the program left behind
	}
	f.drain(records)
	f.p.Release()
	return f.result(ctx)
}

// halt starts stopping the program for reason, once; the loop keeps
// reading its output meanwhile, so a program blocked on a full pipe still
// gets its signals.
func (f *follower) halt(reason string, err error) {
	if f.stop != "" {
		return
	}
	f.stop, f.stopErr = reason, err
	if reason == stopPruned {
		// Programs that stop cleanly on SIGTERM can tell a prune from
		// other signals by this file.
		_ = os.WriteFile(f.t.control, []byte("prune\n"), 0o644)
	}
	f.stopped = make(chan struct{})
	go func() {
		defer close(f.stopped)
		f.p.Stop(f.o.cfg.KillGrace)
	}()
}

// drain handles the reports still buffered once the group is gone (a final
// line printed just before exiting), giving up on stdout a little after
// the group ended in case something outside the group holds it open.
func (f *follower) drain(records <-chan Record) {
	giveUp := time.NewTimer(2 * time.Second)
	defer giveUp.Stop()
	for records != nil {
		select {
		case rec, ok := <-records:
			if !ok {
				records = nil
				continue
			}
			f.handle(rec)
		case <-giveUp.C:
			f.p.Stdout().Close() // the reader ends with an error, closing records
			giveUp.Reset(time.Hour)
		}
	}
	select {
	case <-f.errDone:
	case <-time.After(2 * time.Second):
		f.p.Stderr().Close()
		<-f.errDone
	}
}

// handle applies one report: metrics are recorded, the metric is reported
// and the pruner's answer obeyed. Reports after a stop began are dropped.
func (f *follower) handle(rec Record) {
	if f.stop != "" {
		return
	}
	metric := f.o.cfg.Metric
	v, hasMetric := rec.Values[metric]
	if !rec.HasStep {
		for k, x := range rec.Values {
			if k != metric {
				f.attrs[k] = strconv.FormatFloat(x, 'g', -1, 64)
			}
		}
		if hasMetric {
			if !finite(v) {
				f.halt(stopNonFinite, fmt.Errorf("program reported %s=%v in its final report", metric, v))
				return
			}
			f.final = &v
		}
		return
	}
	if m, ok := f.r.(objective.MetricsRecorder); ok && len(rec.Values) > 0 {
		if err := m.RecordMetrics(rec.Step, rec.Values); err != nil {
			f.halt(stopError, fmt.Errorf("record metrics at step %d: %w", rec.Step, err))
			return
		}
	}
	if !hasMetric || (f.reported && rec.Step <= f.step) {
		return // metrics only, or a step already reported
	}
	if !finite(v) {
		f.halt(stopNonFinite, fmt.Errorf("program reported %s=%v at step %d", metric, v, rec.Step))
		return
	}
	f.step, f.last, f.reported = rec.Step, v, true
	prune, err := f.r.Report(rec.Step, v)
	switch {
	case err != nil:
		f.halt(stopError, fmt.Errorf("report step %d: %w", rec.Step, err))
	case prune:
		f.halt(stopPruned, nil)
	}
}

// result turns the way the program ended into Run's return values.
func (f *follower) result(ctx context.Context) (objective.Result, error) {
	metric, took := f.o.cfg.Metric, since(time.Since(f.start))
	switch f.stop {
	case stopPruned:
		return objective.Result{Value: f.last, Attrs: f.attrs}, fmt.Errorf("%w at step %d", objective.ErrPruned, f.step)
	case stopInterrupted:
		return objective.Result{}, fmt.Errorf("program stopped after %s: %w", took, ctx.Err())
	case stopTimeout:
		return objective.Result{}, f.failure("timeout after %s (program stopped)", f.o.cfg.Timeout)
	case stopNonFinite:
		return objective.Result{}, f.failure("%v", f.stopErr)
	case stopError:
		return objective.Result{}, f.stopErr
	}
	if !f.p.Success() {
		return objective.Result{}, f.failure("program ended with %s after %s", f.p.Status(), took)
	}
	switch {
	case f.final != nil:
		return objective.Result{Value: *f.final, Attrs: f.attrs}, nil
	case f.reported:
		return objective.Result{Value: f.last, Attrs: f.attrs}, nil
	}
	return objective.Result{}, f.failure("program exited 0 after %s without reporting %s (its stdout is in %s)", took, metric, filepath.Join(f.t.dir, "stdout.log"))
}

// failure is an ErrProgram with the reason and the tail of stderr.
func (f *follower) failure(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if len(f.tail) > 0 {
		msg += fmt.Sprintf("\nlast %d lines of stderr (all in %s):\n%s", len(f.tail), filepath.Join(f.t.dir, "stderr.log"), strings.Join(f.tail, "\n"))
	}
	return fmt.Errorf("%w: %s", ErrProgram, msg)
}

// readStdout copies stdout to stdout.log and sends the reports among its
// lines on records, closing it at EOF.
func (f *follower) readStdout() {
	defer close(f.outDone)
	defer close(f.records)
	defer f.p.Stdout().Close()
	log := newLogFile(filepath.Join(f.t.dir, "stdout.log"), f.o.cfg.LogLimit)
	defer log.Close()
	eachLine(f.p.Stdout(), log, func(line string) {
		if rec, ok := f.o.parse(line); ok {
			f.records <- rec
		}
	})
}

// readStderr copies stderr to stderr.log and keeps its last lines.
func (f *follower) readStderr() {
	defer close(f.errDone)
	defer f.p.Stderr().Close()
	log := newLogFile(filepath.Join(f.t.dir, "stderr.log"), f.o.cfg.LogLimit)
	defer log.Close()
	eachLine(f.p.Stderr(), log, func(line string) {
		if len(line) > 300 {
			line = line[:297] + "..."
		}
		if f.tail = append(f.tail, line); len(f.tail) > tailLines {
			f.tail = f.tail[1:]
		}
	})
}

// eachLine copies r to log and calls fn with each line (newline and a
// trailing \r removed) that fits maxLine bytes; longer lines reach only the
// log. It returns at EOF or a read error.
func eachLine(r io.Reader, log io.Writer, fn func(string)) {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		log.Write(chunk)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			if !tooLong && len(long)+len(chunk) <= maxLine {
				long = append(long, chunk...)
			} else {
				tooLong, long = true, long[:0]
			}
			continue
		case !tooLong && len(long)+len(chunk) > 0:
			line := string(append(long, chunk...))
			fn(strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"))
		}
		long, tooLong = long[:0], false
		if err != nil {
			return
		}
	}
}

// logFile writes at most limit bytes to a file, then a note, and drops
// the rest; writes never fail, so a full disk never stops a trial.
type logFile struct {
	f       *os.File
	limit   int64
	written int64
}

// newLogFile creates path for a log of at most limit bytes (0: 64 MiB).
func newLogFile(path string, limit int64) *logFile {
	if limit <= 0 {
		limit = 64 << 20
	}
	f, _ := os.Create(path) // nil on error: the log is best effort
	return &logFile{f: f, limit: limit}
}

// Write keeps what fits under the limit and reports all of b written.
func (l *logFile) Write(b []byte) (int, error) {
	if l.f == nil || l.written >= l.limit {
		return len(b), nil
	}
	n := min(int64(len(b)), l.limit-l.written)
	l.f.Write(b[:n])
	if l.written += n; l.written >= l.limit {
		fmt.Fprintf(l.f, "\n[sweep: log truncated at %d bytes; the program's further output was read and dropped]\n", l.limit)
	}
	return len(b), nil
}

// Close closes the file.
func (l *logFile) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

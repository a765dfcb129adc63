package sweep

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/c-bata/goptuna"
)

// MaxBuffered bounds the reports a BufferedStore holds while the database
// is unreachable (intermediate values plus metric rows, all trials). Past
// it, writes fail again: an outage that long is better surfaced as failed
// trials than as a worker that grows without bound.
const MaxBuffered = 1 << 20

// BufferedStore is a Store that keeps trials running while the database is
// unreachable: a PostgreSQL restart, a failover, an idle connection cut by a
// firewall. Training is the expensive part of a trial; a lost connection
// must not throw it away.
//
//   - Intermediate values and metrics are written through when the database
//     answers. When a write fails with a connection-level error, it and
//     every later one are kept in memory (the objective is told they were
//     recorded) and a background goroutine writes them with exponential
//     backoff until the database is back. database/sql replaces the dead
//     connections on the way.
//   - FinishTrial first writes the trial's buffered reports, then the
//     outcome, retrying connection errors until its ctx ends, so a finished
//     trial always carries every value its objective reported.
//   - ClaimTrial retries connection errors with backoff for up to
//     ClaimPatience before giving up, and the sampler's reads and param
//     writes for up to ReadPatience (buffer_reads.go), so a trial that
//     starts during an outage waits for the database.
//
// Logic errors are never retried or buffered: a write to a finished trial
// (ErrTrialFinished, e.g. after it was marked stale) returns at once.
// Every other method passes through unchanged. Writes of the same step are
// upserts, so replaying a write whose acknowledgement was lost is safe.
//
// A BufferedStore is safe for concurrent use. Reports still buffered when
// the process dies are lost with it; its trials are then reaped as stale.
type BufferedStore struct {
	Store

	// Logf receives one line when the database goes away and one when it
	// is back; nil means silent.
	Logf func(format string, args ...any)
	// MinBackoff and MaxBackoff bound the wait between retries; zero means
	// 100 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	// ClaimPatience is how long ClaimTrial retries; zero means 2 minutes.
	ClaimPatience time.Duration
	// ReadPatience is how long the sampler's reads and param writes retry
	// (buffer_reads.go); zero means 15 s.
	ReadPatience time.Duration

	mu       sync.Mutex
	down     bool // a write failed; new reports are buffered until a flush succeeds
	flushing bool // the background flusher is running
	count    int  // buffered reports, all trials
	total    int  // reports ever buffered, for the recovery log line
	pending  map[int]*trialReports
	locks    map[int]*sync.Mutex // per trial: held while its reports are written
	lastErr  error
	faultAt  time.Time // last connection-level error seen by any call
}

// trialReports are one trial's unwritten reports.
type trialReports struct {
	values  []stepValue
	metrics []stepMetrics
}

type stepValue struct {
	step  int
	value float64
}

type stepMetrics struct {
	step    int
	metrics map[string]float64
}

// NewBufferedStore wraps store; logf may be nil.
func NewBufferedStore(store Store, logf func(string, ...any)) *BufferedStore {
	return &BufferedStore{Store: store, Logf: logf}
}

// Buffered reports how many reports wait for the database.
func (b *BufferedStore) Buffered() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count
}

// SetTrialIntermediateValue writes the value, or buffers it while the
// database is unreachable.
func (b *BufferedStore) SetTrialIntermediateValue(trialID, step int, value float64) error {
	return b.write(trialID, func(r *trialReports) { r.values = append(r.values, stepValue{step, value}) },
		func() error { return b.Store.SetTrialIntermediateValue(trialID, step, value) })
}

// RecordMetrics writes the metrics, or buffers them while the database is
// unreachable. ctx bounds the direct write only.
func (b *BufferedStore) RecordMetrics(ctx context.Context, trialID, step int, metrics map[string]float64) error {
	cp := make(map[string]float64, len(metrics))
	for k, v := range metrics {
		cp[k] = v
	}
	return b.write(trialID, func(r *trialReports) { r.metrics = append(r.metrics, stepMetrics{step, cp}) },
		func() error { return b.Store.RecordMetrics(ctx, trialID, step, cp) })
}

// write runs direct unless the database is known to be down; a transient
// failure buffers the report instead.
func (b *BufferedStore) write(trialID int, add func(*trialReports), direct func() error) error {
	b.mu.Lock()
	down := b.down
	b.mu.Unlock()
	if !down {
		err := direct()
		if err == nil || !Transient(err) {
			return err
		}
		b.markDown(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.count >= MaxBuffered {
		return fmt.Errorf("buffer report of trial id %d: %d reports already wait for the database: %w", trialID, b.count, b.lastErr)
	}
	if b.pending == nil {
		b.pending = map[int]*trialReports{}
	}
	r := b.pending[trialID]
	if r == nil {
		r = &trialReports{}
		b.pending[trialID] = r
	}
	add(r)
	b.count++
	b.total++
	b.startFlusher()
	return nil
}

// markDown switches to buffering and logs the first failure of an outage.
func (b *BufferedStore) markDown(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastErr, b.faultAt = err, time.Now()
	if !b.down {
		b.down = true
		b.logf("database unreachable (%v): buffering reports, retrying with backoff", err)
	}
}

// startFlusher starts the background flusher unless it runs. b.mu held.
func (b *BufferedStore) startFlusher() {
	if b.flushing {
		return
	}
	b.flushing = true
	go b.flushLoop()
}

// flushLoop writes buffered reports with exponential backoff until none
// are left, then switches back to writing through.
func (b *BufferedStore) flushLoop() {
	wait := b.minBackoff()
	for {
		time.Sleep(wait)
		err := b.flushAll()
		b.mu.Lock()
		if err == nil && b.count == 0 {
			if b.down {
				b.logf("database reachable again: %d buffered report(s) written", b.total)
			}
			b.down, b.flushing, b.total = false, false, 0
			b.mu.Unlock()
			return
		}
		if err != nil {
			b.lastErr, b.faultAt = err, time.Now()
		}
		b.mu.Unlock()
		wait = min(2*wait, b.maxBackoff())
	}
}

// flushAll writes every trial's buffered reports; it stops at the first
// transient error.
func (b *BufferedStore) flushAll() error {
	b.mu.Lock()
	ids := make([]int, 0, len(b.pending))
	for id := range b.pending {
		ids = append(ids, id)
	}
	b.mu.Unlock()
	for _, id := range ids {
		// Bounded, so that a black-holed connection cannot stall the flusher.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := b.flushTrial(ctx, id)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// flushTrial writes trialID's buffered reports in order. Reports the store
// rejects for good (the trial was finished elsewhere) are dropped with a
// log line; a transient error puts the unwritten rest back and returns.
func (b *BufferedStore) flushTrial(ctx context.Context, trialID int) error {
	lock := b.trialLock(trialID)
	lock.Lock()
	defer lock.Unlock()
	b.mu.Lock()
	r := b.pending[trialID]
	delete(b.pending, trialID)
	b.mu.Unlock()
	if r == nil {
		return nil
	}
	done := 0
	put := func(err error) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		rest := &trialReports{}
		if done < len(r.values) {
			rest.values = append(rest.values, r.values[done:]...)
			rest.metrics = r.metrics
		} else {
			rest.metrics = r.metrics[done-len(r.values):]
		}
		if later := b.pending[trialID]; later != nil {
			rest.values = append(rest.values, later.values...)
			rest.metrics = append(rest.metrics, later.metrics...)
		}
		b.pending[trialID] = rest
		return err
	}
	for _, v := range r.values {
		if err := b.Store.SetTrialIntermediateValue(trialID, v.step, v.value); err != nil {
			if Transient(err) {
				return put(err)
			}
			b.logf("buffered value of trial id %d step %d dropped: %v", trialID, v.step, err)
		}
		done++
		b.written()
	}
	for _, m := range r.metrics {
		if err := b.Store.RecordMetrics(ctx, trialID, m.step, m.metrics); err != nil {
			if Transient(err) {
				return put(err)
			}
			b.logf("buffered metrics of trial id %d step %d dropped: %v", trialID, m.step, err)
		}
		done++
		b.written()
	}
	return nil
}

func (b *BufferedStore) written() {
	b.mu.Lock()
	b.count--
	b.mu.Unlock()
}

// trialLock returns the mutex serialising writes of trialID's buffer.
func (b *BufferedStore) trialLock(trialID int) *sync.Mutex {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.locks == nil {
		b.locks = map[int]*sync.Mutex{}
	}
	l := b.locks[trialID]
	if l == nil {
		l = &sync.Mutex{}
		b.locks[trialID] = l
	}
	return l
}

// FinishTrial writes trialID's buffered reports, then its outcome,
// retrying connection errors with backoff until ctx ends. When an attempt
// whose answer was lost did commit, the retry finds the trial finished
// with this very state and value, and FinishTrial reports success.
func (b *BufferedStore) FinishTrial(ctx context.Context, trialID int, state goptuna.TrialState, value float64, reason string) error {
	retried := false
	err := b.retry(ctx, func() error {
		if err := b.flushTrial(ctx, trialID); err != nil {
			return err
		}
		err := b.Store.FinishTrial(ctx, trialID, state, value, reason)
		if err != nil && Transient(err) {
			retried = true
		}
		return err
	})
	if retried && errors.Is(err, ErrTrialFinished) {
		if t, gerr := b.Store.GetTrial(trialID); gerr == nil && t.State == state && sameValue(t.Value, value) {
			err = nil
		}
	}
	b.mu.Lock()
	delete(b.locks, trialID)
	b.mu.Unlock()
	return err
}

// unwritten returns copies of the reports of trialID still waiting for
// the database, in order; the worker journals them with the result.
func (b *BufferedStore) unwritten(trialID int) ([]stepValue, []stepMetrics) {
	// The flusher takes a trial's reports out of pending while it writes
	// them, holding the trial's lock: wait for it to put back what it
	// could not write.
	lock := b.trialLock(trialID)
	lock.Lock()
	defer lock.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.pending[trialID]
	if r == nil {
		return nil, nil
	}
	return append([]stepValue(nil), r.values...), append([]stepMetrics(nil), r.metrics...)
}

// RecordLateResult implements LateResultRecorder when the wrapped store
// does, retrying connection errors until ctx ends.
func (b *BufferedStore) RecordLateResult(ctx context.Context, trialID int, state goptuna.TrialState, value float64) error {
	rec, ok := find[LateResultRecorder](b.Store)
	if !ok {
		return ErrNoLateResults
	}
	return b.retry(ctx, func() error { return rec.RecordLateResult(ctx, trialID, state, value) })
}

// ClaimTrial retries connection errors for up to ClaimPatience. A claim
// whose answer was lost leaves a RUNNING trial nobody heartbeats; it is
// reaped as stale like a crashed worker's.
func (b *BufferedStore) ClaimTrial(ctx context.Context, studyID int, workerID, host string) (Claim, error) {
	patience := b.ClaimPatience
	if patience <= 0 {
		patience = 2 * time.Minute
	}
	ctx2, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	var c Claim
	err := b.retry(ctx2, func() error {
		var err error
		c, err = b.Store.ClaimTrial(ctx, studyID, workerID, host)
		return err
	})
	return c, err
}

// retry calls fn until it succeeds, fails for good, or ctx ends; the
// error is then fn's last.
func (b *BufferedStore) retry(ctx context.Context, fn func() error) error {
	wait := b.minBackoff()
	logged := false
	for {
		err := fn()
		if err == nil || !Transient(err) {
			if logged && err == nil {
				b.logf("database reachable again")
			}
			return err
		}
		b.fault()
		if !logged {
			b.logf("database unreachable (%v): retrying with backoff", err)
			logged = true
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, b.maxBackoff())
	}
}

// Heartbeat passes through, noting connection errors (see LastFault).
func (b *BufferedStore) Heartbeat(ctx context.Context, trialID int) error {
	err := b.Store.Heartbeat(ctx, trialID)
	if err != nil && Transient(err) {
		b.fault()
	}
	return err
}

// ReapStale passes through, noting connection errors (see LastFault).
func (b *BufferedStore) ReapStale(ctx context.Context, studyID int, grace time.Duration) ([]int, error) {
	ids, err := b.Store.ReapStale(ctx, studyID, grace)
	if err != nil && Transient(err) {
		b.fault()
	}
	return ids, err
}

// LastFault is when a call last failed with a connection-level error;
// zero if none did. Reap uses it: a worker that could not reach the
// database within the grace period cannot tell a dead worker from one
// that was cut off like itself, so it does not reap.
func (b *BufferedStore) LastFault() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.faultAt
}

func (b *BufferedStore) fault() {
	b.mu.Lock()
	b.faultAt = time.Now()
	b.mu.Unlock()
}

func (b *BufferedStore) minBackoff() time.Duration {
	if b.MinBackoff > 0 {
		return b.MinBackoff
	}
	return 100 * time.Millisecond
}

func (b *BufferedStore) maxBackoff() time.Duration {
	if b.MaxBackoff > 0 {
		return b.MaxBackoff
	}
	return 5 * time.Second
}

func (b *BufferedStore) logf(format string, args ...any) {
	if b.Logf != nil {
		b.Logf(format, args...)
	}
}

func sameValue(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

// Transient reports whether err may go away by itself: the connection was
// lost or refused, the server is restarting or overloaded, or the call
// timed out. Errors about the request itself (a finished trial, an unknown
// ID, a constraint or data error) are not transient.
func Transient(err error) bool {
	switch {
	case err == nil,
		errors.Is(err, ErrTrialFinished),
		errors.Is(err, ErrBudgetExhausted),
		errors.Is(err, ErrStudyNotFound),
		errors.Is(err, goptuna.ErrInvalidTrialID),
		errors.Is(err, goptuna.ErrInvalidStudyID),
		errors.Is(err, goptuna.ErrTrialCannotBeUpdated),
		errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		switch state := coded.SQLState(); state[:min(2, len(state))] {
		case "08", // connection exception
			"57", // operator intervention: admin shutdown, crash, cannot connect now
			"53", // insufficient resources: too many connections, out of memory
			"40": // transaction rollback: serialization failure, deadlock
			return true
		}
		return false
	}
	// Network and protocol errors (connection refused or reset, EOF) come
	// unwrapped or as *net.OpError; anything unknown is presumed to be the
	// connection, because giving up would throw away a trial's training.
	return true
}

// Unwrap returns the wrapped store, so that optional interfaces such as
// TrialAttempter are found through the buffer.
func (b *BufferedStore) Unwrap() Store { return b.Store }

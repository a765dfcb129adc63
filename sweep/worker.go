package sweep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/objective"
	"sweep/search"
)

// Worker runs the trials of one study in Slots parallel slots (goroutines)
// until the study's budget is spent, drain is closed, or ctx ends. Many
// workers, in one process or many, may run the same study: the Store hands
// out trials and enforces the budget.
type Worker struct {
	Store     Store
	Study     StudyInfo
	Spec      *search.Spec
	Objective objective.Objective
	Slots     int    // parallel trials; Spec.Workers when 0
	ID        string // unique per process; NewWorkerID when empty
	Host      string
	Display   *Display // nil: silent

	// NewSampler and NewPruner build each slot's algorithms; nil means
	// search.NewStudySampler (which knows the spec's objectives) and
	// search.NewPruner. Tests swap them.
	NewSampler func(spec search.SamplerSpec, params []search.Param, study string, workerIndex int) (goptuna.Sampler, goptuna.RelativeSampler, error)
	NewPruner  func(spec search.PrunerSpec) (goptuna.Pruner, error)
	// Now is the clock for durations in log lines; nil means time.Now.
	Now func() time.Time
	// JournalDir is the study's directory for result journals on this
	// host (see StudyRunDir). Each worker journals its results there
	// before recording them and replays those of dead workers of the same
	// host. Empty: no journal, so a result outlives a database outage
	// only while this process lives.
	JournalDir string
	// FinishGrace is how long a result is still retried after a hard stop
	// (ctx ended) before it is left to the journal; zero means 30 s.
	FinishGrace time.Duration

	journal *journal     // nil without JournalDir
	running atomic.Int64 // trials this worker's slots are running
	mu      sync.Mutex
	summary Summary
}

// Summary counts the trials a worker finished, by outcome.
type Summary struct {
	Complete, Pruned, Failed int
	Interrupted              int // FAIL with reason "interrupted", included in Failed
	Lost                     int // trials stopped because they were marked stale elsewhere
	// Rejected counts results the database refused because the trial was
	// finished elsewhere (reaped as stale while this worker was cut off);
	// not in Complete, Pruned or Failed. A COMPLETE or PRUNED one is kept
	// as the trial's LateResultAttr.
	Rejected int
	// Unrecorded counts results the database never took: refused for good,
	// or still in the journal at a hard stop.
	Unrecorded int
	// Stopped is why the study stopped taking trials before its budget was
	// spent (a stop condition of the spec); "" when it did not.
	Stopped string
}

// Total is the number of trials the worker finished.
func (s Summary) Total() int { return s.Complete + s.Pruned + s.Failed + s.Rejected + s.Unrecorded }

// NewWorkerID returns host:pid:random, unique across processes and hosts.
func NewWorkerID(host string) string {
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// reasonInterrupted is the FAIL reason of trials stopped by a second
// interrupt.
const reasonInterrupted = ReasonInterrupted

// Run runs the slots and waits for them. Closing drain stops new claims;
// cancelling ctx stops running trials now, marking them FAIL
// "interrupted". Either way Run returns only when no trial of this worker
// is left RUNNING. The error joins what stopped slots early (a store that
// keeps failing); an exhausted budget is a normal end.
func (w *Worker) Run(ctx context.Context, drain <-chan struct{}) (Summary, error) {
	if err := w.init(); err != nil {
		return Summary{}, err
	}
	w.Display.SetStudy(DisplayStudy{Trials: w.Study.Trials, Metric: w.Spec.Metric, Maximize: w.Spec.Direction == "maximize"})
	w.observe()
	if w.JournalDir != "" {
		j, err := openJournal(w.JournalDir, w.Host, w.ID)
		if err != nil {
			return Summary{}, err
		}
		w.journal = j
	}
	replayed := w.replayOrphans(ctx)
	reapCtx, stopReaper := context.WithCancel(ctx)
	reaper := w.startReaper(reapCtx)
	errs := make([]error, w.Slots)
	var wg sync.WaitGroup
	for i := range w.Slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.runSlot(ctx, drain, i); err != nil {
				errs[i] = fmt.Errorf("slot %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	<-replayed
	stopReaper()
	<-reaper
	if kept, err := w.journal.close(); err != nil || kept > 0 {
		w.Display.Logf("journal %s: %d result(s) kept for the next worker on this host (%v)", w.journal.path, kept, err)
	}
	w.Display.Close()
	w.markFinished(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.summary, errors.Join(errs...)
}

// init fills defaults.
func (w *Worker) init() error {
	if w.Store == nil || w.Spec == nil || w.Objective == nil {
		return errors.New("sweep: worker needs Store, Spec and Objective")
	}
	if w.Slots <= 0 {
		w.Slots = max(1, w.Spec.Workers)
	}
	if w.Host == "" {
		w.Host, _ = os.Hostname()
	}
	if w.ID == "" {
		w.ID = NewWorkerID(w.Host)
	}
	if w.NewPruner == nil {
		w.NewPruner = search.NewPruner
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.FinishGrace <= 0 {
		w.FinishGrace = 30 * time.Second
	}
	if _, ok := w.Store.(*BufferedStore); !ok {
		// Keep trials training through a lost database connection.
		w.Store = NewBufferedStore(w.Store, w.Display.Logf)
	}
	return nil
}

// startReaper marks trials whose heartbeat went silent as FAIL "stale", at
// start and then every heartbeat interval, so trials of killed workers do
// not stay RUNNING. The returned channel closes when it has stopped.
func (w *Worker) startReaper(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	interval := w.Spec.Heartbeat.Interval
	grace := w.Spec.Heartbeat.Grace
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for tick := 0; ; tick++ {
			r, err := Reap(ctx, w.Store, w.Study.ID, grace, w.Spec.Retry)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				w.Display.Logf("reap stale trials: %v", err)
			case tick > 0: // Run showed the trials at start
				w.observe()
			}
			if len(r.Stale) > 0 {
				w.Display.Logf("marked %d trial(s) FAIL (stale): no heartbeat for %s; %d retry(ies) queued", len(r.Stale), grace, len(r.Retried))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return done
}

// markFinished sets the study's status to finished when no trial is
// running and either the budget is spent with none waiting, or a stop
// condition stopped this worker (trials still WAITING then stay queued).
func (w *Worker) markFinished(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	w.mu.Lock()
	stopped := w.summary.Stopped != ""
	w.mu.Unlock()
	trials, err := w.Store.GetAllTrials(w.Study.ID)
	if err != nil || (len(trials) < w.Study.Trials && !stopped) {
		return
	}
	for _, t := range trials {
		if t.State == goptuna.TrialStateRunning || (t.State == goptuna.TrialStateWaiting && !stopped) {
			return
		}
	}
	if err := w.Store.SetStudyStatus(ctx, w.Study.ID, "finished"); err != nil {
		w.Display.Logf("mark study finished: %v", err)
	}
}

// count records one finished trial in the summary.
func (w *Worker) count(state goptuna.TrialState, reason string, v verdict) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case v == rejected:
		w.summary.Rejected++
		return
	case v != recorded:
		w.summary.Unrecorded++
		return
	}
	switch state {
	case goptuna.TrialStateComplete:
		w.summary.Complete++
	case goptuna.TrialStatePruned:
		w.summary.Pruned++
	default:
		w.summary.Failed++
		if reason == reasonInterrupted {
			w.summary.Interrupted++
		}
	}
}

// replayOrphans delivers the results left in the journals of this host's
// dead workers of the study, in the background; the channel closes when
// it is done. Delivery retries a lost database like finish does.
func (w *Worker) replayOrphans(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if w.journal == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		orphans, err := findOrphans(w.JournalDir, w.Host, w.journal.path)
		if err != nil {
			w.Display.Logf("replay journals: %v", err)
		}
		for _, o := range orphans {
			fctx, cancel := outlive(ctx, w.FinishGrace)
			settled := true
			for _, e := range o.entries {
				v, ok := w.deliver(fctx, e)
				settled = settled && ok
				w.Display.Logf("trial %d: %s result replayed from journal %s: %s", e.Number, e.State, filepath.Base(o.path), v)
			}
			cancel()
			if err := o.release(settled); err != nil {
				w.Display.Logf("replay journal %s: %v", o.path, err)
			}
		}
	}()
	return done
}

// observe shows the study's stored trials (other workers' too) on the
// display: one read, not retried, since the next reaper tick asks again.
func (w *Worker) observe() {
	if w.Display == nil {
		return
	}
	st := w.Store
	if b, ok := st.(*BufferedStore); ok {
		st = b.Store
	}
	if trials, err := st.GetAllTrials(w.Study.ID); err == nil {
		w.Display.Observe(trials)
	}
}

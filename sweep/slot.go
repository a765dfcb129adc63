package sweep

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/objective"
	"sweep/search"
	"sweep/search/mo"
)

// maxClaimErrors is how many store errors in a row make a slot give up.
const maxClaimErrors = 5

// slot is one trial at a time, with its own sampler (seeded by the slot's
// worker index) and its own goptuna.Study view of the stored study.
type slot struct {
	w     *Worker
	index int
	id    string // worker id of the trials it claims: <worker id>/<index>
	study *goptuna.Study
}

// runSlot claims and runs trials until the budget is exhausted, drain is
// closed or ctx ends.
func (w *Worker) runSlot(ctx context.Context, drain <-chan struct{}, index int) error {
	s, err := w.newSlot(ctx, index)
	if err != nil {
		return err
	}
	failures, waited := 0, false
	for {
		select {
		case <-drain:
			return nil
		case <-ctx.Done():
			return nil
		default:
		}
		// A store error here leaves the decision to the next round: the
		// claim below reports (and retries) a store in trouble.
		if reason, err := w.stopReason(ctx); err == nil && reason != "" {
			w.stop(ctx, reason)
			return nil
		}
		claim, err := w.Store.ClaimTrial(ctx, w.Study.ID, s.id, w.Host)
		switch {
		case errors.Is(err, ErrBudgetExhausted) && index == 0 && w.unsettled(ctx, &waited):
			// Trials still run elsewhere: stay, so that if their workers
			// die this worker reaps them and runs their retries, and the
			// study never waits for a worker that is not coming back.
			if sleepCtx(ctx, w.Spec.Heartbeat.Interval) != nil {
				return nil
			}
			continue
		case errors.Is(err, ErrBudgetExhausted):
			return nil
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if failures++; failures >= maxClaimErrors {
				return fmt.Errorf("claim trial: %w", err)
			}
			w.Display.Logf("claim trial: %v (retrying)", err)
			if sleepCtx(ctx, time.Duration(failures)*time.Second) != nil {
				return nil
			}
			continue
		}
		failures = 0
		w.running.Add(1)
		s.run(ctx, claim)
		w.running.Add(-1)
	}
}

// unsettled reports whether the study, its budget spent, still has
// RUNNING or WAITING trials other than this worker's own; it says once
// that this worker waits for them. A store error counts as unsettled (the
// next poll asks again).
func (w *Worker) unsettled(ctx context.Context, said *bool) bool {
	trials, err := w.Store.GetAllTrials(w.Study.ID)
	if err != nil {
		return ctx.Err() == nil
	}
	open := -int(w.running.Load())
	for _, t := range trials {
		if !t.State.IsFinished() {
			open++
		}
	}
	if open > 0 && !*said {
		*said = true
		w.Display.Logf("budget spent; staying while %d trial(s) run elsewhere, to reap and retry them if their workers die (interrupt to leave)", open)
	}
	return open > 0
}

// newSlot builds the slot's sampler, pruner and study view.
func (w *Worker) newSlot(ctx context.Context, index int) (*slot, error) {
	id := fmt.Sprintf("%s/%d", w.ID, index)
	wi, err := w.Store.WorkerIndex(ctx, w.Study.ID, id)
	if err != nil {
		return nil, fmt.Errorf("get worker index: %w", err)
	}
	var sampler goptuna.Sampler
	var relative goptuna.RelativeSampler
	if w.NewSampler != nil {
		sampler, relative, err = w.NewSampler(w.Spec.Sampler, w.Spec.Params, w.Spec.Study, wi)
	} else {
		sampler, relative, err = search.NewStudySampler(w.Spec, wi)
	}
	if err != nil {
		return nil, fmt.Errorf("build sampler: %w", err)
	}
	pruner, err := w.NewPruner(w.Spec.Pruner)
	if err != nil {
		return nil, fmt.Errorf("build pruner: %w", err)
	}
	study, err := goptuna.LoadStudy(w.Spec.Study,
		goptuna.StudyOptionStorage(w.Store),
		goptuna.StudyOptionSampler(sampler),
		goptuna.StudyOptionRelativeSampler(relative),
		goptuna.StudyOptionPruner(pruner),
		goptuna.StudyOptionLogger(nil))
	if err != nil {
		return nil, fmt.Errorf("load study %q: %w", w.Spec.Study, err)
	}
	return &slot{w: w, index: index, id: id, study: study}, nil
}

// outcome is how a trial ended.
type outcome struct {
	state  goptuna.TrialState
	value  float64
	reason string
	attrs  map[string]string // the objective's, stored as user attrs with the outcome
	// values (several metrics) and constraints (constraint values, ≤ 0
	// met) of a COMPLETE trial; nil when the spec has none.
	values, constraints []float64
}

// run runs one claimed trial to its end and records the outcome. The trial
// is never left RUNNING: a hard stop (ctx ended) records FAIL
// "interrupted" on a context that outlives ctx. The heartbeat goes on
// until the outcome is recorded, so a trial whose result waits out a
// database outage is not reaped once the database is back.
func (s *slot) run(ctx context.Context, claim Claim) {
	w := s.w
	start := w.Now()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan struct{})
	hb := startHeartbeat(tctx, w.Store, claim.TrialID, w.Spec.Heartbeat.Interval, func() {
		close(lost)
		cancel()
	}, w.Display.Logf)
	rep := &reporter{slot: s, ctx: tctx, trialID: claim.TrialID, number: claim.Number, last: math.NaN()}
	params, out := s.execute(tctx, claim, rep)
	select {
	case <-lost:
		if out.state == goptuna.TrialStateFail {
			// The objective was stopped because the trial was reaped: there
			// is no result to keep.
			hb.stop()
			w.mu.Lock()
			w.summary.Lost++
			w.mu.Unlock()
			w.Display.Logf("trial %d: marked stale by another worker (no heartbeat); stopped, no result to keep", claim.Number)
			w.Display.SlotIdle(s.index)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s.retryStale(ctx, claim)
			return
		}
	default:
	}
	if ctx.Err() != nil && out.state == goptuna.TrialStateFail {
		// The failure is the hard stop's doing (the objective saw ctx end),
		// not the trial's: say so, so retries and reports can tell.
		out = outcome{state: goptuna.TrialStateFail, value: math.NaN(), reason: reasonInterrupted}
	}
	verdict := s.finish(ctx, claim, out)
	hb.stop()
	w.count(out.state, out.reason, verdict)
	took := w.Now().Sub(start)
	line := s.describe(claim.Number, out, rep, params, took)
	switch verdict {
	case rejected:
		line += " REJECTED (already finished elsewhere)"
	case unrecorded:
		line += " NOT RECORDED"
	case journaled:
		line += " NOT RECORDED YET (kept in the journal)"
	}
	w.Display.TrialFinished(s.index, claim.Number, out.state, out.value, took, line)
}

// execute suggests params (or reuses a WAITING trial's) and runs the
// objective, turning every way it can end into an outcome.
func (s *slot) execute(ctx context.Context, claim Claim, rep *reporter) (objective.Params, outcome) {
	fail := func(format string, args ...any) outcome {
		return outcome{state: goptuna.TrialStateFail, value: math.NaN(), reason: fmt.Sprintf(format, args...)}
	}
	params, ok := objective.Params(nil), false
	if claim.Params != nil {
		// A re-queued trial: its params are already stored; reuse them as
		// they are when they fit the space.
		params, ok = search.Fixed(s.w.Spec.Params, claim.Params)
	}
	if !ok {
		var err error
		if params, err = s.sample(claim); err != nil {
			return nil, fail("%v", err)
		}
	}
	s.w.Display.TrialStarted(s.index, claim.Number, formatParams(s.w.Spec.Params, params), s.w.steps(params))
	res, err := s.call(ctx, params, rep)
	switch {
	case err == nil && (math.IsNaN(res.Value) || math.IsInf(res.Value, 0)):
		return params, fail("objective returned %v", res.Value)
	case err == nil:
		values, constraints, err := measured(s.w.Spec, res)
		if err != nil {
			return params, fail("%v", err)
		}
		value := res.Value
		if values != nil {
			value = values[primary(s.w.Spec)]
		}
		return params, outcome{state: goptuna.TrialStateComplete, value: value, attrs: res.Attrs, values: values, constraints: constraints}
	case errors.Is(err, objective.ErrPruned):
		return params, outcome{state: goptuna.TrialStatePruned, value: rep.last, attrs: res.Attrs}
	}
	return params, fail("%s", clipReason(err.Error()))
}

// sample asks the sampler for the trial's params. A re-queued trial whose
// stored values no longer fit the space keeps those that do (goptuna's
// "fixed_params") and samples the rest.
func (s *slot) sample(claim Claim) (objective.Params, error) {
	if claim.Params != nil {
		fixed, err := search.FixedParams(claim.Params)
		if err == nil {
			err = s.w.Store.SetTrialSystemAttr(claim.TrialID, "fixed_params", fixed)
		}
		if err != nil {
			return nil, fmt.Errorf("reuse params of waiting trial: %w", err)
		}
	}
	trial := goptuna.Trial{Study: s.study, ID: claim.TrialID}
	if err := trial.CallRelativeSampler(); err != nil {
		return nil, fmt.Errorf("sample params: %w", err)
	}
	params, err := search.Suggest(&trial, s.w.Spec.Params)
	if err != nil {
		return nil, fmt.Errorf("sample params: %w", err)
	}
	return params, nil
}

// call runs the objective, turning a panic into an error so one bad trial
// cannot take the worker (and its other slots' trials) down with it.
func (s *slot) call(ctx context.Context, params objective.Params, rep *reporter) (res objective.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("objective panicked: %v", p)
		}
	}()
	return s.w.Objective.Run(ctx, params, rep)
}

// verdict is what became of a trial's outcome.
type verdict int

const (
	recorded   verdict = iota // the database has it
	rejected                  // the trial was finished elsewhere (reaped as stale)
	unrecorded                // the database refused it for good (logged)
	journaled                 // the database could not be reached in time; the journal keeps it
)

func (v verdict) String() string {
	return [...]string{"recorded", "rejected (finished elsewhere)", "not recorded", "still in the journal"}[v]
}

// finish journals the outcome (fsynced, with the trial's reports still
// buffered in memory), then records it, retrying a lost database for as
// long as the worker lives: only a hard stop (ctx ended) puts a bound on
// it, Worker.FinishGrace later. What is still unrecorded then stays in the
// journal, for the next worker on this host to replay.
func (s *slot) finish(ctx context.Context, claim Claim, out outcome) verdict {
	w := s.w
	var values []stepValue
	var metrics []stepMetrics
	if b, ok := w.Store.(*BufferedStore); ok {
		values, metrics = b.unwritten(claim.TrialID)
	}
	if err := w.journal.add(entryFor(claim, out, values, metrics)); err != nil {
		w.Display.Logf("trial %d: journal result: %v", claim.Number, err)
	}
	fctx, cancel := outlive(ctx, w.FinishGrace)
	defer cancel()
	e := entryFor(claim, out, nil, nil) // its reports are in the store's buffer
	v, _ := w.deliver(fctx, e)
	switch {
	case v == rejected:
		s.retryStale(fctx, claim)
	case v == recorded && out.state == goptuna.TrialStateFail:
		s.retry(fctx, claim)
	}
	return v
}

// outlive returns a context that ends grace after ctx does.
func outlive(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	fctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(fctx, func() { t.Stop() })
	})
	return fctx, func() {
		stop()
		cancel()
	}
}

// deliver records a journaled result: its reports not yet written and
// the objective's attrs (retried like the outcome: a finished trial takes
// no attrs), then the outcome. A trial finished elsewhere keeps a late COMPLETE or PRUNED
// result as its LateResultAttr. The journal entry is closed (settled)
// unless the database could not be reached before ctx ended.
func (w *Worker) deliver(ctx context.Context, e journalEntry) (v verdict, settled bool) {
	state, value := e.state(), float64(e.Value)
	for _, v := range e.Values {
		if err := w.Store.SetTrialIntermediateValue(e.TrialID, v.Step, float64(v.Value)); err != nil && !errors.Is(err, ErrTrialFinished) {
			w.Display.Logf("trial %d: replay value of step %d: %v", e.Number, v.Step, err)
		}
	}
	for _, m := range e.Metrics {
		mm := make(map[string]float64, len(m.Metrics))
		for k, v := range m.Metrics {
			mm[k] = float64(v)
		}
		if err := w.Store.RecordMetrics(ctx, e.TrialID, m.Step, mm); err != nil && !errors.Is(err, ErrTrialFinished) {
			w.Display.Logf("trial %d: replay metrics of step %d: %v", e.Number, m.Step, err)
		}
	}
	for k, v := range e.Attrs {
		if err := w.setAttr(ctx, e.TrialID, k, v); err != nil && !errors.Is(err, ErrTrialFinished) && !errors.Is(err, goptuna.ErrTrialCannotBeUpdated) {
			w.Display.Logf("trial %d: store attr %s: %v", e.Number, k, err)
		}
	}
	err := w.recordValues(ctx, e)
	if err == nil || !errors.Is(err, ErrTrialFinished) && !Transient(err) {
		if err != nil {
			w.Display.Logf("trial %d: record values: %v", e.Number, err)
		}
		err = w.Store.FinishTrial(ctx, e.TrialID, state, value, e.Reason)
	}
	switch {
	case err == nil:
		w.journalDone(e)
		return recorded, true
	case errors.Is(err, ErrTrialFinished):
		return rejected, w.keepLate(ctx, e)
	case Transient(err):
		w.Display.Logf("trial %d: record %s: %v; kept in the journal for the next worker on this host", e.Number, e.State, err)
		return journaled, false
	}
	w.Display.Logf("trial %d: record %s: %v", e.Number, e.State, err)
	w.journalDone(e)
	return unrecorded, true
}

// setAttr stores a user attr of a trial, retrying a lost database until
// ctx ends.
func (w *Worker) setAttr(ctx context.Context, trialID int, key, value string) error {
	b, ok := w.Store.(*BufferedStore)
	if !ok {
		return w.Store.SetTrialUserAttr(trialID, key, value)
	}
	return b.retry(ctx, func() error { return b.Store.SetTrialUserAttr(trialID, key, value) })
}

// keepLate stores the result of a trial finished elsewhere as a late
// result, and says so in the log; it reports whether that is settled
// (false: the journal keeps the result for a later try).
func (w *Worker) keepLate(ctx context.Context, e journalEntry) bool {
	state, value := e.state(), float64(e.Value)
	if state == goptuna.TrialStateFail || !finite(value) {
		w.Display.Logf("trial %d: already finished elsewhere (marked stale?); %s result rejected", e.Number, e.State)
		w.journalDone(e)
		return true
	}
	rec, ok := find[LateResultRecorder](w.Store)
	err := ErrNoLateResults
	if ok {
		err = rec.RecordLateResult(ctx, e.TrialID, state, value)
	}
	if err != nil {
		w.Display.Logf("trial %d: already finished elsewhere (marked stale?); %s result rejected (%s=%g) and NOT kept: %v", e.Number, e.State, w.Spec.Metric, value, err)
		if Transient(err) {
			return false // the journal keeps it
		}
	} else {
		w.Display.Logf("trial %d: already finished elsewhere (marked stale?); %s result rejected (%s=%g), kept as attr %s", e.Number, e.State, w.Spec.Metric, value, LateResultAttr)
	}
	w.journalDone(e)
	return true
}

// journalDone closes a trial's journal entry.
func (w *Worker) journalDone(e journalEntry) {
	if err := w.journal.done(e.TrialID); err != nil {
		w.Display.Logf("trial %d: journal: %v", e.Number, err)
	}
}

// retry queues a WAITING copy of a failed trial while its attempts are
// below retry.max (RetryTrial is idempotent: at most one copy per trial).
func (s *slot) retry(ctx context.Context, claim Claim) {
	if claim.Attempt >= s.w.Spec.Retry.Max {
		return
	}
	id, created, err := s.w.Store.RetryTrial(ctx, claim.TrialID, s.w.Spec.Retry.InheritIntermediate)
	switch {
	case err != nil && !errors.Is(err, ErrBudgetExhausted):
		s.w.Display.Logf("trial %d: enqueue retry: %v", claim.Number, err)
	case created:
		s.w.Display.Logf("trial %d: retry %d of %d queued (trial id %d)", claim.Number, claim.Attempt+1, s.w.Spec.Retry.Max, id)
	}
}

// retryStale queues the retry of this slot's trial after another worker
// (or this worker's reaper) marked it FAIL "stale". The reaper queues it
// too, but only after marking it; doing it here as well, before this slot
// claims again, keeps the slot from taking the last unit of budget with a
// new trial in between, which would leave the stale trial unretried.
func (s *slot) retryStale(ctx context.Context, claim Claim) {
	t, err := s.w.Store.GetTrial(claim.TrialID)
	if err != nil || t.State != goptuna.TrialStateFail {
		return
	}
	s.retry(ctx, claim)
}

// clipReason bounds a failure reason stored in the database.
func clipReason(s string) string {
	if len(s) > 2000 {
		return s[:1997] + "..."
	}
	return s
}

// describe is the log line of a finished trial.
func (s *slot) describe(number int, out outcome, rep *reporter, params objective.Params, took time.Duration) string {
	metric := s.w.Spec.Metric
	var b strings.Builder
	fmt.Fprintf(&b, "trial %d %s", number, stateName(out.state))
	switch out.state {
	case goptuna.TrialStateComplete:
		if out.values == nil {
			fmt.Fprintf(&b, " %s=%.4f", metric, out.value)
		}
		for i, v := range out.values {
			fmt.Fprintf(&b, " %s=%.4g", s.w.Spec.Metrics[i], v)
		}
		if mo.Violation(out.constraints) > 0 {
			b.WriteString(" INFEASIBLE")
		}
	case goptuna.TrialStatePruned:
		fmt.Fprintf(&b, " at step %d %s=%.4f", rep.step, metric, out.value)
	default:
		fmt.Fprintf(&b, " (%s)", firstLine(out.reason))
	}
	fmt.Fprintf(&b, " in %s", took.Round(time.Millisecond))
	if p := formatParams(s.w.Spec.Params, params); p != "" {
		b.WriteString("  " + p)
	}
	return b.String()
}

// steps is how many steps a trial with params reports in all, for the
// display: what the objective says (objective.StepCounter), else the
// pruner's max_resource; 0 when unknown.
func (w *Worker) steps(params objective.Params) int {
	if n := objective.StepsOf(w.Objective, params); n > 0 {
		return n
	}
	return w.Spec.Pruner.MaxResource
}

// stateName is a trial state as the database and the docs spell it.
func stateName(s goptuna.TrialState) string { return strings.ToUpper(s.String()) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// formatParams renders params as name=value in spec order (conditional
// params after their parent), floats to 4 significant digits.
func formatParams(space []search.Param, params objective.Params) string {
	if len(params) == 0 {
		return ""
	}
	order := map[string]int{}
	n := 0
	var walk func([]search.Param)
	walk = func(ps []search.Param) {
		for _, p := range ps {
			order[p.Name] = n
			n++
			for _, c := range p.Choices {
				walk(p.Conditional[search.ChoiceString(c)])
			}
		}
	}
	walk(space)
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	parts := make([]string, len(names))
	for i, k := range names {
		v := params[k]
		if f, ok := v.(float64); ok {
			parts[i] = fmt.Sprintf("%s=%.4g", k, f)
		} else {
			parts[i] = fmt.Sprintf("%s=%v", k, v)
		}
	}
	return strings.Join(parts, " ")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

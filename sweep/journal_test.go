package sweep_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/objective"
	"sweep/sweep"
)

// TestWorker_LongOutageAtTrialEnd: the database goes away as the trial
// reports its last value and stays away for longer than 30 s (the bound
// the final write once had). The worker keeps retrying while it lives: the
// trial ends COMPLETE with every value, not RUNNING (to be reaped and run
// again from scratch).
func TestWorker_LongOutageAtTrialEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a 32 s outage")
	}
	mem, spec, info := setup(t, 1, 1, 0)
	flaky := newFlaky(mem)
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		for step := 1; step <= 3; step++ {
			if step == 3 {
				flaky.down.Store(true)
				time.AfterFunc(32*time.Second, func() { flaky.down.Store(false) })
			}
			if _, err := r.Report(step, 0.1*float64(step)); err != nil {
				return objective.Result{}, err
			}
		}
		return objective.Result{Value: 0.3}, nil
	})
	var log syncBuffer
	store := newBuffered(flaky, &log)
	store.MaxBackoff = time.Second
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&log, false, 1, nil)}
	sum, err := w.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := trials(t, mem, info, 1)
	if ts[0].State != goptuna.TrialStateComplete || ts[0].Value != 0.3 || len(ts[0].IntermediateValues) != 3 || sum.Complete != 1 {
		t.Fatalf("after a 32 s outage at the trial's end: %s value %g, %d values, summary %+v; want COMPLETE 0.3 with 3 values\n%s",
			ts[0].State, ts[0].Value, len(ts[0].IntermediateValues), sum, log.String())
	}
}

// TestWorker_JournalReplay: a worker hard-stopped while the database is
// down leaves its result (and the reports it still buffered) in its
// journal; the next worker on the same host replays it once the database
// is back, and the trial ends COMPLETE with every value.
func TestWorker_JournalReplay(t *testing.T) {
	mem, spec, info := setup(t, 1, 1, 0)
	flaky := newFlaky(mem)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, hardStop := context.WithCancel(context.Background())
	defer hardStop()
	obj := objectiveFunc(func(_ context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		for step := 1; step <= 3; step++ {
			if step == 2 {
				flaky.down.Store(true) // steps 2 and 3 stay in memory
			}
			if _, err := r.Report(step, 0.2*float64(step)); err != nil {
				return objective.Result{}, err
			}
		}
		go func() {
			flaky.waitFailures(t, 3) // the final write is being retried
			hardStop()
		}()
		return objective.Result{Value: 0.6}, nil
	})
	var log syncBuffer
	a := &sweep.Worker{Store: newBuffered(flaky, &log), Study: info, Spec: spec, Objective: obj, Host: "h1", JournalDir: dir,
		FinishGrace: 50 * time.Millisecond, Display: sweep.NewDisplay(&log, false, 1, nil)}
	sum, err := a.Run(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Unrecorded != 1 || sum.Complete != 0 {
		t.Fatalf("summary of the stopped worker %+v, want its one result unrecorded\n%s", sum, log.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.journal"))
	if len(files) != 1 {
		t.Fatalf("journals %v, want the stopped worker's one", files)
	}
	if got, _ := mem.GetAllTrials(info.ID); got[0].State != goptuna.TrialStateRunning {
		t.Fatalf("trial %s before the replay, want RUNNING", got[0].State)
	}
	flaky.down.Store(false)
	other := &sweep.Worker{Store: newBuffered(mem, &log), Study: info, Spec: spec, Host: "h2", JournalDir: dir,
		Objective: obj, Display: sweep.NewDisplay(&bytes.Buffer{}, false, 1, nil)}
	drained := make(chan struct{})
	close(drained) // run no trials (it would reap the RUNNING one): replay only
	if _, err := other.Run(context.Background(), drained); err != nil {
		t.Fatal(err)
	}
	if got, _ := mem.GetAllTrials(info.ID); got[0].State != goptuna.TrialStateRunning {
		t.Fatalf("a worker of another host replayed the journal: trial %s", got[0].State)
	}
	b := &sweep.Worker{Store: newBuffered(mem, &log), Study: info, Spec: spec, Host: "h1", JournalDir: dir,
		Objective: obj, Display: sweep.NewDisplay(&log, false, 1, nil)}
	if _, err := b.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ts := trials(t, mem, info, 1)
	if tr := ts[0]; tr.State != goptuna.TrialStateComplete || tr.Value != 0.6 || len(tr.IntermediateValues) != 3 || tr.IntermediateValues[3] != 0.6000000000000001 {
		t.Errorf("replayed trial %s value %g values %v, want COMPLETE 0.6 with steps 1-3\n%s", tr.State, tr.Value, tr.IntermediateValues, log.String())
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.journal")); len(files) != 0 {
		t.Errorf("journals left after the replay: %v", files)
	}
	if !strings.Contains(log.String(), "replayed from journal") {
		t.Errorf("no replay line in the log:\n%s", log.String())
	}
}

// TestWorker_LateResultKept: a trial reaped as stale while its worker
// still trains keeps the worker's late result as attr late_value; the
// worker counts it as rejected, not COMPLETE, and says so.
func TestWorker_LateResultKept(t *testing.T) {
	mem, spec, info := setup(t, 1, 1, 0)
	obj := objectiveFunc(func(ctx context.Context, p objective.Params, r objective.Reporter) (objective.Result, error) {
		if _, err := r.Report(1, 0.5); err != nil {
			return objective.Result{}, err
		}
		// Another worker reaps this trial (its heartbeats looked old).
		if ids, err := mem.ReapStale(context.Background(), info.ID, -time.Second); err != nil || len(ids) != 1 {
			t.Errorf("reap: %v %v", ids, err)
		}
		return objective.Result{Value: 0.7}, nil
	})
	var log syncBuffer
	w := &sweep.Worker{Store: mem, Study: info, Spec: spec, Objective: obj, Display: sweep.NewDisplay(&log, false, 1, nil)}
	sum, err := w.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := trials(t, mem, info, 1)
	if sum.Complete != 0 || sum.Rejected != 1 {
		t.Errorf("summary %+v, want the result counted as rejected, not complete", sum)
	}
	if late := mem.Late(ts[0].ID); late[sweep.LateResultAttr] != "0.7" || late[sweep.LateStateAttr] != "COMPLETE" {
		t.Errorf("late attrs %v, want late_value 0.7 (COMPLETE)", late)
	}
	if !strings.Contains(log.String(), "REJECTED") || !strings.Contains(log.String(), "kept as attr late_value") {
		t.Errorf("log does not say the result was rejected and kept:\n%s", log.String())
	}
}

// A torn last line (the worker died mid-write) is ignored; done lines
// close their results.
func TestJournal_TornLine(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "h@w.journal")
	body := `{"trial_id":1,"number":0,"state":"COMPLETE","value":"0.5"}
{"trial_id":2,"number":1,"state":"PRUNED","value":"0.25","values":[{"step":1,"value":"NaN"}]}
{"trial_id":1,"done":true,"number":0,"value":"0"}
{"trial_id":3,"number":2,"sta`
	if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, err := sweep.ReadJournalFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0] != "trial 1 PRUNED 0.25 (1 values)" {
		t.Errorf("pending entries %q, want trial number 1's PRUNED result only", entries)
	}
}

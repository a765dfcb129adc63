package storagetest

import (
	"math"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/sweep"
)

func testStopReason(t *testing.T, newStore NewStore) {
	s := newStore(t)
	rec, ok := s.(sweep.StopRecorder)
	if !ok {
		t.Skip("the store does not implement sweep.StopRecorder")
	}
	c := ctx(t)
	st := ensure(t, s, "stop", 0)
	if st.StopReason != "" {
		t.Errorf("new study has stop reason %q", st.StopReason)
	}
	must(t, rec.RecordStop(c, st.ID, "target: trial 3 reached"))
	must(t, rec.RecordStop(c, st.ID, "timeout")) // another worker, later: the first reason stays
	if got := res(s.Study(c, "stop")).must(t); got.StopReason != "target: trial 3 reached" {
		t.Errorf("stop reason %q; want the first one recorded", got.StopReason)
	}
	other := newStore(t) // another process sees it
	if got := res(other.Study(c, "stop")).must(t); got.StopReason != "target: trial 3 reached" {
		t.Errorf("another handle sees stop reason %q", got.StopReason)
	}
	// Replacing the spec (sweep start --force-update) starts afresh.
	upd, _, err := s.EnsureStudy(c, sweep.StudyInfo{Name: "stop", Direction: "maximize", Metric: "val_acc",
		Spec: []byte("study: stop\nstop: {target: 0.99}\n")}, true)
	must(t, err)
	if upd.StopReason != "" || upd.Status != "running" {
		t.Errorf("after a forced update: stop reason %q, status %q; want none, running", upd.StopReason, upd.Status)
	}
	if err := rec.RecordStop(c, st.ID+1000, "x"); err == nil {
		t.Error("RecordStop on a missing study: want an error")
	}
}

func testCountFailures(t *testing.T, newStore NewStore) {
	s := newStore(t)
	fc, ok := s.(sweep.FailureCounter)
	if !ok {
		t.Skip("the store does not implement sweep.FailureCounter")
	}
	c := ctx(t)
	st := ensure(t, s, "failures", 0)
	if n := res(fc.CountFailures(c, st.ID)).must(t); n != 0 {
		t.Errorf("%d failures in an empty study", n)
	}
	for _, reason := range []string{"objective: boom", sweep.ReasonInterrupted, "stale", ""} {
		cl := claim(t, s, st.ID, "w")
		must(t, s.FinishTrial(c, cl.TrialID, goptuna.TrialStateFail, math.NaN(), reason))
	}
	done := claim(t, s, st.ID, "w")
	must(t, s.FinishTrial(c, done.TrialID, goptuna.TrialStateComplete, 0.5, ""))
	claim(t, s, st.ID, "w") // left RUNNING
	if n := res(fc.CountFailures(c, st.ID)).must(t); n != 3 {
		t.Errorf("CountFailures = %d; want 3 (4 FAIL trials, one of them interrupted)", n)
	}
}

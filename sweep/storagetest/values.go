package storagetest

import (
	"math"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search/mo"
	"sweep/sweep"
)

// testValues checks sweep.ValuesRecorder: a trial's values and constraint
// values come back, from any handle, as the system attrs the samplers
// read; a trial with none (single-objective) has neither attr; a finished
// trial takes no values.
func testValues(t *testing.T, newStore NewStore) {
	s := newStore(t)
	rec, ok := s.(sweep.ValuesRecorder)
	if !ok {
		t.Skip("the store does not implement sweep.ValuesRecorder")
	}
	c := ctx(t)
	st := ensure(t, s, "values", 0)
	if or, ok := s.(sweep.ObjectivesRecorder); ok {
		must(t, or.SetStudyObjectives(c, st.ID, []string{"val_acc", "train_seconds"}, []string{"maximize", "minimize"}))
		must(t, or.SetStudyObjectives(c, st.ID, nil, nil)) // single-objective again
		if err := or.SetStudyObjectives(c, st.ID+1000, []string{"a"}, []string{"minimize"}); err == nil {
			t.Error("SetStudyObjectives on a missing study: want an error")
		}
		must(t, or.SetStudyObjectives(c, st.ID, []string{"val_acc", "train_seconds"}, []string{"maximize", "minimize"}))
	}
	both := claim(t, s, st.ID, "w")
	must(t, rec.RecordValues(c, both.TrialID, []float64{0.91, 123.5}, []float64{-1, 0.25, math.NaN()}))
	must(t, rec.RecordValues(c, both.TrialID, []float64{0.92, 120}, []float64{-1, 0.25, math.NaN()})) // a retry replaces
	must(t, s.FinishTrial(c, both.TrialID, goptuna.TrialStateComplete, 0.92, ""))
	onlyValues := claim(t, s, st.ID, "w")
	must(t, rec.RecordValues(c, onlyValues.TrialID, []float64{0.5, 60}, nil))
	must(t, s.FinishTrial(c, onlyValues.TrialID, goptuna.TrialStateComplete, 0.5, ""))
	plain := claim(t, s, st.ID, "w")
	must(t, s.FinishTrial(c, plain.TrialID, goptuna.TrialStateComplete, 0.7, ""))

	other := newStore(t)
	got := res(other.GetTrial(both.TrialID)).must(t)
	values, err := mo.ParseValues(got.SystemAttrs[mo.ValuesAttr])
	if err != nil || len(values) != 2 || values[0] != 0.92 || values[1] != 120 {
		t.Errorf("values attr %q (%v); want [0.92,120]", got.SystemAttrs[mo.ValuesAttr], err)
	}
	cons, err := mo.ParseValues(got.SystemAttrs[mo.ConstraintsAttr])
	if err != nil || len(cons) != 3 || cons[0] != -1 || cons[1] != 0.25 || !math.IsNaN(cons[2]) {
		t.Errorf("constraints attr %q (%v); want [-1,0.25,NaN]", got.SystemAttrs[mo.ConstraintsAttr], err)
	}
	if a := res(other.GetTrial(onlyValues.TrialID)).must(t).SystemAttrs; a[mo.ValuesAttr] == "" || a[mo.ConstraintsAttr] != "" {
		t.Errorf("trial without constraints: attrs %v; want values only", a)
	}
	if a := res(other.GetTrial(plain.TrialID)).must(t).SystemAttrs; a[mo.ValuesAttr] != "" || a[mo.ConstraintsAttr] != "" {
		t.Errorf("single-objective trial: attrs %v; want neither", a)
	}
	wantErr(t, "RecordValues on a finished trial", rec.RecordValues(c, plain.TrialID, []float64{1, 2}, nil), sweep.ErrTrialFinished)
}

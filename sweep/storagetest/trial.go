package storagetest

import (
	"math"
	"reflect"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/sweep"
)

func testTrialNumbers(t *testing.T, newStore NewStore) {
	s := newStore(t)
	a := res(s.CreateNewStudy("num-a")).must(t)
	b := res(s.CreateNewStudy("num-b")).must(t)
	for want := 0; want < 3; want++ {
		for _, study := range []int{a, b} {
			id := res(s.CreateNewTrial(study)).must(t)
			if n := res(s.GetTrialNumberFromID(id)).must(t); n != want {
				t.Errorf("trial %d of study %d has number %d; want %d", id, study, n, want)
			}
		}
	}
	tr, err := s.GetAllTrials(a)
	must(t, err)
	for i, x := range tr {
		if x.Number != i || x.StudyID != a || x.State != goptuna.TrialStateRunning || x.DatetimeStart.IsZero() {
			t.Errorf("trial %d = %+v", i, x)
		}
	}
	_, err = s.CreateNewTrial(-1)
	wantErr(t, "CreateNewTrial on missing study", err, goptuna.ErrInvalidStudyID)
	_, err = s.GetTrial(-1)
	wantErr(t, "GetTrial(-1)", err, goptuna.ErrInvalidTrialID)
}

func testTrialParams(t *testing.T, newStore NewStore) {
	s := newStore(t)
	study := res(s.CreateNewStudy("params")).must(t)
	id := res(s.CreateNewTrial(study)).must(t)
	set := []struct {
		name     string
		internal float64
		dist     interface{}
		external interface{}
	}{
		{"x", 0.125, distUniform, 0.125},
		{"lr", 3e-4, distLog, 3e-4},
		{"batch", 128, distInt, 128},
		{"width", 40, distStepInt, 40},
		{"drop", 0.75, distDiscrete, 0.75},
		{"opt", 2, distCat, distCat.Choices[2]},
	}
	for _, p := range set {
		must(t, s.SetTrialParam(id, p.name, p.internal, p.dist))
	}
	// Setting a param again replaces it.
	must(t, s.SetTrialParam(id, "x", 0.5, distUniform))
	set[0].internal, set[0].external = 0.5, 0.5
	tr, err := s.GetTrial(id)
	must(t, err)
	ext, err := s.GetTrialParams(id)
	must(t, err)
	for _, p := range set {
		if tr.InternalParams[p.name] != p.internal {
			t.Errorf("internal %s = %v; want %v", p.name, tr.InternalParams[p.name], p.internal)
		}
		if !reflect.DeepEqual(tr.Distributions[p.name], p.dist) {
			t.Errorf("distribution %s = %#v; want %#v", p.name, tr.Distributions[p.name], p.dist)
		}
		if tr.Params[p.name] != p.external || ext[p.name] != p.external {
			t.Errorf("external %s = %#v / %#v; want %#v", p.name, tr.Params[p.name], ext[p.name], p.external)
		}
		if v, err := s.GetTrialParam(id, p.name); err != nil || v != p.internal {
			t.Errorf("GetTrialParam(%s) = %v, %v", p.name, v, err)
		}
	}
	if _, err := s.GetTrialParam(id, "missing"); err == nil {
		t.Error("GetTrialParam(missing): want error")
	}
	if err := s.SetTrialParam(id, "bad", 1, struct{}{}); err == nil {
		t.Error("SetTrialParam with an unknown distribution: want error")
	}
	wantErr(t, "SetTrialParam on missing trial", s.SetTrialParam(-1, "x", 0, distUniform), goptuna.ErrInvalidTrialID)
}

func testTrialValuesAttrs(t *testing.T, newStore NewStore) {
	s := newStore(t)
	study := res(s.CreateNewStudy("values")).must(t)
	id := res(s.CreateNewTrial(study)).must(t)
	for step := 1; step <= 3; step++ {
		must(t, s.SetTrialIntermediateValue(id, step, float64(step)/10))
	}
	// A re-sent report (after a reconnect) replaces, never fails.
	must(t, s.SetTrialIntermediateValue(id, 3, 0.35))
	must(t, s.SetTrialUserAttr(id, "test_acc", "0.91"))
	must(t, s.SetTrialSystemAttr(id, "worker", "w1"))
	must(t, s.SetTrialValue(id, 0.35))
	must(t, s.SetTrialState(id, goptuna.TrialStateComplete))
	tr, err := s.GetTrial(id)
	must(t, err)
	want := map[int]float64{1: 0.1, 2: 0.2, 3: 0.35}
	if !reflect.DeepEqual(tr.IntermediateValues, want) {
		t.Errorf("intermediate values = %v; want %v", tr.IntermediateValues, want)
	}
	if tr.Value != 0.35 || tr.State != goptuna.TrialStateComplete || tr.DatetimeComplete.IsZero() {
		t.Errorf("finished trial = %+v", tr)
	}
	if step, ok := tr.GetLatestStep(); !ok || step != 3 {
		t.Errorf("latest step = %d, %v", step, ok)
	}
	ua, _ := s.GetTrialUserAttrs(id)
	sa, _ := s.GetTrialSystemAttrs(id)
	if ua["test_acc"] != "0.91" || sa["worker"] != "w1" {
		t.Errorf("attrs = %v, %v", ua, sa)
	}
}

// nonFinite are the values double precision must keep exactly.
var nonFinite = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64, -0.0}

func testNonFiniteValues(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	st := ensure(t, s, "nan", 0)
	for _, v := range nonFinite {
		cl := claim(t, s, st.ID, "w")
		must(t, s.SetTrialIntermediateValue(cl.TrialID, 1, v))
		must(t, s.RecordMetrics(c, cl.TrialID, 1, map[string]float64{"loss": v}))
		must(t, s.FinishTrial(c, cl.TrialID, goptuna.TrialStateComplete, v, ""))
		tr, err := s.GetTrial(cl.TrialID)
		must(t, err)
		if !sameFloat(tr.Value, v) || !sameFloat(tr.IntermediateValues[1], v) || math.Signbit(tr.Value) != math.Signbit(v) {
			t.Errorf("stored %v, read value %v and intermediate %v", v, tr.Value, tr.IntermediateValues[1])
		}
		if mr, ok := s.(MetricsReader); ok {
			m, err := mr.TrialMetrics(c, cl.TrialID)
			must(t, err)
			if !sameFloat(m[1]["loss"], v) {
				t.Errorf("metric stored %v, read %v", v, m[1]["loss"])
			}
		}
	}
	// NaN cannot be ranked and never wins; ±Inf are ordered like numbers.
	if best, err := s.GetBestTrial(st.ID); err != nil || !math.IsInf(best.Value, 1) {
		t.Errorf("best of maximize study = %v, %v; want +Inf", best.Value, err)
	}
}

func testFinishedIsImmutable(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	st := ensure(t, s, "immutable", 0)
	cl := claim(t, s, st.ID, "w")
	must(t, s.SetTrialParam(cl.TrialID, "x", 0.5, distUniform))
	must(t, s.SetTrialIntermediateValue(cl.TrialID, 1, 0.4))
	must(t, s.FinishTrial(c, cl.TrialID, goptuna.TrialStatePruned, 0.4, "pruned at step 1"))
	before, err := s.GetTrial(cl.TrialID)
	must(t, err)
	attempts := map[string]error{
		"FinishTrial again":         s.FinishTrial(c, cl.TrialID, goptuna.TrialStateComplete, 1, ""),
		"SetTrialState":             s.SetTrialState(cl.TrialID, goptuna.TrialStateComplete),
		"SetTrialState(Running)":    s.SetTrialState(cl.TrialID, goptuna.TrialStateRunning),
		"SetTrialValue":             s.SetTrialValue(cl.TrialID, 1),
		"SetTrialIntermediateValue": s.SetTrialIntermediateValue(cl.TrialID, 2, 1),
		"SetTrialParam":             s.SetTrialParam(cl.TrialID, "y", 0.1, distUniform),
		"SetTrialUserAttr":          s.SetTrialUserAttr(cl.TrialID, "k", "v"),
		"SetTrialSystemAttr":        s.SetTrialSystemAttr(cl.TrialID, "k", "v"),
		"Heartbeat":                 s.Heartbeat(c, cl.TrialID),
		"RecordMetrics":             s.RecordMetrics(c, cl.TrialID, 2, map[string]float64{"loss": 1}),
	}
	for what, err := range attempts {
		wantErr(t, what, err, sweep.ErrTrialFinished)
		wantErr(t, what, err, goptuna.ErrTrialCannotBeUpdated)
	}
	after, err := s.GetTrial(cl.TrialID)
	must(t, err)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("finished trial changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if err := s.FinishTrial(c, cl.TrialID+1000, goptuna.TrialStateComplete, 1, ""); err == nil {
		t.Error("FinishTrial of a missing trial: want error")
	}
	other := claim(t, s, st.ID, "w")
	if err := s.FinishTrial(c, other.TrialID, goptuna.TrialStateRunning, 1, ""); err == nil {
		t.Error("FinishTrial to RUNNING: want error")
	}
}

func testReturnsCopies(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	st := ensure(t, s, "copies", 0)
	done := claim(t, s, st.ID, "w")
	must(t, s.SetTrialParam(done.TrialID, "x", 0.5, distUniform))
	must(t, s.SetTrialUserAttr(done.TrialID, "k", "v"))
	must(t, s.FinishTrial(c, done.TrialID, goptuna.TrialStateComplete, 1, ""))
	live := claim(t, s, st.ID, "w")
	must(t, s.SetTrialIntermediateValue(live.TrialID, 1, 0.5))
	for round := 0; round < 2; round++ { // second round reads cached trials
		all, err := s.GetAllTrials(st.ID)
		must(t, err)
		for _, tr := range all {
			tr.Params["x"] = "mutated"
			tr.InternalParams["x"] = -1
			tr.IntermediateValues[1] = -1
			tr.UserAttrs["k"] = "mutated"
			tr.SystemAttrs["k"] = "mutated"
		}
		one, err := s.GetTrial(done.TrialID)
		must(t, err)
		one.UserAttrs["k"] = "mutated again"
	}
	tr, _ := s.GetTrial(done.TrialID)
	lv, _ := s.GetTrial(live.TrialID)
	if tr.Params["x"] != 0.5 || tr.InternalParams["x"] != 0.5 || tr.UserAttrs["k"] != "v" || len(tr.SystemAttrs) != 0 ||
		lv.IntermediateValues[1] != 0.5 {
		t.Errorf("changing returned trials changed the store: %+v / %+v", tr, lv)
	}
}

// testSeesOtherHandles checks that one handle's cache never hides what
// another handle (another process) wrote.
func testSeesOtherHandles(t *testing.T, newStore NewStore) {
	a, b := newStore(t), newStore(t)
	c := ctx(t)
	st := ensure(t, a, "handles", 0)
	cl := claim(t, a, st.ID, "w")
	if tr, err := a.GetAllTrials(st.ID); err != nil || len(tr) != 1 || tr[0].State != goptuna.TrialStateRunning {
		t.Fatalf("first read = %+v, %v", tr, err)
	}
	must(t, b.SetTrialIntermediateValue(cl.TrialID, 1, 0.25))
	must(t, b.SetTrialParam(cl.TrialID, "x", 0.5, distUniform))
	must(t, b.FinishTrial(c, cl.TrialID, goptuna.TrialStateComplete, 0.75, ""))
	second := claim(t, b, st.ID, "w2")
	tr, err := a.GetAllTrials(st.ID)
	must(t, err)
	if len(tr) != 2 || tr[0].State != goptuna.TrialStateComplete || tr[0].Value != 0.75 ||
		tr[0].IntermediateValues[1] != 0.25 || tr[0].Params["x"] != 0.5 || tr[1].ID != second.TrialID {
		t.Errorf("handle a sees %+v", tr)
	}
	wantErr(t, "FinishTrial from handle a after b finished", a.FinishTrial(c, cl.TrialID, goptuna.TrialStateFail, 0, ""), sweep.ErrTrialFinished)
}

func testBestTrial(t *testing.T, newStore NewStore) {
	s := newStore(t)
	for _, dir := range []goptuna.StudyDirection{goptuna.StudyDirectionMaximize, goptuna.StudyDirectionMinimize} {
		study := res(s.CreateNewStudy("best-" + string(dir))).must(t)
		must(t, s.SetStudyDirection(study, dir))
		_, err := s.GetBestTrial(study)
		wantErr(t, "GetBestTrial with no trials", err, goptuna.ErrNoCompletedTrials)
		byValue := map[float64]int{}
		for _, v := range []float64{0.3, math.NaN(), 0.9, 0.1} {
			id := res(s.CreateNewTrial(study)).must(t)
			must(t, s.SetTrialValue(id, v))
			must(t, s.SetTrialState(id, goptuna.TrialStateComplete))
			byValue[v] = id
		}
		pruned := res(s.CreateNewTrial(study)).must(t)
		must(t, s.SetTrialValue(pruned, 5))
		must(t, s.SetTrialState(pruned, goptuna.TrialStatePruned))
		want := byValue[0.9]
		if dir == goptuna.StudyDirectionMinimize {
			want = byValue[0.1]
		}
		if best, err := s.GetBestTrial(study); err != nil || best.ID != want {
			t.Errorf("%s: best = %+v, %v; want trial %d", dir, best, err, want)
		}
	}
}

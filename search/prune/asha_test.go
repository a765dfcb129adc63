package prune_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search/prune"
)

// report stores value at step for a running trial and asks the pruner, as
// goptuna's Trial.ShouldPrune does.
func report(tb testing.TB, s *goptuna.Study, p goptuna.Pruner, id, step int, v float64) bool {
	tb.Helper()
	if err := s.Storage.SetTrialIntermediateValue(id, step, v); err != nil {
		tb.Fatal(err)
	}
	return prunes(tb, s, p, id)
}

func rungAttr(tb testing.TB, s *goptuna.Study, id, rung int) (float64, bool) {
	tb.Helper()
	attrs, err := s.Storage.GetTrialSystemAttrs(id)
	if err != nil {
		tb.Fatal(err)
	}
	v, ok := attrs[prune.RungKeyPrefix+strconv.Itoa(rung)]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return f, true
}

func TestASHA_RecordsEachRungOnce(t *testing.T) {
	a, err := prune.NewASHA(1, 2, 0) // rungs at steps 1, 2, 4, 8
	if err != nil {
		t.Fatal(err)
	}
	s := newStudy(t, goptuna.StudyDirectionMinimize, a)
	id := addTrial(t, s, nil, goptuna.TrialStateRunning)
	for step := 1; step <= 10; step++ {
		if report(t, s, a, id, step, float64(100-step)) {
			t.Fatalf("lone trial pruned at step %d", step)
		}
	}
	for rung, want := range map[int]float64{0: 99, 1: 98, 2: 96, 3: 92} {
		got, ok := rungAttr(t, s, id, rung)
		if !ok || got != want {
			t.Fatalf("rung %d recorded %g (present %v), want %g from step %d", rung, got, ok, want, 100-int(want))
		}
	}
	if _, ok := rungAttr(t, s, id, 4); ok {
		t.Fatal("rung 4 (step 16) recorded at step 10")
	}
}

func TestASHA_Prune(t *testing.T) {
	t.Run("TopThirdPromoted", func(t *testing.T) {
		a, _ := prune.NewASHA(1, 3, 0)
		s := newStudy(t, goptuna.StudyDirectionMinimize, a)
		// Six trials reach rung 0 (step 1) with values 1..6; ⌊6/3⌋ = 2 may
		// continue, so a 7th trial at 2.5 is promoted only if among the best
		// ⌊7/3⌋ = 2 values: 1, 2 → pruned.
		for v := 1; v <= 6; v++ {
			id := addTrial(t, s, nil, goptuna.TrialStateRunning)
			report(t, s, a, id, 1, float64(v))
		}
		id := addTrial(t, s, nil, goptuna.TrialStateRunning)
		if !report(t, s, a, id, 1, 2.5) {
			t.Fatal("2.5 promoted past 1 and 2 with 7 competitors")
		}
		id = addTrial(t, s, nil, goptuna.TrialStateRunning)
		if report(t, s, a, id, 1, 1.5) {
			t.Fatal("1.5 pruned though second best of 8")
		}
	})
	t.Run("Maximize", func(t *testing.T) {
		a, _ := prune.NewASHA(1, 2, 0)
		s := newStudy(t, goptuna.StudyDirectionMaximize, a)
		for _, v := range []float64{0.9, 0.8, 0.7} {
			report(t, s, a, addTrial(t, s, nil, goptuna.TrialStateRunning), 1, v)
		}
		if report(t, s, a, addTrial(t, s, nil, goptuna.TrialStateRunning), 1, 0.85) {
			t.Fatal("0.85 pruned: top 2 of 4 under maximize")
		}
		if !report(t, s, a, addTrial(t, s, nil, goptuna.TrialStateRunning), 1, 0.75) {
			t.Fatal("0.75 kept: not in top 2 of 5")
		}
	})
	t.Run("EarlyStoppingRateShiftsRungs", func(t *testing.T) {
		a, _ := prune.NewASHA(2, 3, 1) // first rung at 2·3 = 6
		if got := a.RungStep(2, 0); got != 6 {
			t.Fatalf("rung 0 at step %d, want 6", got)
		}
		if got := a.RungStep(2, 2); got != 54 {
			t.Fatalf("rung 2 at step %d, want 54", got)
		}
		s := newStudy(t, goptuna.StudyDirectionMinimize, a)
		report(t, s, a, addTrial(t, s, nil, goptuna.TrialStateRunning), 6, 1)
		id := addTrial(t, s, nil, goptuna.TrialStateRunning)
		for step := 1; step <= 5; step++ {
			if report(t, s, a, id, step, 9) {
				t.Fatalf("pruned at step %d before the first rung", step)
			}
		}
		if !report(t, s, a, id, 6, 9) {
			t.Fatal("9 kept at rung 0 against 1")
		}
	})
	t.Run("SameDecisionFromAnyWorker", func(t *testing.T) {
		// One pruner, or two pruner values (two workers) taking turns over
		// one storage, must give the same decisions.
		run := func(alternate bool) []bool {
			a1, _ := prune.NewASHA(1, 2, 0)
			a2, _ := prune.NewASHA(1, 2, 0)
			s := newStudy(t, goptuna.StudyDirectionMinimize, a1)
			var got []bool
			for i := range 24 {
				p := goptuna.Pruner(a1)
				if alternate && i%2 == 1 {
					p = a2
				}
				id := addTrial(t, s, nil, goptuna.TrialStateRunning)
				for step := 1; step <= 8; step++ {
					pr := report(t, s, p, id, step, float64((i*7)%11)+1/float64(step))
					got = append(got, pr)
					if pr {
						break
					}
				}
			}
			return got
		}
		one, two := run(false), run(true)
		if len(one) != len(two) {
			t.Fatalf("decision counts differ: %d vs %d", len(one), len(two))
		}
		for i := range one {
			if one[i] != two[i] {
				t.Fatalf("decision %d differs", i)
			}
		}
	})
}

func TestHyperband_Brackets(t *testing.T) {
	h, err := prune.NewHyperband(1, 81, 3)
	if err != nil {
		t.Fatal(err)
	}
	// log3(81) + 1 = 5 brackets with budgets ⌈5·3^s/(s+1)⌉ for s = 4..0.
	got := h.Brackets(81)
	want := []int{81, 34, 15, 8, 5}
	if len(got) != len(want) {
		t.Fatalf("budgets %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("budgets %v, want %v", got, want)
		}
	}
	counts := make([]int, len(got))
	for n := range 1430 {
		b := prune.Bracket(got, "study", n)
		if b != prune.Bracket(got, "study", n) {
			t.Fatal("bracket not deterministic")
		}
		counts[b]++
	}
	// Brackets are used roughly in proportion to their budgets (143 total).
	if counts[0] < 600 || counts[4] < 20 || counts[4] > 100 {
		t.Fatalf("bracket counts %v, want about %v ×10", counts, want)
	}
}

func TestHyperband_Prune(t *testing.T) {
	h, _ := prune.NewHyperband(1, 9, 3)
	s := newStudy(t, goptuna.StudyDirectionMinimize, h)
	pruned := 0
	for n := range 60 {
		id := addTrial(t, s, nil, goptuna.TrialStateRunning)
		for step := 1; step <= 9; step++ {
			if report(t, s, h, id, step, float64(n%7)+1/float64(step)) {
				pruned++
				break
			}
		}
	}
	if pruned == 0 || pruned == 60 {
		t.Fatalf("%d of 60 trials pruned, want some but not all", pruned)
	}
	if _, err := prune.NewHyperband(0, 9, 3); err == nil {
		t.Fatal("min_resource 0 accepted")
	}
}

func TestASHA_AutoMinResource(t *testing.T) {
	a, _ := prune.NewASHA(0, 2, 0)
	s := newStudy(t, goptuna.StudyDirectionMinimize, a)
	id := addTrial(t, s, nil, goptuna.TrialStateRunning)
	if report(t, s, a, id, 1, 5) {
		t.Fatal("pruned before any trial completed")
	}
	curve := make([]float64, 300)
	addTrial(t, s, curve, goptuna.TrialStateComplete) // 300 steps → min_resource 3
	id = addTrial(t, s, nil, goptuna.TrialStateRunning)
	report(t, s, a, id, 1, 5)
	report(t, s, a, id, 2, 5)
	if _, ok := rungAttr(t, s, id, 0); ok {
		t.Fatal("rung 0 recorded before step 3")
	}
	report(t, s, a, id, 3, 5)
	if v, ok := rungAttr(t, s, id, 0); !ok || v != 5 {
		t.Fatalf("rung 0 = %g (present %v), want 5 at step 3", v, ok)
	}
	attrs, _ := s.Storage.GetStudySystemAttrs(s.ID)
	if attrs[prune.MinResourceAttr] != "3" {
		t.Fatalf("stored min_resource %q, want 3", attrs[prune.MinResourceAttr])
	}
}

func TestPrune_NaN(t *testing.T) {
	// A diverged trial (NaN reports) is pruned by every rule once it may be.
	a, _ := prune.NewASHA(1, 2, 0)
	m, _ := prune.NewMedian(0, 0, 1)
	for name, p := range map[string]goptuna.Pruner{"asha": a, "median": m} {
		s := newStudy(t, goptuna.StudyDirectionMinimize, p)
		addTrial(t, s, []float64{1}, goptuna.TrialStateComplete)
		id := addTrial(t, s, nil, goptuna.TrialStateRunning)
		if !report(t, s, p, id, 1, math.NaN()) {
			t.Fatalf("%s: NaN report not pruned", name)
		}
	}
}

func TestASHA_NeverPrunesAtMaxResource(t *testing.T) {
	a, err := prune.NewASHA(1, 2, 0) // rungs at steps 1, 2, 4
	if err != nil {
		t.Fatal(err)
	}
	s := newStudy(t, goptuna.StudyDirectionMaximize, a)
	best := addTrial(t, s, nil, goptuna.TrialStateRunning)
	for step := 1; step <= 2; step++ {
		if report(t, s, a, best, step, 0.9) {
			t.Fatalf("best trial pruned at step %d", step)
		}
	}
	worse := addTrial(t, s, nil, goptuna.TrialStateRunning)
	if report(t, s, a, worse, 1, 0.95) {
		t.Fatal("trial better at rung 0 pruned")
	}
	// At step 2 = MaxResource the trial has done all its work: worse than the
	// best at rung 1, it would be pruned there without MaxResource.
	a.MaxResource = 2
	if report(t, s, a, worse, 2, 0.1) {
		t.Fatal("trial pruned at its final step (MaxResource)")
	}
	a.MaxResource = 0
	if !prunes(t, s, a, worse) {
		t.Fatal("without MaxResource the same trial is not pruned: the test no longer exercises the rule")
	}
}

// Steps start at 1, so a trial that completed 8 steps used a resource of
// 8: the automatic max_resource is 8 (not Optuna's last step + 1, whose
// steps start at 0), which with min 1 and factor 3 makes ⌊log₃ 8⌋ + 1 = 2
// brackets, and a trial at step 8 has done all its work.
func TestHyperband_AutoMaxResource(t *testing.T) {
	h, err := prune.NewHyperband(1, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	s := newStudy(t, goptuna.StudyDirectionMaximize, h)
	addTrial(t, s, []float64{1, 2, 3, 4, 5, 6, 7, 8}, goptuna.TrialStateComplete)
	id := addTrial(t, s, nil, goptuna.TrialStateRunning)
	report(t, s, h, id, 1, 0.5)
	attrs, err := s.Storage.GetStudySystemAttrs(s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs[prune.MaxResourceAttr]; got != "8" {
		t.Fatalf("automatic max_resource %q, want 8 (the completed trial's last step)", got)
	}
	if n := len(h.Brackets(8)); n != 2 {
		t.Fatalf("%d brackets for max_resource 8, want 2", n)
	}
}

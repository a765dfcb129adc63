package prune_test

import (
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search/prune"
)

// newStudy returns an in-memory study that never logs.
func newStudy(tb testing.TB, dir goptuna.StudyDirection, p goptuna.Pruner) *goptuna.Study {
	tb.Helper()
	s, err := goptuna.CreateStudy("t", goptuna.StudyOptionStorage(goptuna.NewInMemoryStorage()),
		goptuna.StudyOptionDirection(dir), goptuna.StudyOptionPruner(p),
		goptuna.StudyOptionLogger(nil))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// addTrial stores a trial with the given curve and final state; it returns its ID.
func addTrial(tb testing.TB, s *goptuna.Study, curve []float64, state goptuna.TrialState) int {
	tb.Helper()
	id, err := s.Storage.CreateNewTrial(s.ID)
	if err != nil {
		tb.Fatal(err)
	}
	for i, v := range curve {
		if err := s.Storage.SetTrialIntermediateValue(id, i+1, v); err != nil {
			tb.Fatal(err)
		}
	}
	if state != goptuna.TrialStateRunning {
		if len(curve) > 0 {
			s.Storage.SetTrialValue(id, curve[len(curve)-1])
		}
		if err := s.Storage.SetTrialState(id, state); err != nil {
			tb.Fatal(err)
		}
	}
	return id
}

func prunes(tb testing.TB, s *goptuna.Study, p goptuna.Pruner, id int) bool {
	tb.Helper()
	tr, err := s.Storage.GetTrial(id)
	if err != nil {
		tb.Fatal(err)
	}
	got, err := p.Prune(s, tr)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

func TestPercentile_Prune(t *testing.T) {
	t.Run("MedianMinimize", func(t *testing.T) {
		p, _ := prune.NewMedian(3, 0, 1)
		s := newStudy(t, goptuna.StudyDirectionMinimize, p)
		for _, v := range []float64{1, 2, 3} {
			addTrial(t, s, []float64{v, v}, goptuna.TrialStateComplete)
		}
		bad := addTrial(t, s, []float64{2.5}, goptuna.TrialStateRunning)
		good := addTrial(t, s, []float64{1.5}, goptuna.TrialStateRunning)
		if !prunes(t, s, p, bad) || prunes(t, s, p, good) {
			t.Fatal("median 2: want 2.5 pruned and 1.5 kept")
		}
	})
	t.Run("MedianMaximize", func(t *testing.T) {
		p, _ := prune.NewMedian(3, 0, 1)
		s := newStudy(t, goptuna.StudyDirectionMaximize, p)
		for _, v := range []float64{1, 2, 3} {
			addTrial(t, s, []float64{v}, goptuna.TrialStateComplete)
		}
		if !prunes(t, s, p, addTrial(t, s, []float64{1.5}, goptuna.TrialStateRunning)) {
			t.Fatal("maximize: 1.5 < median 2 should be pruned")
		}
		if prunes(t, s, p, addTrial(t, s, []float64{2.5}, goptuna.TrialStateRunning)) {
			t.Fatal("maximize: 2.5 > median 2 should be kept")
		}
	})
	t.Run("Startup", func(t *testing.T) {
		p, _ := prune.NewMedian(5, 0, 1)
		s := newStudy(t, goptuna.StudyDirectionMinimize, p)
		for _, v := range []float64{1, 2, 3} {
			addTrial(t, s, []float64{v}, goptuna.TrialStateComplete)
		}
		if prunes(t, s, p, addTrial(t, s, []float64{100}, goptuna.TrialStateRunning)) {
			t.Fatal("pruned with 3 of 5 startup trials complete")
		}
	})
	t.Run("Warmup", func(t *testing.T) {
		p, _ := prune.NewMedian(1, 2, 1)
		s := newStudy(t, goptuna.StudyDirectionMinimize, p)
		addTrial(t, s, []float64{1, 1, 1}, goptuna.TrialStateComplete)
		if prunes(t, s, p, addTrial(t, s, []float64{9, 9}, goptuna.TrialStateRunning)) {
			t.Fatal("pruned at step 2 with warmup 2")
		}
		if !prunes(t, s, p, addTrial(t, s, []float64{9, 9, 9}, goptuna.TrialStateRunning)) {
			t.Fatal("not pruned at step 3 after warmup 2")
		}
	})
	t.Run("Interval", func(t *testing.T) {
		p, _ := prune.NewMedian(1, 0, 3)
		s := newStudy(t, goptuna.StudyDirectionMinimize, p)
		addTrial(t, s, []float64{1, 1, 1, 1, 1}, goptuna.TrialStateComplete)
		// Steps 1 and 4 open windows; 2, 3 and 5 do not.
		want := map[int]bool{1: true, 2: false, 3: false, 4: true, 5: false}
		for n := 1; n <= 5; n++ {
			curve := make([]float64, n)
			for i := range curve {
				curve[i] = 9
			}
			if got := prunes(t, s, p, addTrial(t, s, curve, goptuna.TrialStateRunning)); got != want[n] {
				t.Fatalf("step %d: prune = %v, want %v", n, got, want[n])
			}
		}
	})
	t.Run("PercentileQuarter", func(t *testing.T) {
		p, _ := prune.NewPercentile(25, 1, 0, 1)
		s := newStudy(t, goptuna.StudyDirectionMinimize, p)
		for _, v := range []float64{0, 1, 2, 3, 4} {
			addTrial(t, s, []float64{v}, goptuna.TrialStateComplete)
		}
		// 25th percentile of 0..4 is 1.
		if !prunes(t, s, p, addTrial(t, s, []float64{1.2}, goptuna.TrialStateRunning)) ||
			prunes(t, s, p, addTrial(t, s, []float64{0.8}, goptuna.TrialStateRunning)) {
			t.Fatal("25th percentile 1: want 1.2 pruned, 0.8 kept")
		}
	})
	t.Run("BadSettings", func(t *testing.T) {
		if _, err := prune.NewPercentile(120, 0, 0, 1); err == nil {
			t.Fatal("percentile 120 accepted")
		}
		if _, err := prune.NewMedian(0, 0, 0); err == nil {
			t.Fatal("interval 0 accepted")
		}
	})
}

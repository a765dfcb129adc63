package tpe

import (
	"slices"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
)

func newTestStudy(t *testing.T, dir goptuna.StudyDirection) *goptuna.Study {
	t.Helper()
	s, err := goptuna.CreateStudy("t", goptuna.StudyOptionStorage(goptuna.NewInMemoryStorage()),
		goptuna.StudyOptionDirection(dir), goptuna.StudyOptionLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// put stores a trial with param x (absent when x < 0), a value, intermediate
// values and a state; it returns the trial.
func put(t *testing.T, s *goptuna.Study, x, value float64, curve []float64, state goptuna.TrialState) goptuna.FrozenTrial {
	t.Helper()
	id, _ := s.Storage.CreateNewTrial(s.ID)
	if x >= 0 {
		s.Storage.SetTrialParam(id, "x", x, goptuna.UniformDistribution{Low: 0, High: 1})
	}
	for i, v := range curve {
		s.Storage.SetTrialIntermediateValue(id, i+1, v)
	}
	if state != goptuna.TrialStateRunning {
		s.Storage.SetTrialValue(id, value)
		s.Storage.SetTrialState(id, state)
	}
	tr, _ := s.Storage.GetTrial(id)
	return tr
}

func numbers(rs []*record) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.number)
	}
	return out
}

func TestHistory_Load(t *testing.T) {
	s := newTestStudy(t, goptuna.StudyDirectionMinimize)
	put(t, s, 0.1, 1, nil, goptuna.TrialStateComplete)
	put(t, s, 0.2, 0, nil, goptuna.TrialStateFail)
	put(t, s, 0.3, 0, nil, goptuna.TrialStateRunning)
	put(t, s, -1, 0, nil, goptuna.TrialStateRunning) // no params yet
	cur := put(t, s, 0.5, 0, nil, goptuna.TrialStateRunning)
	var h history
	fin, run, err := h.load(s, cur, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := numbers(fin); !slices.Equal(got, []int{0}) {
		t.Fatalf("finished = %v, want [0] (FAIL excluded)", got)
	}
	// The constant liar sees other running trials with params, never the
	// trial being sampled.
	if got := numbers(run); !slices.Equal(got, []int{2}) {
		t.Fatalf("running = %v, want [2]", got)
	}
	if _, run, _ = h.load(s, cur, false); len(run) != 0 {
		t.Fatalf("without liar: running = %v, want none", numbers(run))
	}
}

func TestHistory_Split(t *testing.T) {
	for _, dir := range []goptuna.StudyDirection{goptuna.StudyDirectionMinimize, goptuna.StudyDirectionMaximize} {
		s := newTestStudy(t, dir)
		sign := 1.0
		if dir == goptuna.StudyDirectionMaximize {
			sign = -1
		}
		put(t, s, 0.1, sign*3, nil, goptuna.TrialStateComplete)                    // 0
		put(t, s, 0.1, sign*1, nil, goptuna.TrialStateComplete)                    // 1: best complete
		put(t, s, 0.1, 0, []float64{sign * 0.5}, goptuna.TrialStatePruned)         // 2: pruned at step 1
		put(t, s, 0.1, 0, []float64{sign * 9, sign * 9}, goptuna.TrialStatePruned) // 3: pruned at step 2: ranks before 2
		put(t, s, 0.1, sign*2, nil, goptuna.TrialStateComplete)                    // 4
		put(t, s, 0.1, 0, nil, goptuna.TrialStatePruned)                           // 5: never reported: last
		var h history
		fin, _, _ := h.load(s, goptuna.FrozenTrial{ID: -1}, false)
		for n, want := range map[int][]int{1: {1}, 3: {0, 1, 4}, 4: {0, 1, 3, 4}, 5: {0, 1, 2, 3, 4}} {
			below, above := h.split(fin, n, dir == goptuna.StudyDirectionMaximize)
			if got := numbers(below); !slices.Equal(got, want) {
				t.Fatalf("%s, n_below %d: below = %v, want %v", dir, n, got, want)
			}
			if len(below)+len(above) != 6 {
				t.Fatalf("below + above = %d trials, want 6", len(below)+len(above))
			}
		}
		// A newly finished trial is ranked incrementally.
		put(t, s, 0.1, sign*0.5, nil, goptuna.TrialStateComplete) // 6: new best
		fin, _, _ = h.load(s, goptuna.FrozenTrial{ID: -1}, false)
		if below, _ := h.split(fin, 1, dir == goptuna.StudyDirectionMaximize); !slices.Equal(numbers(below), []int{6}) {
			t.Fatalf("%s: after a new best, below = %v, want [6]", dir, numbers(below))
		}
	}
}

func TestGroups(t *testing.T) {
	b := sampler.Bounds{Low: 0, High: 1}
	rec := func(names ...string) *record {
		r := &record{bounds: map[string]sampler.Bounds{}}
		for _, n := range names {
			r.bounds[n] = b
		}
		return r
	}
	recs := []*record{
		rec("lr", "opt", "momentum"),
		rec("lr", "opt", "beta"),
		rec("lr", "opt", "momentum"),
		rec("lr", "opt", "sched", "warmup"),
	}
	// The decomposition must not depend on the order trials arrive in (the
	// sampler refines it incrementally as trials finish).
	for _, perm := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}} {
		var rs []*record
		for _, i := range perm {
			rs = append(rs, recs[i])
		}
		checkGroups(t, groups(rs))
	}
	if sp := intersection([]*record{rec("a", "b"), rec("b", "c")}); len(sp) != 1 {
		t.Fatalf("intersection = %v, want only b", sp)
	}
}

func checkGroups(t *testing.T, gs []map[string]sampler.Bounds) {
	t.Helper()
	var got [][]string
	for _, g := range gs {
		var names []string
		for n := range g {
			names = append(names, n)
		}
		slices.Sort(names)
		got = append(got, names)
	}
	want := [][]string{{"beta"}, {"lr", "opt"}, {"momentum"}, {"sched", "warmup"}}
	if len(got) != len(want) {
		t.Fatalf("groups = %v, want %v", got, want)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("groups = %v, want %v", got, want)
		}
	}
}

func TestHistory_ObserveOrder(t *testing.T) {
	// The incrementally kept value ranking must give the same order as
	// sorting, ties included, for any subset of the trials, and the bandwidths
	// built from it must equal those from a sort.
	s := newTestStudy(t, goptuna.StudyDirectionMinimize)
	var h history
	for n := range 60 {
		x := float64(n%7) / 7 // many ties
		if n%11 == 0 {
			x = -1 // param absent
		}
		put(t, s, x, float64((n*37)%13), nil, goptuna.TrialStateComplete)
		if n%9 == 0 || n == 59 { // rank in several increments, some bulk
			fin, _, err := h.load(s, goptuna.FrozenTrial{ID: -1}, false)
			if err != nil {
				t.Fatal(err)
			}
			below, above := h.split(fin, 5, false)
			ids := h.ids([]string{"x"})
			d := newDim(sampler.Bounds{Low: 0, High: 1})
			for _, recs := range [][]*record{below, above, fin} {
				obs, order := h.observe(recs, ids, []dim{d})
				if order == nil {
					t.Fatalf("after %d trials: no order from the ranking", n+1)
				}
				want := sortedOrder(obs[0], 2)[:len(obs[0])] // 2 > all values: the extra index sorts last
				if !slices.Equal(order, want) {
					t.Fatalf("after %d trials: order %v, want %v", n+1, order, want)
				}
				a := gapSigmas(obs[0], order, 0, 1, 0, false, true)
				b := gapSigmas(obs[0], nil, 0, 1, 0, false, true)
				if !slices.Equal(a, b) {
					t.Fatalf("sigmas from ranking %v differ from sorted %v", a, b)
				}
			}
		}
	}
}

package tpe

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
)

// record is what TPE needs of one trial, parsed once. Finished trials are
// immutable in storage, so their records are cached by trial ID for the
// sampler's lifetime; running trials are parsed afresh on every call.
type record struct {
	id, number int
	state      goptuna.TrialState
	value      float64 // objective value of a COMPLETE trial
	step       int     // last reported step of a PRUNED trial; -1 if none
	last       float64 // value at that step
	params     map[string]float64
	bounds     map[string]sampler.Bounds
	vals       []float64 // params by interned name ID (history.id); NaN = absent
	stamp      uint64    // see history.split; guarded by history.mu
	rankGen    uint64    // == history.gen when ranked; guarded by history.mu
	mark       uint64    // see history.observe; guarded by history.mu
	pos        int       // see history.observe; guarded by history.mu
}

// history caches parsed trial records by trial ID. It is safe for
// concurrent use.
type history struct {
	mu    sync.Mutex
	done  map[int]*record
	names map[string]int // interned param names

	// Rankings for split and observe, maintained incrementally.
	gen      uint64 // ranking generation; a record is ranked when rankGen == gen
	nRanked  int
	byValue  [][]*record                 // per interned param ID: ranked records with it, by (value, number)
	inter    map[string]sampler.Bounds   // intersection search space of the ranked records
	gs       []map[string]sampler.Bounds // group decomposition of the ranked records
	maximize bool
	complete []*record // best first
	pruned   []*record // best first
	stamp    uint64    // marks the records of the fin being split
}

// id returns the interned ID of a param name. h.mu must be held.
func (h *history) id(name string) int {
	if h.names == nil {
		h.names = make(map[string]int)
	}
	i, ok := h.names[name]
	if !ok {
		i = len(h.names)
		h.names[name] = i
	}
	return i
}

// ids interns names.
func (h *history) ids(names []string) []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]int, len(names))
	for j, n := range names {
		out[j] = h.id(n)
	}
	return out
}

// parseRecord reads a trial. h.mu must be held.
func (h *history) parseRecord(t goptuna.FrozenTrial) (*record, error) {
	r := &record{id: t.ID, number: t.Number, state: t.State, value: t.Value, step: -1,
		params: make(map[string]float64, len(t.InternalParams)), bounds: make(map[string]sampler.Bounds, len(t.InternalParams))}
	for name, v := range t.InternalParams {
		b, err := sampler.BoundsOf(t.Distributions[name])
		if err != nil {
			return nil, fmt.Errorf("read trial %d param %q: %w", t.Number, name, err)
		}
		r.params[name], r.bounds[name] = v, b
		i := h.id(name)
		for len(r.vals) <= i {
			r.vals = append(r.vals, math.NaN())
		}
		r.vals[i] = v
	}
	for s, v := range t.IntermediateValues {
		if s > r.step {
			r.step, r.last = s, v
		}
	}
	return r, nil
}

// load returns the study's COMPLETE and PRUNED trials (fin) and, when liar is
// set, the RUNNING trials other than current (run), each in trial-number
// order.
func (h *history) load(study *goptuna.Study, current goptuna.FrozenTrial, liar bool) (fin, run []*record, err error) {
	trials, err := study.GetTrials()
	if err != nil && err != goptuna.ErrTrialsPartiallyDeleted {
		return nil, nil, fmt.Errorf("get trials: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done == nil {
		h.done = make(map[int]*record, len(trials))
	}
	for i := range trials {
		t := &trials[i]
		switch {
		case t.State == goptuna.TrialStateRunning:
			if !liar || t.ID == current.ID || len(t.InternalParams) == 0 {
				continue
			}
			r, err := h.parseRecord(*t)
			if err != nil {
				return nil, nil, err
			}
			run = append(run, r)
		case t.State == goptuna.TrialStateComplete || t.State == goptuna.TrialStatePruned:
			r, ok := h.done[t.ID]
			if !ok {
				if r, err = h.parseRecord(*t); err != nil {
					return nil, nil, err
				}
				h.done[t.ID] = r
			}
			fin = append(fin, r)
		}
	}
	byNumber := func(a, b *record) int { return cmp.Compare(a.number, b.number) }
	slices.SortFunc(fin, byNumber)
	slices.SortFunc(run, byNumber)
	return fin, run, nil
}

// split divides finished trials into the nBelow best ("below", modelled by
// l(x)) and the rest ("above", g(x)), as Optuna does: complete trials ranked
// by value (NaN last), then pruned trials ranked by how far they got and
// their value there. fin must be in trial-number order; both results are too.
//
// The rankings are kept between calls and new trials are inserted into them,
// so a suggestion costs O(n) here rather than a sort of the whole history.
func (h *history) split(fin []*record, nBelow int, maximize bool) (below, above []*record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rank(fin, maximize)
	// The rankings may hold trials that finished after fin was read (another
	// trial of this sampler loaded later): stamp fin and skip the others.
	h.stamp++
	for _, r := range fin {
		r.stamp = h.stamp
	}
	inBelow := make(map[int]bool, nBelow)
	for _, list := range [][]*record{h.complete, h.pruned} {
		for _, r := range list {
			if len(inBelow) == nBelow {
				break
			}
			if r.stamp == h.stamp {
				inBelow[r.id] = true
			}
		}
	}
	for _, r := range fin {
		if inBelow[r.id] {
			below = append(below, r)
		} else {
			above = append(above, r)
		}
	}
	return below, above
}

// rank brings h.complete and h.pruned up to date with fin. A trial that left
// fin (deleted) forces a rebuild.
func (h *history) rank(fin []*record, maximize bool) {
	if h.gen == 0 || maximize != h.maximize || h.nRanked > len(fin) {
		h.gen++
		h.nRanked, h.complete, h.pruned, h.byValue, h.maximize = 0, nil, nil, nil, maximize
		h.inter, h.gs = nil, nil
	}
	var fresh []*record
	for _, r := range fin {
		if r.rankGen != h.gen {
			fresh = append(fresh, r)
		}
	}
	if len(fresh) == 0 {
		return
	}
	cmpC := h.cmpComplete()
	bulk := len(fresh) > 8
	touched := map[int]bool{}
	for _, r := range fresh {
		r.rankGen = h.gen
		h.nRanked++
		h.inter = intersect(h.inter, r)
		h.gs = refine(h.gs, r)
		list, cmpF := &h.complete, cmpC
		if r.state == goptuna.TrialStatePruned {
			list, cmpF = &h.pruned, cmpPruned(cmpC)
		}
		insert(list, r, cmpF, bulk)
		for id, v := range r.vals {
			if math.IsNaN(v) {
				continue
			}
			for len(h.byValue) <= id {
				h.byValue = append(h.byValue, nil)
			}
			insert(&h.byValue[id], r, cmpValue(id), bulk)
			touched[id] = true
		}
	}
	if bulk {
		slices.SortFunc(h.complete, cmpC)
		slices.SortFunc(h.pruned, cmpPruned(cmpC))
		for id := range touched {
			slices.SortFunc(h.byValue[id], cmpValue(id))
		}
	}
}

// spaces returns (copies of) the multivariate search spaces of the ranked
// trials: the groups, or the intersection as one space.
func (h *history) spaces(group bool) []map[string]sampler.Bounds {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !group {
		if len(h.inter) == 0 {
			return nil
		}
		return []map[string]sampler.Bounds{maps.Clone(h.inter)}
	}
	out := make([]map[string]sampler.Bounds, len(h.gs))
	for i, g := range h.gs {
		out[i] = maps.Clone(g)
	}
	return sortGroups(out)
}

// insert adds r to the sorted list, or only appends it when bulk (the
// caller sorts afterwards).
func insert(list *[]*record, r *record, cmpF func(a, b *record) int, bulk bool) {
	if bulk {
		*list = append(*list, r)
		return
	}
	i, _ := slices.BinarySearchFunc(*list, r, cmpF)
	*list = slices.Insert(*list, i, r)
}

// cmpValue orders records by the value of param id, then trial number.
func cmpValue(id int) func(a, b *record) int {
	return func(a, b *record) int {
		return cmp.Or(cmp.Compare(a.vals[id], b.vals[id]), cmp.Compare(a.number, b.number))
	}
}

// observe returns the observations of recs for the given params (see
// observations) and, for a single numeric param, their order by value
// (indices into the observations, ties by trial number), read from the
// incrementally kept byValue ranking instead of sorting. order is nil when
// it cannot be read that way (running trials of the constant liar are not
// ranked); the caller then sorts.
func (h *history) observe(recs []*record, ids []int, dims []dim) (obs [][]float64, order []int) {
	obs = observations(recs, ids, dims)
	if len(ids) != 1 || dims[0].b.Categorical() {
		return obs, nil
	}
	id, b := ids[0], dims[0].b
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stamp++
	n := 0
	for _, r := range recs {
		if id >= len(r.vals) || !inside(b, r.vals[id]) {
			continue
		}
		if r.rankGen != h.gen {
			return obs, nil
		}
		r.mark, r.pos = h.stamp, n
		n++
	}
	if n == 0 {
		return obs, []int{}
	}
	if id >= len(h.byValue) {
		return obs, nil
	}
	order = make([]int, 0, n)
	for _, r := range h.byValue[id] {
		if r.mark == h.stamp {
			order = append(order, r.pos)
		}
	}
	if len(order) != n {
		return obs, nil
	}
	return obs, order
}

// cmpComplete orders complete trials best first (NaN last, ties by number).
func (h *history) cmpComplete() func(a, b *record) int {
	sign := 1.0
	if h.maximize {
		sign = -1
	}
	key := func(v float64) float64 {
		if math.IsNaN(v) {
			return math.Inf(1)
		}
		return sign * v
	}
	return func(a, b *record) int {
		return cmp.Or(cmp.Compare(key(a.value), key(b.value)), cmp.Compare(a.number, b.number))
	}
}

// cmpPruned orders pruned trials: later last step first, then the value at
// that step; a trial that never reported ranks behind all that did (Optuna's
// score (1, 0)).
func cmpPruned(cmpC func(a, b *record) int) func(a, b *record) int {
	return func(a, b *record) int {
		if c := cmp.Compare(b.step, a.step); c != 0 {
			return c
		}
		if a.step < 0 {
			return cmp.Compare(a.number, b.number)
		}
		return cmpC(&record{value: a.last, number: a.number}, &record{value: b.last, number: b.number})
	}
}

// observations extracts the transformed values of the params with interned
// IDs ids from the records that have all of them inside the current bounds,
// as obs[dim][i].
func observations(recs []*record, ids []int, dims []dim) [][]float64 {
	obs := make([][]float64, len(ids))
	for j := range obs {
		obs[j] = make([]float64, 0, len(recs))
	}
outer:
	for _, r := range recs {
		for j, id := range ids {
			if id >= len(r.vals) || !inside(dims[j].b, r.vals[id]) {
				continue outer
			}
		}
		for j, id := range ids {
			obs[j] = append(obs[j], dims[j].transform(r.vals[id]))
		}
	}
	return obs
}

// inside reports whether v (NaN for an absent param) is within b.
func inside(b sampler.Bounds, v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	if b.Categorical() {
		return v >= 0 && int(v) < b.N
	}
	return v >= b.Low && v <= b.High
}

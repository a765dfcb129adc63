package tpe

import (
	"cmp"
	"fmt"
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
}

// history caches parsed trial records by trial ID. It is safe for
// concurrent use.
type history struct {
	mu   sync.Mutex
	done map[int]*record
}

func parseRecord(t goptuna.FrozenTrial) (*record, error) {
	r := &record{id: t.ID, number: t.Number, state: t.State, value: t.Value, step: -1,
		params: make(map[string]float64, len(t.InternalParams)), bounds: make(map[string]sampler.Bounds, len(t.InternalParams))}
	for name, v := range t.InternalParams {
		b, err := sampler.BoundsOf(t.Distributions[name])
		if err != nil {
			return nil, fmt.Errorf("read trial %d param %q: %w", t.Number, name, err)
		}
		r.params[name], r.bounds[name] = v, b
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
			r, err := parseRecord(*t)
			if err != nil {
				return nil, nil, err
			}
			run = append(run, r)
		case t.State == goptuna.TrialStateComplete || t.State == goptuna.TrialStatePruned:
			r, ok := h.done[t.ID]
			if !ok {
				if r, err = parseRecord(*t); err != nil {
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
// their value there. Both results are in trial-number order.
func split(fin []*record, nBelow int, maximize bool) (below, above []*record) {
	var complete, pruned []*record
	for _, r := range fin {
		if r.state == goptuna.TrialStateComplete {
			complete = append(complete, r)
		} else {
			pruned = append(pruned, r)
		}
	}
	sign := 1.0
	if maximize {
		sign = -1
	}
	key := func(v float64) float64 {
		if math.IsNaN(v) {
			return math.Inf(1)
		}
		return sign * v
	}
	slices.SortStableFunc(complete, func(a, b *record) int {
		return cmp.Or(cmp.Compare(key(a.value), key(b.value)), cmp.Compare(a.number, b.number))
	})
	slices.SortStableFunc(pruned, func(a, b *record) int {
		sa, sb := prunedStep(a), prunedStep(b)
		return cmp.Or(cmp.Compare(sb, sa), cmp.Compare(prunedKey(a, key), prunedKey(b, key)), cmp.Compare(a.number, b.number))
	})
	nc := min(nBelow, len(complete))
	below = append(below, complete[:nc]...)
	above = append(above, complete[nc:]...)
	np := min(max(nBelow-nc, 0), len(pruned))
	below = append(below, pruned[:np]...)
	above = append(above, pruned[np:]...)
	byNumber := func(a, b *record) int { return cmp.Compare(a.number, b.number) }
	slices.SortFunc(below, byNumber)
	slices.SortFunc(above, byNumber)
	return below, above
}

// prunedStep ranks pruned trials: later steps first; a trial that never
// reported ranks behind all that did (Optuna's score (1, 0)).
func prunedStep(r *record) int {
	if r.step < 0 {
		return -1
	}
	return r.step
}

func prunedKey(r *record, key func(float64) float64) float64 {
	if r.step < 0 {
		return 0
	}
	return key(r.last)
}

// observations extracts the transformed values of the named params from the
// records that have all of them inside the current bounds, as obs[dim][i].
func observations(recs []*record, names []string, dims []dim) [][]float64 {
	obs := make([][]float64, len(names))
	for j := range obs {
		obs[j] = make([]float64, 0, len(recs))
	}
outer:
	for _, r := range recs {
		for j, name := range names {
			v, ok := r.params[name]
			if !ok || !inside(dims[j].b, v) {
				continue outer
			}
		}
		for j, name := range names {
			obs[j] = append(obs[j], dims[j].transform(r.params[name]))
		}
	}
	return obs
}

func inside(b sampler.Bounds, v float64) bool {
	if b.Categorical() {
		return v >= 0 && int(v) < b.N
	}
	return v >= b.Low && v <= b.High
}

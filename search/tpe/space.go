package tpe

import (
	"maps"
	"slices"

	"sweep/search/sampler"
)

// intersection returns the params that every finished trial has, with the
// same bounds in all of them (Optuna's IntersectionSearchSpace with pruned
// trials included).
func intersection(fin []*record) map[string]sampler.Bounds {
	var sp map[string]sampler.Bounds
	for _, r := range fin {
		sp = intersect(sp, r)
	}
	return sp
}

// intersect narrows the intersection sp by one more trial (nil sp: none
// seen yet). The result does not depend on the order trials come in.
func intersect(sp map[string]sampler.Bounds, r *record) map[string]sampler.Bounds {
	if sp == nil {
		return maps.Clone(r.bounds)
	}
	for name, b := range sp {
		if rb, ok := r.bounds[name]; !ok || rb != b {
			delete(sp, name)
		}
	}
	return sp
}

// groups decomposes the params seen in finished trials into groups that
// always occur together (Optuna's _GroupDecomposedSearchSpace). A
// conditional branch thereby becomes its own group, modelled only on trials
// that took it. Groups come sorted by their smallest name.
func groups(fin []*record) []map[string]sampler.Bounds {
	var gs []map[string]sampler.Bounds
	for _, r := range fin {
		gs = refine(gs, r)
	}
	return sortGroups(gs)
}

// refine splits every group into the part trial r has and the part it
// lacks; r's remaining params form a new group. Two params end up together
// exactly when every trial has both or neither, whatever the order of trials.
func refine(gs []map[string]sampler.Bounds, r *record) []map[string]sampler.Bounds {
	rest := maps.Clone(r.bounds)
	var next []map[string]sampler.Bounds
	for _, g := range gs {
		in, out := map[string]sampler.Bounds{}, map[string]sampler.Bounds{}
		for name, b := range g {
			if _, ok := r.bounds[name]; ok {
				in[name] = b
				delete(rest, name)
			} else {
				out[name] = b
			}
		}
		next = appendNonEmpty(next, in, out)
	}
	return appendNonEmpty(next, rest)
}

// sortGroups orders groups by their smallest name, for determinism.
func sortGroups(gs []map[string]sampler.Bounds) []map[string]sampler.Bounds {
	slices.SortFunc(gs, cmpFirst)
	return gs
}

func appendNonEmpty(gs []map[string]sampler.Bounds, more ...map[string]sampler.Bounds) []map[string]sampler.Bounds {
	for _, g := range more {
		if len(g) > 0 {
			gs = append(gs, g)
		}
	}
	return gs
}

func cmpFirst(a, b map[string]sampler.Bounds) int {
	fa := slices.Min(slices.Collect(maps.Keys(a)))
	fb := slices.Min(slices.Collect(maps.Keys(b)))
	switch {
	case fa < fb:
		return -1
	case fa > fb:
		return 1
	}
	return 0
}

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
		if sp == nil {
			sp = maps.Clone(r.bounds)
			continue
		}
		for name, b := range sp {
			if rb, ok := r.bounds[name]; !ok || rb != b {
				delete(sp, name)
			}
		}
	}
	return sp
}

// groups decomposes the params seen in finished trials into groups that
// always occur together (Optuna's _GroupDecomposedSearchSpace): each trial's
// param set splits every existing group into the part it shares and the part
// it lacks, and its remaining params form a new group. A conditional branch
// thereby becomes its own group, modelled only on trials that took it.
func groups(fin []*record) []map[string]sampler.Bounds {
	var gs []map[string]sampler.Bounds
	for _, r := range fin {
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
		gs = appendNonEmpty(next, rest)
	}
	// Deterministic order: by each group's smallest name.
	slices.SortFunc(gs, func(a, b map[string]sampler.Bounds) int {
		return cmpFirst(a, b)
	})
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

// Package sampler holds the simple samplers (Random, Grid) and the CMA-ES
// glue, plus the helpers every sweep sampler shares: seeded random streams and
// draws from goptuna distributions.
//
// It does not model the objective: the model-based sampler is package tpe.
// Nothing here uses global math/rand state.
package sampler

import (
	"hash/fnv"
	"math/rand/v2"
)

// Mix combines a seed with further values into a new 64-bit seed using the
// splitmix64 finaliser, so that nearby inputs (trial 7 and trial 8, worker 0
// and worker 1) give unrelated streams.
func Mix(seed uint64, vals ...uint64) uint64 {
	h := splitmix(seed)
	for _, v := range vals {
		h = splitmix(h ^ splitmix(v+0x9e3779b97f4a7c15))
	}
	return h
}

func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// HashString returns the 64-bit FNV-1a hash of s. It names parameters and
// studies in seed derivations.
func HashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// TrialRand returns a random source for one decision of one trial: it depends
// only on seed, the trial number and the purpose (usually a parameter name),
// never on how many draws came before. A resumed or re-run study therefore
// suggests the same values for the same trial, and two workers that share a
// seed still draw differently because their trials have different numbers.
func TrialRand(seed uint64, trialNumber int, purpose string) *rand.Rand {
	s := Mix(seed, uint64(int64(trialNumber)), HashString(purpose))
	return rand.New(rand.NewPCG(s, splitmix(s)))
}

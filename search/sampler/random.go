package sampler

import (
	"github.com/c-bata/goptuna"
)

var _ goptuna.Sampler = (*Random)(nil)

// Random draws every parameter independently and uniformly: integers and
// stepped floats over their grid with both bounds included, log-scaled
// params uniformly in log space, categories with equal probability.
//
// Each draw comes from a stream derived from the seed, the trial number and
// the parameter name (see [TrialRand]), so the same seed gives the same
// values for the same trial on any worker, in any order, after a restart.
// Random holds no mutable state and is safe for concurrent use.
type Random struct {
	Seed uint64
}

// NewRandom returns a random sampler with the given seed.
func NewRandom(seed uint64) *Random { return &Random{Seed: seed} }

// Sample implements goptuna.Sampler.
func (r *Random) Sample(_ *goptuna.Study, trial goptuna.FrozenTrial, name string, dist any) (float64, error) {
	b, err := BoundsOf(dist)
	if err != nil {
		return 0, err
	}
	return b.Uniform(TrialRand(r.Seed, trial.Number, name)), nil
}

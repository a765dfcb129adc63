package sampler

import (
	"sync"

	"github.com/c-bata/goptuna"
	"github.com/c-bata/goptuna/cmaes"
)

var _ goptuna.RelativeSampler = (*CMAES)(nil)

// CMAES wraps goptuna's CMA-ES relative sampler so that it is safe for
// concurrent use (goptuna's keeps its optimizer state unguarded) and seeded
// explicitly. It supports numeric params only; search.NewSampler rejects
// spaces with categorical or conditional params before building one. Pair it
// with a Random sampler for the start-up trials and any param CMA-ES skips.
type CMAES struct {
	mu    sync.Mutex
	inner *cmaes.Sampler
}

// NewCMAES returns a CMA-ES sampler. startup is the number of completed
// trials before CMA-ES starts (goptuna's default 0 is kept when 0).
func NewCMAES(seed uint64, startup int) *CMAES {
	opts := []cmaes.SamplerOption{cmaes.SamplerOptionSeed(int64(seed >> 1))}
	if startup > 0 {
		opts = append(opts, cmaes.SamplerOptionNStartupTrials(startup))
	}
	return &CMAES{inner: cmaes.NewSampler(opts...)}
}

// SampleRelative implements goptuna.RelativeSampler.
func (c *CMAES) SampleRelative(study *goptuna.Study, trial goptuna.FrozenTrial, space map[string]any) (map[string]float64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inner.SampleRelative(study, trial, space)
}

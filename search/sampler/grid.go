package sampler

import (
	"fmt"
	"sync"

	"github.com/c-bata/goptuna"
)

var _ goptuna.Sampler = (*Grid)(nil)

// RetryOfAttr is the trial system attr that marks a retry: the ID of the
// trial it re-runs, with the same params. The store sets it when it
// queues the retry.
const RetryOfAttr = "sweep:retry_of"

// EnqueuedAttr is the trial system attr that marks a trial queued by hand
// with fixed params (`sweep enqueue`, Optuna's enqueue_trial). Like a
// retry, it takes no grid point of its own.
const EnqueuedAttr = "sweep:enqueued"

// Grid walks a fixed list of grid points in claim order: a fresh trial
// gets point k mod len(points), where k counts the study's trials with a
// lower number that are not retries (RetryOfAttr) or queued by hand
// (EnqueuedAttr). A retry re-runs its failed trial's point with its stored
// params and takes no point of its own, nor does an enqueued trial, so
// with any retries every point is run exactly once before any point is
// run twice. Trial numbers are contiguous and each trial exists
// from its claim on, so k depends only on the numbers and retries below a
// trial: workers never pick the same point for different trials nor skip
// one. Run Size trials plus the retries to cover the grid exactly once.
//
// A point maps param names to internal values (category index for
// categoricals). Points of conditional spaces hold only the params that
// exist under their choices. Grid is safe for concurrent use.
type Grid struct {
	points []map[string]float64

	mu         sync.Mutex
	lastTrial  int // trial ID whose point is cached (Sample is called once per param)
	lastPoint  int
	haveCached bool
}

// NewGrid returns a grid sampler over points.
func NewGrid(points []map[string]float64) (*Grid, error) {
	if len(points) == 0 {
		return nil, fmt.Errorf("sampler: grid has no points")
	}
	return &Grid{points: points}, nil
}

// Size returns the number of grid points.
func (g *Grid) Size() int { return len(g.points) }

// Sample implements goptuna.Sampler.
func (g *Grid) Sample(study *goptuna.Study, trial goptuna.FrozenTrial, name string, dist any) (float64, error) {
	i, err := g.point(study, trial)
	if err != nil {
		return 0, err
	}
	v, ok := g.points[i][name]
	if !ok {
		return 0, fmt.Errorf("sampler: grid point %d has no param %q", i, name)
	}
	b, err := BoundsOf(dist)
	if err != nil {
		return 0, err
	}
	if b.Categorical() && (v < 0 || int(v) >= b.N) || !b.Categorical() && (v < b.Low || v > b.High) {
		return 0, fmt.Errorf("sampler: grid value %g of %q outside its distribution", v, name)
	}
	return v, nil
}

// point returns the index of trial's grid point (see Grid).
func (g *Grid) point(study *goptuna.Study, trial goptuna.FrozenTrial) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.haveCached && g.lastTrial == trial.ID {
		return g.lastPoint, nil
	}
	trials, err := study.GetTrials()
	if err != nil {
		return 0, fmt.Errorf("sampler: grid: get trials: %w", err)
	}
	k := 0
	for _, t := range trials {
		if t.Number < trial.Number && t.SystemAttrs[RetryOfAttr] == "" && t.SystemAttrs[EnqueuedAttr] == "" {
			k++
		}
	}
	g.lastTrial, g.lastPoint, g.haveCached = trial.ID, k%len(g.points), true
	return g.lastPoint, nil
}

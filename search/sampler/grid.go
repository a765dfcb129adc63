package sampler

import (
	"fmt"

	"github.com/c-bata/goptuna"
)

var _ goptuna.Sampler = (*Grid)(nil)

// Grid walks a fixed list of grid points: trial number n gets point
// n mod len(points). The order depends only on the points and trial numbers,
// so workers never pick the same point for different trials nor skip one;
// run as many trials as Size to cover the grid exactly once.
//
// A point maps param names to internal values (category index for
// categoricals). Points of conditional spaces hold only the params that
// exist under their choices. Grid is immutable and safe for concurrent use.
type Grid struct {
	points []map[string]float64
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
func (g *Grid) Sample(_ *goptuna.Study, trial goptuna.FrozenTrial, name string, dist any) (float64, error) {
	i := trial.Number % len(g.points)
	if i < 0 {
		i += len(g.points)
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

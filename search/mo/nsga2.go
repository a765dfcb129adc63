package mo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
)

var _ goptuna.Sampler = (*NSGA2)(nil)

// generationAttr is the trial system attr holding a trial's NSGA-II
// generation (Optuna's key).
const generationAttr = "nsga2:generation"

// NSGA2Options configures an NSGA-II sampler. Zero values mean Optuna's
// defaults.
type NSGA2Options struct {
	Seed       uint64
	Directions []Direction // one per objective, in the spec's metric order
	// PopulationSize is how many trials make a generation; default 50.
	PopulationSize int
	// Crossover of float and int params: "uniform" (default, as Optuna)
	// swaps each param between the parents; "sbx" is Deb's simulated
	// binary crossover. Categorical params always use uniform crossover.
	Crossover     string
	CrossoverProb float64 // chance a child comes from crossover rather than one parent; default 0.9
	SwappingProb  float64 // uniform crossover's chance per param of the second parent's value; default 0.5
	// MutationProb is each param's chance of mutation: polynomial for
	// float and int params, a uniform redraw for categorical ones. Default
	// 1 / number of params.
	MutationProb float64
}

// NSGA2 is Deb's NSGA-II as Optuna runs it on a study: trials are grouped
// into generations of PopulationSize COMPLETE trials; the parents of
// generation g are the elite of generation g−1's parents and trials (non-
// domination rank with Optuna's constraint domination, ties in the last
// front broken by crowding distance); each new trial is a child of two
// parents picked by binary tournament, by crossover and mutation. The
// first generation, and params its parents lack, are drawn at random.
//
// It is safe for concurrent use. Each child's randomness comes from a
// stream derived from Seed and the trial number, so the same history gives
// the same child on any worker.
type NSGA2 struct {
	opt    NSGA2Options
	random *sampler.Random

	mu       sync.Mutex
	children map[int]child // by trial ID
	order    []int         // trial IDs in children, oldest first
}

// child is one trial's params as bred from its parents.
type child struct {
	params map[string]float64
	bounds map[string]sampler.Bounds
}

// maxChildren bounds the children kept for trials still asking for params.
const maxChildren = 256

// NewNSGA2 returns an NSGA-II sampler.
func NewNSGA2(opt NSGA2Options) *NSGA2 {
	if opt.PopulationSize == 0 {
		opt.PopulationSize = 50
	}
	if opt.Crossover == "" {
		opt.Crossover = "uniform"
	}
	if opt.CrossoverProb == 0 {
		opt.CrossoverProb = 0.9
	}
	if opt.SwappingProb == 0 {
		opt.SwappingProb = 0.5
	}
	return &NSGA2{opt: opt, random: sampler.NewRandom(sampler.Mix(opt.Seed, sampler.HashString("nsga2/random"))),
		children: map[int]child{}}
}

// Sample implements goptuna.Sampler: the trial's bred value of the param
// when its parents had it with the same distribution, else a random one.
func (s *NSGA2) Sample(study *goptuna.Study, trial goptuna.FrozenTrial, name string, dist any) (float64, error) {
	b, err := sampler.BoundsOf(dist)
	if err != nil {
		return 0, err
	}
	if b.Single() {
		return b.Low, nil
	}
	c, err := s.child(study, trial)
	if err != nil {
		return 0, err
	}
	if v, ok := c.params[name]; ok && c.bounds[name] == b {
		return v, nil
	}
	return s.random.Sample(study, trial, name, dist)
}

// child returns the trial's bred params, breeding them at its first call.
func (s *NSGA2) child(study *goptuna.Study, trial goptuna.FrozenTrial) (child, error) {
	s.mu.Lock()
	c, ok := s.children[trial.ID]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	obs, err := Observe(study, s.opt.Directions)
	if err != nil {
		return child{}, fmt.Errorf("nsga2: %w", err)
	}
	gen := s.generation(obs)
	if err := study.Storage.SetTrialSystemAttr(trial.ID, generationAttr, strconv.Itoa(gen)); err != nil {
		return child{}, fmt.Errorf("nsga2: record generation: %w", err)
	}
	if parents := s.population(obs, gen); len(parents) > 0 {
		c = s.breed(sampler.TrialRand(s.opt.Seed, trial.Number, "nsga2"), parents)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.children[trial.ID] = c
	s.order = append(s.order, trial.ID)
	for len(s.order) > maxChildren {
		delete(s.children, s.order[0])
		s.order = s.order[1:]
	}
	return c, nil
}

// generation is the generation a new trial joins, as Optuna counts: the
// newest generation of a COMPLETE trial, or the next one once that
// generation has PopulationSize COMPLETE trials.
func (s *NSGA2) generation(obs []Observation) int {
	top, count := 0, 0
	for _, o := range obs {
		switch g := max(o.Generation, 0); {
		case g > top:
			top, count = g, 1
		case g == top:
			count++
		}
	}
	if count >= s.opt.PopulationSize {
		return top + 1
	}
	return top
}

// population returns the parents of generation gen: none for generation
// 0, else the elite of generation gen−1's parents and trials.
func (s *NSGA2) population(obs []Observation, gen int) []Observation {
	var parents []Observation
	for g := 1; g <= gen; g++ {
		pool := slices.Clone(parents)
		for _, o := range obs {
			if max(o.Generation, 0) == g-1 {
				pool = append(pool, o)
			}
		}
		parents = Elite(pool, s.opt.PopulationSize)
	}
	return parents
}

// Elite selects size observations: whole non-domination fronts (with
// constraint domination) while they fit, then the members of the next
// front with the largest crowding distance. Ties go to the older trial.
func Elite(pool []Observation, size int) []Observation {
	if len(pool) <= size {
		return pool
	}
	points, violations := losses(pool)
	ranks := Ranks(points, violations)
	var out []Observation
	for r := 0; len(out) < size; r++ {
		var front []int
		for i, rk := range ranks {
			if rk == r {
				front = append(front, i)
			}
		}
		if len(out)+len(front) <= size {
			for _, i := range front {
				out = append(out, pool[i])
			}
			continue
		}
		fp := make([][]float64, len(front))
		for k, i := range front {
			fp[k] = points[i]
		}
		crowd := Crowding(fp)
		order := make([]int, len(front))
		for k := range order {
			order[k] = k
		}
		slices.SortStableFunc(order, func(a, b int) int {
			return cmp.Or(cmp.Compare(crowd[b], crowd[a]), cmp.Compare(pool[front[a]].Number, pool[front[b]].Number))
		})
		for _, k := range order[:size-len(out)] {
			out = append(out, pool[front[k]])
		}
	}
	return out
}

// breed makes one child of two tournament winners by crossover (or copies
// one parent) and mutation.
func (s *NSGA2) breed(rng *rand.Rand, parents []Observation) child {
	p1 := tournament(rng, parents)
	c := child{params: map[string]float64{}, bounds: map[string]sampler.Bounds{}}
	for name, v := range p1.Params {
		c.params[name], c.bounds[name] = v, p1.Bounds[name]
	}
	if rng.Float64() < s.opt.CrossoverProb {
		p2 := tournament(rng, parents)
		for _, name := range sortedKeys(c.params) {
			b := c.bounds[name]
			v2, ok := p2.Params[name]
			if !ok || p2.Bounds[name] != b {
				continue
			}
			switch {
			case b.Categorical() || s.opt.Crossover == "uniform":
				if rng.Float64() < s.opt.SwappingProb {
					c.params[name] = v2
				}
			default:
				c.params[name] = sbx(rng, newSpan(b), c.params[name], v2)
			}
		}
	}
	prob := s.opt.MutationProb
	if prob == 0 {
		prob = 1 / math.Max(1, float64(len(c.params)))
	}
	for _, name := range sortedKeys(c.params) {
		if rng.Float64() >= prob {
			continue
		}
		b := c.bounds[name]
		if b.Categorical() {
			c.params[name] = b.Uniform(rng)
		} else {
			c.params[name] = polynomialMutation(rng, newSpan(b), c.params[name])
		}
	}
	return c
}

// tournament is Optuna's binary tournament: of two parents drawn at
// random, the first when it constraint-dominates the second, else the
// second.
func tournament(rng *rand.Rand, parents []Observation) Observation {
	a, b := parents[rng.IntN(len(parents))], parents[rng.IntN(len(parents))]
	if ConstrainedDominates(a.Losses, b.Losses, a.Violation, b.Violation) {
		return a
	}
	return b
}

// sortedKeys returns m's keys in order, so that draws from a stream do not
// depend on map iteration order.
func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/c-bata/goptuna"
	gtpe "github.com/c-bata/goptuna/tpe"
	"golang.org/x/sync/errgroup"

	"sweep/search"
	"sweep/search/sampler"
	"sweep/search/searchtest"
	"sweep/search/tpe"
)

// Config sizes a benchmark run.
type Config struct {
	Seeds       int   // independent studies per cell (30)
	Checkpoints []int // trial counts at which regret is read (25, 50, 100, 200)
	PruneTrials int   // trials per pruning study (100)
	LatencyAt   []int // history sizes for suggest latency (100, 1000, 5000)
	LatencyReps int   // suggestions timed per cell
	Parallel    int   // studies run at once; 0 = GOMAXPROCS
	// Optunas are the Optuna installations compared with (each skipped with
	// a notice when its interpreter cannot import optuna).
	Optunas []OptunaEnv
	// OptunaCache keeps Optuna's study results between runs (see
	// Optuna.Cache); "" reruns them.
	OptunaCache string
	// OptunaLatencyMax is the largest history size Optuna's latency is
	// measured at (its suggestions take up to seconds beyond).
	OptunaLatencyMax int
	// Command is the command line the report names as its source.
	Command string
	// WideSeeds, when above Seeds, reruns sweep's default and the newest
	// Optuna on that many seeds at 100 trials: at 31 seeds a per-problem
	// comparison of two samplers that run much the same algorithm is close
	// to a coin flip, and the wider run shows which differences are real.
	WideSeeds int
}

// DefaultConfig is what `make bench-search` runs.
func DefaultConfig() Config {
	return Config{Seeds: 31, Checkpoints: []int{25, 50, 100}, PruneTrials: 100,
		LatencyAt: []int{100, 1000, 5000}, LatencyReps: 30,
		Optunas: []OptunaEnv{{Python: "python3"}}, OptunaLatencyMax: 1000, WideSeeds: 155}
}

// Stat is a median with its interquartile range.
type Stat struct{ Median, Q1, Q3 float64 }

func stat(xs []float64) Stat {
	s := slices.Clone(xs)
	slices.Sort(s)
	q := func(p float64) float64 {
		pos := p * float64(len(s)-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, len(s)-1)
		return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
	}
	return Stat{q(0.5), q(0.25), q(0.75)}
}

// RegretResult holds one problem's regret statistics: Stats[method][checkpoint].
type RegretResult struct {
	Problem string
	Methods []string
	Stats   [][]Stat
}

// PruneResult is one pruner's outcome on the surrogate.
type PruneResult struct {
	Pruner       string
	Epochs       Stat // epochs consumed by the study
	Regret       Stat // best final error among completed trials minus the optimum
	PrunedTrials Stat
	BudgetRegret Stat // best final error within PruneBudget epochs minus the optimum
}

// LatencyResult is the median time of one full 8-param suggestion.
type LatencyResult struct {
	Method string
	Trials int
	Median time.Duration
}

// WideResult is one problem's regret at 100 trials on Config.WideSeeds
// seeds, per seed, for sweep's default sampler and the newest Optuna.
type WideResult struct {
	Problem      string
	Ours, Optuna []float64
}

// Results is everything a run measured.
type Results struct {
	Config  Config
	Regret  []RegretResult
	Prune   []PruneResult
	Latency []LatencyResult
	// Wide compares sweep's default with WideOptuna (the newest Optuna
	// found) on Config.WideSeeds seeds; empty when either is missing.
	Wide       []WideResult
	WideOptuna string
	Elapsed    time.Duration
	Notes      []string // what was skipped and why
	// Load is /proc/loadavg's 1-, 5- and 15-minute averages when the run
	// began ("" where unreadable): the latency table means little on a
	// busy machine, and the report says how busy this one was.
	Load string
}

// Problems returns the benchmark problems.
func Problems() []Problem {
	return []Problem{Branin(), Hartmann6(), LogRosenbrock5(), Mixed(), Surrogate(),
		Rastrigin4(), Ackley5(), StyblinskiTang4(), Levy6(), MixedCat()}
}

// Run executes the whole benchmark.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	start := time.Now()
	if cfg.Parallel == 0 {
		cfg.Parallel = runtime.GOMAXPROCS(0)
	}
	res := &Results{Config: cfg, Load: loadAverage()}
	optunas, skipped, closeOptunas, err := openOptunas(ctx, cfg.Optunas, cfg.OptunaCache)
	if err != nil {
		return nil, err
	}
	defer closeOptunas()
	for _, err := range skipped {
		res.Notes = append(res.Notes, fmt.Sprintf("Optuna skipped: %v", err))
	}
	// The wide run goes first: its Optuna studies (seeds 0..WideSeeds-1)
	// then serve the tables' first Seeds seeds without a second run.
	if newest := newestOptuna(optunas); newest != nil && cfg.WideSeeds > cfg.Seeds {
		if res.Wide, err = runWide(ctx, cfg, newest); err != nil {
			return nil, err
		}
		res.WideOptuna = newest.Name()
	}
	if res.Regret, err = runRegret(ctx, cfg, optunas); err != nil {
		return nil, err
	}
	if res.Prune, err = runPrune(ctx, cfg); err != nil {
		return nil, err
	}
	if res.Latency, err = runLatency(ctx, cfg, optunas); err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func runRegret(ctx context.Context, cfg Config, optunas []*Optuna) ([]RegretResult, error) {
	probs, methods := Problems(), Methods()
	n := slices.Max(cfg.Checkpoints)
	// regret[p][m][seed][checkpoint]; Optunas' rows follow ours.
	regret := make([][][][]float64, len(probs))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Parallel)
	for pi, p := range probs {
		regret[pi] = make([][][]float64, len(methods)+len(optunas))
		for oi, o := range optunas {
			g.Go(func() error {
				vals, err := o.Study(ctx, p.Key, cfg.Seeds, n)
				if err != nil {
					return fmt.Errorf("%s / %s: %w", p.Name, o.Name(), err)
				}
				rows := make([][]float64, cfg.Seeds)
				for s, v := range vals {
					rows[s] = bestSoFar(v, nil, cfg.Checkpoints)
					for i := range rows[s] {
						rows[s][i] -= p.Optimum
					}
				}
				regret[pi][len(methods)+oi] = rows
				return nil
			})
		}
		for mi, m := range methods {
			regret[pi][mi] = make([][]float64, cfg.Seeds)
			for s := range cfg.Seeds {
				g.Go(func() error {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					vals, err := RunStudy(p, m, sampler.Mix(uint64(s+m.SeedOffset), 0x5eed), n)
					if err != nil {
						return fmt.Errorf("%s / %s / seed %d: %w", p.Name, m.Name, s, err)
					}
					best := bestSoFar(vals, nil, cfg.Checkpoints)
					for i := range best {
						best[i] -= p.Optimum
					}
					regret[pi][mi][s] = best
					return nil
				})
			}
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []RegretResult
	for pi, p := range probs {
		r := RegretResult{Problem: p.Name}
		names := make([]string, 0, len(regret[pi]))
		for _, m := range methods {
			names = append(names, m.Name)
		}
		for _, o := range optunas {
			names = append(names, o.Name())
		}
		for mi, name := range names {
			r.Methods = append(r.Methods, name)
			var row []Stat
			for c := range cfg.Checkpoints {
				xs := make([]float64, cfg.Seeds)
				for s := range xs {
					xs[s] = regret[pi][mi][s][c]
				}
				row = append(row, stat(xs))
			}
			r.Stats = append(r.Stats, row)
		}
		out = append(out, r)
	}
	return out, nil
}

// openOptunas writes the script into a temporary folder and asks each env
// for its Optuna (with the given cache); an env without an importable
// Optuna is left out and its error returned among skipped. close removes
// the folder.
func openOptunas(ctx context.Context, envs []OptunaEnv, cache string) (optunas []*Optuna, skipped []error, close func(), err error) {
	dir, err := os.MkdirTemp("", "benchsearch")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("create temp dir: %w", err)
	}
	close = func() { os.RemoveAll(dir) }
	for _, env := range envs {
		o, err := NewOptuna(ctx, env, dir)
		if errors.Is(err, ErrNoOptuna) {
			skipped = append(skipped, err)
			continue
		}
		if err != nil {
			close()
			return nil, nil, nil, err
		}
		o.Cache = cache
		optunas = append(optunas, o)
	}
	return optunas, skipped, close, nil
}

// newestOptuna returns the Optuna of the highest version (nil for none).
func newestOptuna(optunas []*Optuna) *Optuna {
	if len(optunas) == 0 {
		return nil
	}
	return slices.MaxFunc(optunas, func(a, b *Optuna) int { return cmpVersion(a.Name(), b.Name()) })
}

// runWide runs sweep's default sampler and Optuna o on cfg.WideSeeds seeds
// of every problem for 100 trials; the seeds are those of runRegret, so its
// first cfg.Seeds are the tables' studies.
func runWide(ctx context.Context, cfg Config, o *Optuna) ([]WideResult, error) {
	const n = 100
	probs := Problems()
	ours, err := seedRegret(ctx, cfg.Parallel, cfg.WideSeeds, n, []Method{defaultMethod()}, probs)
	if err != nil {
		return nil, err
	}
	out := make([]WideResult, len(probs))
	for pi, p := range probs {
		theirs, err := optunaRegret(ctx, o, p, cfg.WideSeeds, n)
		if err != nil {
			return nil, err
		}
		out[pi] = WideResult{Problem: p.Name, Ours: ours[0][pi], Optuna: theirs}
	}
	return out, nil
}

// seedRegret runs each method on each problem for seeds 0..seeds-1 (the
// study seeds of runRegret) and returns the regret after n trials,
// [method][problem][seed].
func seedRegret(ctx context.Context, parallel, seeds, n int, ms []Method, probs []Problem) ([][][]float64, error) {
	regret := make([][][]float64, len(ms))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for mi, m := range ms {
		regret[mi] = make([][]float64, len(probs))
		for pi, p := range probs {
			regret[mi][pi] = make([]float64, seeds)
			for s := range seeds {
				g.Go(func() error {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					vals, err := RunStudy(p, m, sampler.Mix(uint64(s), 0x5eed), n)
					if err != nil {
						return fmt.Errorf("%s / %s / seed %d: %w", p.Name, m.Name, s, err)
					}
					regret[mi][pi][s] = slices.Min(vals) - p.Optimum
					return nil
				})
			}
		}
	}
	return regret, g.Wait()
}

// optunaRegret returns Optuna o's regret after n trials on p for seeds
// 0..seeds-1.
func optunaRegret(ctx context.Context, o *Optuna, p Problem, seeds, n int) ([]float64, error) {
	vals, err := o.Study(ctx, p.Key, seeds, n)
	if err != nil {
		return nil, fmt.Errorf("%s / %s: %w", p.Name, o.Name(), err)
	}
	regret := make([]float64, len(vals))
	for s, v := range vals {
		if len(v) < n {
			return nil, fmt.Errorf("%s / %s: seed %d has %d trials, want %d", p.Name, o.Name(), s, len(v), n)
		}
		regret[s] = slices.Min(v[:n]) - p.Optimum
	}
	return regret, nil
}

// Pruners returns the compared pruning rules, configured for the
// surrogate's 27 epochs.
func Pruners() []search.PrunerSpec {
	return []search.PrunerSpec{
		{Type: "none"},
		{Type: "median"},
		{Type: "asha", MinResource: 1, ReductionFactor: 3},
		{Type: "hyperband", MinResource: 1, MaxResource: Epochs, ReductionFactor: 3},
	}
}

func runPrune(ctx context.Context, cfg Config) ([]PruneResult, error) {
	specs := Pruners()
	type out struct{ epochs, regret, pruned, budgetRegret float64 }
	res := make([][]out, len(specs))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Parallel)
	sur := Surrogate()
	m := defaultMethod()
	for i, spec := range specs {
		res[i] = make([]out, cfg.Seeds)
		for s := range cfg.Seeds {
			g.Go(func() error {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				pr, err := search.NewPruner(spec)
				if err != nil {
					return err
				}
				ps, err := pruneStudy(sur, m, pr, sampler.Mix(uint64(s), 0xbeef), cfg.PruneTrials)
				if err != nil {
					return fmt.Errorf("pruner %s seed %d: %w", spec.Type, s, err)
				}
				res[i][s] = out{float64(ps.epochs), ps.best - sur.Optimum, float64(ps.pruned), ps.bestWithin(PruneBudget) - sur.Optimum}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var results []PruneResult
	for i, spec := range specs {
		var e, r, p, b []float64
		for _, o := range res[i] {
			e, r, p, b = append(e, o.epochs), append(r, o.regret), append(p, o.pruned), append(b, o.budgetRegret)
		}
		results = append(results, PruneResult{Pruner: spec.Type, Epochs: stat(e), Regret: stat(r), PrunedTrials: stat(p), BudgetRegret: stat(b)})
	}
	return results, nil
}

// PruneBudget is the epoch budget of the equal-budget pruning comparison.
const PruneBudget = 600

// pruneOutcome is one pruning study: per trial (in number order) its final
// value, state and the study's cumulative epochs when it ended.
type pruneOutcome struct {
	epochs, pruned int
	best           float64
	vals           []float64
	states         []goptuna.TrialState
	epochsAt       []int
}

// bestWithin returns the best completed value among trials that ended
// within budget epochs (trials run one at a time, so in number order).
func (o pruneOutcome) bestWithin(budget int) float64 {
	best := math.Inf(1)
	for i, v := range o.vals {
		if o.epochsAt[i] > budget {
			break
		}
		if o.states[i] == goptuna.TrialStateComplete {
			best = math.Min(best, v)
		}
	}
	return best
}

// pruneStudy runs the surrogate epoch by epoch, asking the pruner after
// every report.
func pruneStudy(p Problem, m Method, pr goptuna.Pruner, seed uint64, n int) (pruneOutcome, error) {
	o := pruneOutcome{epochsAt: make([]int, n)}
	run := func(study *goptuna.Study, id int, params map[string]float64) (float64, goptuna.TrialState, error) {
		defer func() { o.epochsAt[id] = o.epochs }()
		var v float64
		for e := 1; e <= Epochs; e++ {
			v = SurrogateCurve(params, e)
			o.epochs++
			if err := study.Storage.SetTrialIntermediateValue(id, e, v); err != nil {
				return 0, 0, err
			}
			if pr == nil {
				continue
			}
			t, err := study.Storage.GetTrial(id)
			if err != nil {
				return 0, 0, err
			}
			stop, err := pr.Prune(study, t)
			if err != nil {
				return 0, 0, err
			}
			if stop {
				return v, goptuna.TrialStatePruned, nil
			}
		}
		return v, goptuna.TrialStateComplete, nil
	}
	var err error
	if o.vals, o.states, err = runTrials(p, m, pr, seed, n, run); err != nil {
		return o, err
	}
	o.best = math.Inf(1)
	for i, v := range o.vals {
		if o.states[i] == goptuna.TrialStateComplete {
			o.best = math.Min(o.best, v)
		} else {
			o.pruned++
		}
	}
	return o, nil
}

// runLatency times full 8-param suggestions. All cells' studies are built
// first and the timed suggestions are interleaved across cells, so a burst of
// load from other processes hits every cell alike.
func runLatency(ctx context.Context, cfg Config, optunas []*Optuna) ([]LatencyResult, error) {
	cands := []struct {
		name string
		new  func() goptuna.Sampler
	}{
		{"ours univariate", func() goptuna.Sampler { return tpe.New(tpe.Options{Seed: 1}) }},
		{"ours multivariate", func() goptuna.Sampler { return tpe.New(tpe.Options{Seed: 1, Multivariate: true, ConstantLiar: true}) }},
		{"goptuna TPE", func() goptuna.Sampler { return gtpe.NewSampler(gtpe.SamplerOptionSeed(1)) }},
	}
	type cell struct {
		res   LatencyResult
		s     goptuna.Sampler
		study *goptuna.Study
		times []float64
	}
	var cells []*cell
	for _, n := range cfg.LatencyAt {
		for _, c := range cands {
			s := c.new()
			study, err := searchtest.NewStudyErr(goptuna.NewInMemoryStorage(), goptuna.StudyDirectionMinimize, s, nil, nil)
			if err != nil {
				return nil, err
			}
			if err := searchtest.FillHistory(study, n, 1); err != nil {
				return nil, err
			}
			cells = append(cells, &cell{res: LatencyResult{Method: c.name, Trials: n}, s: s, study: study})
		}
	}
	for r := range cfg.LatencyReps {
		for _, c := range cells {
			n := c.res.Trials
			tr := goptuna.FrozenTrial{ID: n + 1 + r, Number: n + 1 + r}
			t0 := time.Now()
			for _, name := range searchtest.EightNames {
				if _, err := c.s.Sample(c.study, tr, name, searchtest.EightSpace[name]); err != nil {
					return nil, err
				}
			}
			c.times = append(c.times, float64(time.Since(t0)))
		}
	}
	var out []LatencyResult
	for _, c := range cells {
		c.res.Median = time.Duration(stat(c.times).Median)
		out = append(out, c.res)
	}
	// Optuna's suggestions are timed inside its own process (Python cannot
	// share ours), right after ours, on the same space and history sizes.
	for _, o := range optunas {
		for _, n := range cfg.LatencyAt {
			if n > cfg.OptunaLatencyMax {
				continue
			}
			d, err := o.Latency(ctx, n, cfg.LatencyReps)
			if err != nil {
				return nil, fmt.Errorf("%s latency: %w", o.Name(), err)
			}
			out = append(out, LatencyResult{Method: o.Name(), Trials: n, Median: d})
		}
	}
	return out, nil
}

// loadAverage returns the first three fields of /proc/loadavg, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

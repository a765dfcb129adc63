package objective

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"sweep/search/mo"
)

// SyntheticConfig configures objective `synthetic`, a stand-in for training
// that makes every orchestration path (sampling, pruning, failure, many
// workers) testable in milliseconds. Keys are the spec's objective options.
type SyntheticConfig struct {
	Epochs       int     `yaml:"epochs"`        // report steps per trial; default 10
	EpochSeconds float64 `yaml:"epoch_seconds"` // wall time slept per epoch; default 0
	Noise        float64 `yaml:"noise"`         // std of the per-epoch noise; default 0.01
	FailRate     float64 `yaml:"fail_rate"`     // fraction of trials that fail half way; default 0
	Seed         int64   `yaml:"seed"`          // mixed into the noise; default 0
	// Function, when set, makes the run a multi-objective test problem
	// instead of a learning curve: zdt1, zdt2 (metrics f1, f2) or dtlz2
	// (f1, f2, f3), all minimized, over the numeric params in name order
	// scaled to [0, 1] (see MultiObjective).
	Function string `yaml:"function"`
}

// DefaultSyntheticConfig returns the defaults used for absent options.
func DefaultSyntheticConfig() SyntheticConfig {
	return SyntheticConfig{Epochs: 10, Noise: 0.01}
}

// Validate reports the first out-of-range setting.
func (c SyntheticConfig) Validate() error {
	switch {
	case c.Epochs < 1 || c.Epochs > 100_000:
		return fmt.Errorf("epochs must be between 1 and 100000 (got %d)", c.Epochs)
	case c.EpochSeconds < 0 || c.EpochSeconds > 3600:
		return fmt.Errorf("epoch_seconds must be between 0 and 3600 (got %g)", c.EpochSeconds)
	case c.Noise < 0 || c.Noise > 1:
		return fmt.Errorf("noise must be between 0 and 1 (got %g)", c.Noise)
	case c.FailRate < 0 || c.FailRate > 1:
		return fmt.Errorf("fail_rate must be between 0 and 1 (got %g)", c.FailRate)
	case c.Function != "" && syntheticProblem(c.Function, 3).Eval == nil:
		return fmt.Errorf("function must be zdt1, zdt2 or dtlz2 (got %q)", c.Function)
	}
	return nil
}

// SyntheticParam tells the synthetic landscape a param's range, so it can
// place each param's optimum inside it. Numeric params give Low/High (and
// Log); categorical ones give Choices in their string form.
type SyntheticParam struct {
	Name      string
	Low, High float64
	Log       bool
	Choices   []string
}

// Synthetic is objective `synthetic`: a deterministic function of the params
// that produces a noisy, saturating learning curve of an accuracy-like
// metric in [0, 1] (use direction: maximize).
//
// The landscape: every numeric param has an optimum at a fixed, name-derived
// point of its range (a learning rate — a log param named lr or
// learning_rate — peaks at 0.03 and weighs three times as much), and every
// categorical param has a best choice with the others 10-70% worse. The
// weighted score q ∈ [0, 1] sets both the final accuracy (0.1 + 0.85·q) and
// how fast the curve gets there, so good configurations also converge
// faster, which is what pruners bet on. Noise is seeded from the params, the
// trial number and Seed: reruns reproduce exactly.
//
// Synthetic is safe for concurrent use.
type Synthetic struct {
	cfg     SyntheticConfig
	space   map[string]SyntheticParam
	numeric []string   // numeric params in name order: the test problem's variables
	problem mo.Problem // with Function
}

// NewSynthetic returns the objective for cfg over the given search space.
func NewSynthetic(cfg SyntheticConfig, space []SyntheticParam) (*Synthetic, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("synthetic: %w", err)
	}
	s := &Synthetic{cfg: cfg, space: make(map[string]SyntheticParam, len(space))}
	for _, p := range space {
		s.space[p.Name] = p
		if len(p.Choices) == 0 && p.High > p.Low {
			s.numeric = append(s.numeric, p.Name)
		}
	}
	sort.Strings(s.numeric)
	if cfg.Function != "" {
		s.problem = syntheticProblem(cfg.Function, len(s.numeric))
		if len(s.numeric) < s.problem.Objectives {
			return nil, fmt.Errorf("synthetic: function %s needs at least %d numeric params (got %d)", cfg.Function, s.problem.Objectives, len(s.numeric))
		}
	}
	return s, nil
}

// ErrSimulatedFailure is returned by the synthetic objective for the
// fraction of trials that fail_rate selects.
var ErrSimulatedFailure = errors.New("synthetic: simulated failure")

// Steps implements StepCounter: every trial reports Epochs steps.
func (s *Synthetic) Steps(Params) int { return s.cfg.Epochs }

// Run reports one value per epoch (steps 1..Epochs), sleeping EpochSeconds
// before each, and returns the last. It stops with ErrPruned (wrapped) when
// the Reporter says so and with ctx's error when ctx ends.
func (s *Synthetic) Run(ctx context.Context, params Params, r Reporter) (Result, error) {
	number := 0 // the trial number seeds the noise; 0 without a TrialIdentifier
	if id, ok := r.(TrialIdentifier); ok {
		_, number = id.TrialID()
	}
	key := synthKey(params)
	rng := rand.New(rand.NewPCG(synthHash(key), uint64(s.cfg.Seed)^uint64(number)*0x9e3779b97f4a7c15))
	if s.cfg.Function != "" {
		return s.runProblem(ctx, params, r)
	}
	q := s.Quality(params)
	failAt := 0
	if rng.Float64() < s.cfg.FailRate {
		failAt = max(1, s.cfg.Epochs/2)
	}
	var v float64
	for e := 1; e <= s.cfg.Epochs; e++ {
		if err := synthSleep(ctx, time.Duration(s.cfg.EpochSeconds*float64(time.Second))); err != nil {
			return Result{}, err
		}
		if e == failAt {
			return Result{}, fmt.Errorf("%w at epoch %d", ErrSimulatedFailure, e)
		}
		v = math.Min(1, math.Max(0, s.curve(q, e)+s.cfg.Noise*rng.NormFloat64()))
		if m, ok := r.(MetricsRecorder); ok {
			if err := m.RecordMetrics(e, map[string]float64{"val_loss": -math.Log(math.Max(v, 1e-6))}); err != nil {
				return Result{}, fmt.Errorf("record metrics: %w", err)
			}
		}
		prune, err := r.Report(e, v)
		if err != nil {
			return Result{}, fmt.Errorf("report epoch %d: %w", e, err)
		}
		if prune {
			return Result{Value: v}, fmt.Errorf("%w at epoch %d", ErrPruned, e)
		}
	}
	return Result{Value: v, Attrs: map[string]string{"synthetic_quality": strconv.FormatFloat(q, 'f', 4, 64)}}, nil
}

// curve is the noise-free metric after epoch e of Epochs for score q: it
// starts near chance (0.1) and saturates at 0.1 + 0.85·q with a time
// constant from 10% (q = 1) to 50% (q = 0) of the run.
func (s *Synthetic) curve(q float64, e int) float64 {
	final := 0.1 + 0.85*q
	tau := float64(s.cfg.Epochs) * (0.1 + 0.4*(1-q))
	return 0.1 + (final-0.1)*(1-math.Exp(-float64(e)/tau))
}

// Quality returns the noise-free score q ∈ [0, 1] of params; the final
// metric tends to 0.1 + 0.85·q. Params outside the space are ignored.
func (s *Synthetic) Quality(params Params) float64 {
	var sum, weights float64
	for name, v := range params {
		p, ok := s.space[name]
		if !ok {
			continue
		}
		score, w := p.score(v)
		sum += w * score
		weights += w
	}
	if weights == 0 {
		return 0.5
	}
	return sum / weights
}

// score returns one param's contribution in [0, 1] and its weight.
func (p SyntheticParam) score(v any) (score, weight float64) {
	if len(p.Choices) > 0 {
		best := 0.0
		for _, c := range p.Choices {
			best = math.Max(best, synthUnit(p.Name+"="+c))
		}
		mine := synthUnit(p.Name + "=" + fmt.Sprint(v))
		return 0.3 + 0.7*math.Pow(mine/best, 3), 1
	}
	x, ok := synthFloat(v)
	if !ok || p.High <= p.Low {
		return 0.5, 1
	}
	u, target, width, weight := 0.0, 0.2+0.6*synthUnit(p.Name), 0.2, 1.0
	if p.Log && p.Low > 0 && x > 0 {
		span := math.Log(p.High) - math.Log(p.Low)
		u = (math.Log(x) - math.Log(p.Low)) / span
		if n := strings.ToLower(p.Name); n == "lr" || strings.Contains(n, "learning_rate") {
			target = math.Min(0.95, math.Max(0.05, (math.Log(0.03)-math.Log(p.Low))/span))
			width, weight = 1/span, 3 // one e-fold either side
		}
	} else {
		u = (x - p.Low) / (p.High - p.Low)
	}
	return math.Exp(-(u - target) * (u - target) / (2 * width * width)), weight
}

// synthFloat converts a numeric param value.
func synthFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// synthKey renders params in sorted key order, the seed of their noise.
func synthKey(p Params) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v;", k, p[k])
	}
	return b.String()
}

// synthHash is FNV-1a of s.
func synthHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// synthUnit maps s to a fixed pseudo-random number in [0, 1).
func synthUnit(s string) float64 {
	return float64(synthHash(s)>>11) / (1 << 53)
}

// synthSleep waits d or until ctx ends.
func synthSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// syntheticProblem returns the named test problem over dims variables; a
// zero Problem (nil Eval) for an unknown name.
func syntheticProblem(name string, dims int) mo.Problem {
	switch name {
	case "zdt1":
		return mo.ZDT1(dims)
	case "zdt2":
		return mo.ZDT2(dims)
	case "dtlz2":
		return mo.DTLZ2(dims)
	}
	return mo.Problem{}
}

// MultiObjective evaluates Function at params: the numeric params, in name
// order, scaled to [0, 1] over their ranges (log params on the log scale);
// a missing one counts as 0.5. It returns the metrics f1, f2 (and f3).
func (s *Synthetic) MultiObjective(params Params) map[string]float64 {
	x := make([]float64, len(s.numeric))
	for i, name := range s.numeric {
		p, u := s.space[name], 0.5
		if v, ok := synthFloat(params[name]); ok {
			if p.Log && p.Low > 0 && v > 0 {
				u = (math.Log(v) - math.Log(p.Low)) / (math.Log(p.High) - math.Log(p.Low))
			} else {
				u = (v - p.Low) / (p.High - p.Low)
			}
		}
		x[i] = math.Min(1, math.Max(0, u))
	}
	f := s.problem.Eval(x)
	out := make(map[string]float64, len(f))
	for i, v := range f {
		out[fmt.Sprintf("f%d", i+1)] = v
	}
	return out
}

// runProblem is Run for a test problem: each epoch reports f1 (so pruning
// on f1 works) and the result carries every objective as a metric.
func (s *Synthetic) runProblem(ctx context.Context, params Params, r Reporter) (Result, error) {
	f := s.MultiObjective(params)
	for e := 1; e <= s.cfg.Epochs; e++ {
		if err := synthSleep(ctx, time.Duration(s.cfg.EpochSeconds*float64(time.Second))); err != nil {
			return Result{}, err
		}
		prune, err := r.Report(e, f["f1"])
		if err != nil {
			return Result{}, fmt.Errorf("report epoch %d: %w", e, err)
		}
		if prune {
			return Result{Value: f["f1"]}, fmt.Errorf("%w at epoch %d", ErrPruned, e)
		}
	}
	return Result{Value: f["f1"], Metrics: f}, nil
}

package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/c-bata/goptuna"
	"golang.org/x/sync/errgroup"

	"sweep/search/mo"
	"sweep/search/sampler"
	"sweep/search/searchtest"
)

// MOConfig sizes the multi-objective benchmark.
type MOConfig struct {
	Seeds       int   // independent studies per cell (30)
	Checkpoints []int // trial counts at which hypervolume is read (100, 300)
	Dims        int   // variables of every problem (6)
	Parallel    int   // studies run at once; 0 = GOMAXPROCS
}

// DefaultMOConfig is what `make bench-search-mo` runs.
func DefaultMOConfig() MOConfig {
	return MOConfig{Seeds: 30, Checkpoints: []int{100, 300}, Dims: 6}
}

// MOMethod is a multi-objective sampler under test.
type MOMethod struct {
	Name string
	New  func(seed uint64, dirs []mo.Direction) goptuna.Sampler
}

// MOMethods are random search, NSGA-II (Optuna's population 50, and 20)
// and MOTPE with Optuna's defaults.
func MOMethods() []MOMethod {
	return []MOMethod{
		{"random", func(seed uint64, _ []mo.Direction) goptuna.Sampler { return sampler.NewRandom(seed) }},
		{"NSGA-II (pop 50)", func(seed uint64, d []mo.Direction) goptuna.Sampler {
			return mo.NewNSGA2(mo.NSGA2Options{Seed: seed, Directions: d})
		}},
		{"NSGA-II (pop 20, SBX)", func(seed uint64, d []mo.Direction) goptuna.Sampler {
			return mo.NewNSGA2(mo.NSGA2Options{Seed: seed, Directions: d, PopulationSize: 20, Crossover: "sbx"})
		}},
		{"MOTPE", func(seed uint64, d []mo.Direction) goptuna.Sampler {
			return mo.NewMOTPE(mo.MOTPEOptions{Seed: seed, Directions: d})
		}},
	}
}

// MOResult holds one problem's hypervolume statistics:
// Stats[method][checkpoint].
type MOResult struct {
	Problem mo.Problem
	Methods []string
	Stats   [][]Stat
}

// MOResults is everything a multi-objective run measured.
type MOResults struct {
	Config  MOConfig
	Results []MOResult
	Elapsed time.Duration
}

// RunMO runs every method on ZDT1, ZDT2 and DTLZ2 for Seeds studies of
// the last checkpoint's trials each, reading the hypervolume of the
// values found so far at each checkpoint.
func RunMO(ctx context.Context, cfg MOConfig) (*MOResults, error) {
	start := time.Now()
	if cfg.Parallel == 0 {
		cfg.Parallel = runtime.GOMAXPROCS(0)
	}
	methods := MOMethods()
	out := &MOResults{Config: cfg}
	for _, p := range mo.Problems(cfg.Dims) {
		hv := make([][][]float64, len(methods)) // [method][checkpoint][seed]
		for m := range methods {
			hv[m] = make([][]float64, len(cfg.Checkpoints))
			for c := range hv[m] {
				hv[m][c] = make([]float64, cfg.Seeds)
			}
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(cfg.Parallel)
		for m, method := range methods {
			for seed := range cfg.Seeds {
				g.Go(func() error {
					got, err := runMOStudy(gctx, p, method, uint64(seed+1), cfg.Checkpoints)
					for c, v := range got {
						hv[m][c][seed] = v
					}
					return err
				})
			}
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		r := MOResult{Problem: p}
		for m, method := range methods {
			r.Methods = append(r.Methods, method.Name)
			row := make([]Stat, len(cfg.Checkpoints))
			for c := range row {
				row[c] = stat(hv[m][c])
			}
			r.Stats = append(r.Stats, row)
		}
		out.Results = append(out.Results, r)
	}
	out.Elapsed = time.Since(start)
	return out, nil
}

// runMOStudy optimises p with one method and seed in memory and returns
// the hypervolume after each checkpoint.
func runMOStudy(ctx context.Context, p mo.Problem, method MOMethod, seed uint64, checkpoints []int) ([]float64, error) {
	dirs := make([]mo.Direction, p.Objectives)
	study, err := searchtest.NewStudyErr(goptuna.NewInMemoryStorage(), goptuna.StudyDirectionMinimize, method.New(seed, dirs), nil, nil)
	if err != nil {
		return nil, err
	}
	names := make([]string, p.Dims)
	space := make(map[string]any, p.Dims)
	for i := range names {
		names[i] = fmt.Sprintf("x%d", i)
		space[names[i]] = goptuna.UniformDistribution{Low: 0, High: 1}
	}
	var points [][]float64
	var out []float64
	for n := 1; n <= checkpoints[len(checkpoints)-1]; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		id, vals, err := searchtest.Suggest(study, names, space)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", p.Name, method.Name, err)
		}
		x := make([]float64, p.Dims)
		for i, name := range names {
			x[i] = vals[name]
		}
		f := p.Eval(x)
		points = append(points, f)
		if err := study.Storage.SetTrialSystemAttr(id, mo.ValuesAttr, mo.FormatValues(f)); err != nil {
			return nil, err
		}
		if err := searchtest.Finish(study, id, f[0], goptuna.TrialStateComplete); err != nil {
			return nil, err
		}
		for _, c := range checkpoints {
			if c == n {
				out = append(out, mo.Hypervolume(points, p.Ref))
			}
		}
	}
	return out, nil
}

// MOSectionStart and MOSectionEnd delimit the multi-objective section of
// docs/search-benchmarks.md, which `make bench-search-mo` replaces (or
// appends) without touching the rest of the file.
const (
	MOSectionStart = "<!-- bench-search-mo:start -->"
	MOSectionEnd   = "<!-- bench-search-mo:end -->"
)

// SpliceMO returns doc with its multi-objective section (between
// MOSectionStart and MOSectionEnd) replaced by section, or with section
// appended after a blank line when doc has none.
func SpliceMO(doc, section string) string {
	i := strings.Index(doc, MOSectionStart)
	j := strings.Index(doc, MOSectionEnd)
	if i < 0 || j < i {
		if doc != "" && !strings.HasSuffix(doc, "\n\n") {
			doc = strings.TrimRight(doc, "\n") + "\n\n"
		}
		return doc + section
	}
	return doc[:i] + section + strings.TrimPrefix(doc[j+len(MOSectionEnd):], "\n")
}

// MOSection returns doc's multi-objective section, markers and final
// newline included, or "" when doc has none: what `make bench-search`
// carries over when it rewrites the single-objective report.
func MOSection(doc string) string {
	i := strings.Index(doc, MOSectionStart)
	j := strings.Index(doc, MOSectionEnd)
	if i < 0 || j < i {
		return ""
	}
	return doc[i:j+len(MOSectionEnd)] + "\n"
}

// WriteMarkdown writes the multi-objective section, markers included.
func (r *MOResults) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	b.WriteString(MOSectionStart + "\n## Multi-objective: hypervolume\n\n")
	fmt.Fprintf(&b, "Generated by `make bench-search-mo` (`go run ./search/bench/cmd/benchmo`, package `sweep/search/bench`, mo.go) "+
		"in %s on %d CPUs (%s/%s, %d studies in parallel), in memory.\n\n", r.Elapsed.Round(time.Second), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, c.Parallel)
	fmt.Fprintf(&b, "Problems over x ∈ [0, 1]^%d, all objectives minimised: **ZDT1** (convex front) and **ZDT2** (concave front), "+
		"two objectives, reference point (1.1, 1.1); **DTLZ2**, three objectives (spherical front), reference point (1.1, 1.1, 1.1). "+
		"Hypervolume (exact) of all values found in the first n trials; median [Q1–Q3] over %d seeds, higher is better, "+
		"**bold** the best median per column. Methods: sweep's seeded **random** sampler; **NSGA-II** (search/mo) with Optuna's "+
		"defaults (population 50, uniform crossover, crossover probability 0.9) and with population 20 and SBX; **MOTPE** "+
		"(search/mo) with Optuna's defaults (10 start-up trials, 24 candidates, γ(n) = min(⌈0.1 n⌉, 25)). "+
		"Values are deterministic for the seeds; machine load changes only the run time. "+
		"A 0 means no trial dominated the reference point yet.\n\n", c.Dims, c.Seeds)
	for _, res := range r.Results {
		fmt.Fprintf(&b, "### %s (%d objectives)\n\n| method |", strings.ToUpper(res.Problem.Name), res.Problem.Objectives)
		for _, cp := range c.Checkpoints {
			fmt.Fprintf(&b, " %d trials |", cp)
		}
		b.WriteString("\n|---|")
		b.WriteString(strings.Repeat("---:|", len(c.Checkpoints)))
		b.WriteString("\n")
		best := make([]int, len(c.Checkpoints)) // -1: no single best median
		for cp := range c.Checkpoints {
			for m := range res.Stats {
				if res.Stats[m][cp].Median > res.Stats[best[cp]][cp].Median {
					best[cp] = m
				}
			}
			for m := range res.Stats {
				if m != best[cp] && res.Stats[m][cp].Median == res.Stats[best[cp]][cp].Median {
					best[cp] = -1
					break
				}
			}
		}
		for m, name := range res.Methods {
			fmt.Fprintf(&b, "| %s |", name)
			for cp := range c.Checkpoints {
				s := res.Stats[m][cp]
				cell := fmt.Sprintf("%.4f [%.4f–%.4f]", s.Median, s.Q1, s.Q3)
				if best[cp] == m {
					cell = "**" + cell + "**"
				}
				fmt.Fprintf(&b, " %s |", cell)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(MOSectionEnd + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

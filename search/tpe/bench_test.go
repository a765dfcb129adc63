package tpe_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/c-bata/goptuna"
	gtpe "github.com/c-bata/goptuna/tpe"

	"sweep/search/searchtest"
	"sweep/search/tpe"
)

// eightParams is the latency benchmark's space: floats, log floats, ints and
// categoricals, as a typical training study has.
var eightNames = []string{"lr", "wd", "momentum", "dropout", "width", "depth", "opt", "sched"}

var eightSpace = map[string]any{
	"lr":       goptuna.LogUniformDistribution{Low: 1e-5, High: 1},
	"wd":       goptuna.LogUniformDistribution{Low: 1e-6, High: 1e-2},
	"momentum": goptuna.UniformDistribution{Low: 0.5, High: 0.99},
	"dropout":  goptuna.UniformDistribution{Low: 0, High: 0.5},
	"width":    goptuna.StepIntUniformDistribution{Low: 16, High: 256, Step: 16},
	"depth":    goptuna.IntUniformDistribution{Low: 1, High: 8},
	"opt":      goptuna.CategoricalDistribution{Choices: []string{"sgd", "adamw", "lamb"}},
	"sched":    goptuna.CategoricalDistribution{Choices: []string{"cosine", "step", "onecycle", "none"}},
}

// historyStudy returns a study holding n finished random trials over the
// eight-param space.
func historyStudy(b *testing.B, s goptuna.Sampler, n int) *goptuna.Study {
	b.Helper()
	study := searchtest.NewStudy(b, goptuna.StudyDirectionMinimize, s, nil, nil)
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	for range n {
		id, _ := study.Storage.CreateNewTrial(study.ID)
		sum := 0.0
		for _, name := range eightNames {
			d := eightSpace[name]
			v := randomValue(rng, d)
			study.Storage.SetTrialParam(id, name, v, d)
			sum += v
		}
		study.Storage.SetTrialValue(id, sum+rng.Float64())
		study.Storage.SetTrialState(id, goptuna.TrialStateComplete)
	}
	return study
}

func randomValue(rng *rand.Rand, d any) float64 {
	switch d := d.(type) {
	case goptuna.LogUniformDistribution:
		return d.Low + rng.Float64()*(d.High-d.Low)
	case goptuna.UniformDistribution:
		return d.Low + rng.Float64()*(d.High-d.Low)
	case goptuna.StepIntUniformDistribution:
		return float64(d.Low + rng.IntN((d.High-d.Low)/d.Step+1)*d.Step)
	case goptuna.IntUniformDistribution:
		return float64(d.Low + rng.IntN(d.High-d.Low+1))
	case goptuna.CategoricalDistribution:
		return float64(rng.IntN(len(d.Choices)))
	}
	panic("unreachable")
}

// BenchmarkSuggest measures one full suggestion (all eight params of a new
// trial) against n finished trials, for our TPE in both modes and for
// goptuna's shipped TPE. The new trial is discarded after each iteration, so
// the history stays at n.
func BenchmarkSuggest(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		for _, c := range []struct {
			name string
			new  func() goptuna.Sampler
		}{
			{"Univariate", func() goptuna.Sampler { return tpe.New(tpe.Options{Seed: 1}) }},
			{"Multivariate", func() goptuna.Sampler { return tpe.New(tpe.Options{Seed: 1, Multivariate: true}) }},
			{"Goptuna", func() goptuna.Sampler { return gtpe.NewSampler(gtpe.SamplerOptionSeed(1)) }},
		} {
			if c.name == "Goptuna" && n > 1000 {
				continue
			}
			b.Run(fmt.Sprintf("%s/trials=%d", c.name, n), func(b *testing.B) {
				s := c.new()
				study := historyStudy(b, s, n)
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					for _, name := range eightNames {
						tr := goptuna.FrozenTrial{ID: n + 1 + i, Number: n + 1 + i}
						if _, err := s.Sample(study, tr, name, eightSpace[name]); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

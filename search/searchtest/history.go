package searchtest

import (
	"math/rand/v2"

	"github.com/c-bata/goptuna"
)

// EightNames and EightSpace are the latency benchmarks' search space: eight
// params of a typical training study (log floats, floats, ints, categoricals).
var EightNames = []string{"lr", "wd", "momentum", "dropout", "width", "depth", "opt", "sched"}

// EightSpace maps EightNames to their distributions.
var EightSpace = map[string]any{
	"lr":       goptuna.LogUniformDistribution{Low: 1e-5, High: 1},
	"wd":       goptuna.LogUniformDistribution{Low: 1e-6, High: 1e-2},
	"momentum": goptuna.UniformDistribution{Low: 0.5, High: 0.99},
	"dropout":  goptuna.UniformDistribution{Low: 0, High: 0.5},
	"width":    goptuna.StepIntUniformDistribution{Low: 16, High: 256, Step: 16},
	"depth":    goptuna.IntUniformDistribution{Low: 1, High: 8},
	"opt":      goptuna.CategoricalDistribution{Choices: []string{"sgd", "adamw", "lamb"}},
	"sched":    goptuna.CategoricalDistribution{Choices: []string{"cosine", "step", "onecycle", "none"}},
}

// FillHistory writes n COMPLETE trials with random EightSpace params and a
// value that depends on them, straight into storage (no sampler involved).
func FillHistory(study *goptuna.Study, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	for range n {
		id, err := study.Storage.CreateNewTrial(study.ID)
		if err != nil {
			return err
		}
		sum := 0.0
		for _, name := range EightNames {
			d := EightSpace[name]
			v := randomValue(rng, d)
			if err := study.Storage.SetTrialParam(id, name, v, d); err != nil {
				return err
			}
			sum += v
		}
		if err := Finish(study, id, sum+rng.Float64(), goptuna.TrialStateComplete); err != nil {
			return err
		}
	}
	return nil
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
	return 0
}

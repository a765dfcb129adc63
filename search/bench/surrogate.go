package bench

import (
	"math"

	"github.com/c-bata/goptuna"
)

// Epochs is the training length of the learning-curve surrogate.
const Epochs = 27

// Surrogate is a synthetic image-classifier training study: validation error
// per epoch as a smooth function of learning rate, weight decay, batch size,
// optimizer (with SGD momentum conditional on SGD) and LR scheduler (each
// with its own conditional params). Curves approach their final error at a
// speed set by the learning rate, so fast-but-worse configs lead early, as
// in real training. Its minimum error is reached by SGD, lr 0.1, wd 5e-4,
// batch 64, momentum 0.9, cosine with 3 warm-up epochs.
func Surrogate() Problem {
	p := Problem{Name: "Learning-curve surrogate (conditional)", Key: "surrogate", Ask: askSurrogate}
	p.Eval = func(x map[string]float64) float64 { return SurrogateCurve(x, Epochs) }
	p.Optimum = SurrogateCurve(map[string]float64{"opt": 0, "lr": 0.1, "wd": 5e-4, "batch": 1,
		"momentum": 0.9, "sched": 0, "warmup": 3}, Epochs)
	return p
}

var (
	surBatch = goptuna.CategoricalDistribution{Choices: []string{"32", "64", "128", "256"}}
	surOpt   = goptuna.CategoricalDistribution{Choices: []string{"sgd", "adamw"}}
	surSched = goptuna.CategoricalDistribution{Choices: []string{"cosine", "step", "onecycle"}}
)

func askSurrogate(ask Asker) (map[string]float64, error) {
	p, err := askAll(ask, []string{"lr", "wd", "batch", "opt", "sched"}, []any{
		goptuna.LogUniformDistribution{Low: 1e-4, High: 1},
		goptuna.LogUniformDistribution{Low: 1e-6, High: 1e-2},
		surBatch, surOpt, surSched,
	})
	if err != nil {
		return nil, err
	}
	var names []string
	var dists []any
	if p["opt"] == 0 {
		names, dists = append(names, "momentum"), append(dists, goptuna.UniformDistribution{Low: 0.5, High: 0.99})
	}
	switch p["sched"] {
	case 0:
		names, dists = append(names, "warmup"), append(dists, goptuna.IntUniformDistribution{Low: 0, High: 10})
	case 1:
		names = append(names, "step_gamma", "step_every")
		dists = append(dists, goptuna.UniformDistribution{Low: 0.1, High: 0.9}, goptuna.IntUniformDistribution{Low: 3, High: 20})
	case 2:
		names, dists = append(names, "pct_start"), append(dists, goptuna.UniformDistribution{Low: 0.1, High: 0.5})
	}
	more, err := askAll(ask, names, dists)
	for k, v := range more {
		p[k] = v
	}
	return p, err
}

// SurrogateCurve returns the validation error after epoch (1-based).
func SurrogateCurve(x map[string]float64, epoch int) float64 {
	final, tau := surrogateFinal(x)
	return final + (0.9-final)*math.Exp(-float64(epoch)/tau)
}

// surrogateFinal returns the asymptotic error and the curve's time constant
// in epochs.
func surrogateFinal(x map[string]float64) (final, tau float64) {
	sq := func(v float64) float64 { return v * v }
	lrOpt, wdOpt, floor := 0.1, 5e-4, 0.05
	if x["opt"] == 1 { // AdamW
		lrOpt, wdOpt, floor = 1e-3, 5e-3, 0.06
	}
	dl := math.Log10(x["lr"]) - math.Log10(lrOpt)
	final = floor + 0.06*sq(dl) + 0.015*sq(math.Log10(x["wd"])-math.Log10(wdOpt))
	final += []float64{0.01, 0, 0.005, 0.02}[int(x["batch"])]
	if x["opt"] == 0 {
		final += 0.5 * sq(x["momentum"]-0.9)
	}
	// Too large a learning rate diverges towards chance.
	if dl > 0.7 {
		final += 0.3 * (dl - 0.7)
	}
	switch x["sched"] {
	case 0:
		final += 0.002 * math.Abs(x["warmup"]-3)
	case 1:
		final += 0.01 + 0.05*sq(x["step_gamma"]-0.3) + 0.0005*math.Abs(x["step_every"]-8)
	case 2:
		final += 0.004 + 0.1*sq(x["pct_start"]-0.3)
	}
	final = math.Min(final, 0.9)
	// Smaller learning rates converge more slowly; one-cycle is quicker.
	tau = 3 + 4*math.Max(-dl, 0)
	if x["sched"] == 2 {
		tau *= 0.8
	}
	return final, tau
}

// Package monitor measures a training run's health every k steps: global and
// per-layer gradient norms, activation mean and standard deviation per
// block, the fraction of zero (dead) ReLU outputs, and the spread of the
// per-example losses within a batch (a hard-example signal).
//
// It reads tensors through the backend's synchronising reductions, so it
// costs a device sync per measurement; that is why it runs every k steps,
// not every step. It stores nothing itself: [Monitor.Measure] returns named
// values that the trainer records with the run's other metrics. It does not
// decide anything (no early stopping, no clipping).
package monitor

import (
	"maps"
	"math"
	"slices"
	"strings"

	"sweep/trainer/engine"
)

// Named is a tensor with the name reports show for it: a parameter's
// registry name for gradients, a block's name for activations.
type Named struct {
	Name   string
	Tensor engine.Tensor
}

// Metric name prefixes. Per-layer and per-block values append "/" and the
// layer or block name, e.g. "grad_norm/stage1.0.conv1".
const (
	GradNorm  = "grad_norm"  // L2 norm of all gradients, or of one layer's
	ActMean   = "act_mean"   // mean of a block's output
	ActStd    = "act_std"    // standard deviation of a block's output
	ReLUZero  = "relu_zero"  // share of a block's outputs that are exactly 0
	LossMean  = "loss_mean"  // mean per-example loss of the batch
	LossStd   = "loss_std"   // its standard deviation
	LossMax   = "loss_max"   // the hardest example's loss
	LossP90   = "loss_p90"   // 90th percentile
	LossRatio = "loss_ratio" // loss_max / loss_mean: how concentrated the loss is
)

// Monitor measures every Every steps; Every 0 never measures.
type Monitor struct {
	B     engine.Backend
	Every int
}

// Due reports whether optimizer step (from 0) is measured: the first step
// and then every Every steps.
func (m *Monitor) Due(step int) bool { return m.Every > 0 && step%m.Every == 0 }

// Measure returns the metrics of one step: grads are the parameters'
// gradients after the backward pass, acts the blocks' outputs from the same
// forward pass (ReLU outputs, so zeros are dead units), losses the batch's
// per-example losses. Any of them may be empty.
func (m *Monitor) Measure(grads, acts []Named, losses []float32) map[string]float64 {
	out := map[string]float64{}
	var total float64
	layer := map[string]float64{}
	for _, g := range grads {
		ss := m.B.SumSquares(g.Tensor)
		total += ss
		layer[LayerOf(g.Name)] += ss
	}
	if len(grads) > 0 {
		out[GradNorm] = math.Sqrt(total)
		for l, ss := range layer {
			out[GradNorm+"/"+l] = math.Sqrt(ss)
		}
	}
	for _, a := range acts {
		n := float64(a.Tensor.Numel())
		mean := m.B.Sum(a.Tensor) / n
		v := math.Max(0, m.B.SumSquares(a.Tensor)/n-mean*mean)
		out[ActMean+"/"+a.Name] = mean
		out[ActStd+"/"+a.Name] = math.Sqrt(v)
		out[ReLUZero+"/"+a.Name] = float64(m.B.CountZeros(a.Tensor)) / n
	}
	if len(losses) > 0 {
		maps.Copy(out, LossSpread(losses))
	}
	return out
}

// LayerOf returns the layer part of a parameter name: the name without its
// last dotted component ("stage1.0.conv1.weight" → "stage1.0.conv1"), or
// the name itself when it has no dot.
func LayerOf(param string) string {
	if i := strings.LastIndexByte(param, '.'); i > 0 {
		return param[:i]
	}
	return param
}

// LossSpread summarises per-example losses: mean, standard deviation,
// maximum, 90th percentile (nearest rank) and max/mean.
func LossSpread(losses []float32) map[string]float64 {
	n := float64(len(losses))
	if n == 0 {
		return map[string]float64{}
	}
	var sum, sq float64
	sorted := make([]float64, len(losses))
	for i, l := range losses {
		x := float64(l)
		sum += x
		sq += x * x
		sorted[i] = x
	}
	slices.Sort(sorted)
	mean := sum / n
	out := map[string]float64{
		LossMean: mean,
		LossStd:  math.Sqrt(math.Max(0, sq/n-mean*mean)),
		LossMax:  sorted[len(sorted)-1],
		LossP90:  sorted[int(math.Ceil(0.9*n))-1],
	}
	if mean > 0 {
		out[LossRatio] = out[LossMax] / mean
	}
	return out
}

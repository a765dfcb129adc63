package optim

import "fmt"

// EMA keeps an exponential moving average of the weights,
// shadow = d·shadow + (1-d)·w, evaluated in place of the raw weights at the
// end of training (as in airbench and timm's ModelEmaV2). With Warmup the
// decay starts small, d = min(Decay, (1+n)/(10+n)) after n updates, so the
// early random weights do not dominate a short run.
//
// Like [SWA] it works on host copies, one []float32 per tensor in registry
// order; batch-norm running statistics may be passed along with the weights.
// It is not safe for concurrent use.
type EMA struct {
	Decay  float64 // per-update decay in (0,1), e.g. 0.999
	Warmup bool
	Every  int // the trainer updates every Every steps; 0 = 1

	n      int
	shadow [][]float32
}

// Due reports whether optimizer step (from 0) should update the average.
func (e *EMA) Due(step int) bool { return (step+1)%max(e.Every, 1) == 0 }

// decay returns the decay used by the next update.
func (e *EMA) decay() float64 {
	if e.Warmup {
		return min(e.Decay, float64(1+e.n)/float64(10+e.n))
	}
	return e.Decay
}

// Update folds the current weights into the average; the first call copies
// them. The weights are only read.
func (e *EMA) Update(weights [][]float32) {
	if e.shadow == nil {
		e.shadow = make([][]float32, len(weights))
		for i, w := range weights {
			e.shadow[i] = append([]float32(nil), w...)
		}
		e.n = 1
		return
	}
	if len(weights) != len(e.shadow) {
		panic(fmt.Sprintf("optim: EMA got %d tensors, average has %d", len(weights), len(e.shadow)))
	}
	d := float32(e.decay())
	for i, w := range weights {
		s := e.shadow[i]
		if len(w) != len(s) {
			panic(fmt.Sprintf("optim: EMA tensor %d has %d values, average has %d", i, len(w), len(s)))
		}
		for j, x := range w {
			s[j] = d*s[j] + (1-d)*x
		}
	}
	e.n++
}

// Weights returns the averaged weights (owned by e; nil before the first
// Update).
func (e *EMA) Weights() [][]float32 { return e.shadow }

package optim

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

// Next counts one more update and returns the interpolation weight t with
// which it folds the current weights in, shadow += t·(w − shadow), that is
// t = 1 − decay; the first update returns 1 (a copy). The trainer applies it
// with the backend's Lerp on device copies; Update does it on host slices.
func (e *EMA) Next() float32 {
	e.n++
	if e.n == 1 {
		return 1
	}
	d := e.Decay
	if e.Warmup {
		k := float64(e.n - 1) // updates folded in so far
		d = min(d, (1+k)/(10+k))
	}
	return float32(1 - d)
}

// Update folds host weights into the average (see [EMA.Next]); the first
// call copies them. The weights are only read.
func (e *EMA) Update(weights [][]float32) {
	e.shadow = lerpHost(e.shadow, weights, e.Next(), "EMA")
}

// N returns how many updates the average holds.
func (e *EMA) N() int { return e.n }

// Weights returns the averaged weights (owned by e; nil before the first
// Update).
func (e *EMA) Weights() [][]float32 { return e.shadow }

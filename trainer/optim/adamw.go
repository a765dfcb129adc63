package optim

import "sweep/trainer/engine"

// AdamWConfig configures [AdamW]; zero Beta1, Beta2 and Eps take the
// defaults of Loshchilov & Hutter (0.9, 0.999, 1e-8).
type AdamWConfig struct {
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	Multipliers       Multipliers
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter 2019,
// "Decoupled Weight Decay Regularization"): the decay shrinks the weights
// by lr·wd directly instead of entering the adaptive moments, through the
// backend's AdamWStep kernel. The decay is scaled by the group's LR
// multiplier too, as PyTorch does for per-group rates.
type AdamW struct {
	b      engine.Backend
	cfg    AdamWConfig
	params []Param
	m, v   []engine.Tensor
	t      int // updates done; bias correction uses t+1 for the next one
	frozen map[string]bool
}

var _ Optimizer = (*AdamW)(nil)

// NewAdamW allocates the first and second moments (zeroed) for params on b.
func NewAdamW(b engine.Backend, params []Param, cfg AdamWConfig) *AdamW {
	if cfg.Beta1 == 0 {
		cfg.Beta1 = 0.9
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	o := &AdamW{b: b, cfg: cfg, params: params}
	for _, p := range params {
		o.m = append(o.m, engine.New(b, engine.Float32, p.Value.Shape))
		o.v = append(o.v, engine.New(b, engine.Float32, p.Value.Shape))
	}
	return o
}

// Step updates every parameter that is not frozen, with step count t (from 1):
// p −= lr·wd·p; m, v updated; p −= lr·m̂/(√v̂ + eps).
func (o *AdamW) Step(lr float64) {
	o.t++
	for i, p := range o.params {
		if o.frozen[p.Name] {
			continue
		}
		h := engine.AdamW{
			LR:          float32(lr * p.lrScale(o.cfg.Multipliers)),
			Beta1:       float32(o.cfg.Beta1),
			Beta2:       float32(o.cfg.Beta2),
			Eps:         float32(o.cfg.Eps),
			WeightDecay: float32(o.cfg.WeightDecay),
			Step:        o.t,
		}
		if p.NoDecay {
			h.WeightDecay = 0
		}
		o.b.AdamWStep(h, p.Value, p.Grad, o.m[i], o.v[i])
	}
}

// Freeze implements [Optimizer].
func (o *AdamW) Freeze(name string) { o.frozen = freeze(o.frozen, name) }

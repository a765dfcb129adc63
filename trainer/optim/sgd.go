package optim

import "sweep/trainer/engine"

// Param is one tensor an optimizer updates, as the trainer hands it over
// from the engine's parameter registry.
type Param struct {
	Name    string
	Group   string        // stem, stage1..stage4, head: selects the LR multiplier
	Value   engine.Tensor // updated in place
	Grad    engine.Tensor // read only
	NoDecay bool          // exempt from weight decay (batch-norm and bias vectors)
	// LRScale multiplies this tensor's learning rate on top of its group's
	// multiplier; 0 means 1. airbench94 trains batch-norm shifts 64× faster
	// (its bias_scaler) without changing their weight decay (see
	// SGDConfig.Decoupled).
	LRScale float64
}

// lrScale is p's learning-rate factor beyond the schedule: group
// multiplier × LRScale.
func (p Param) lrScale(m Multipliers) float64 {
	s := m.Of(p.Group)
	if p.LRScale != 0 {
		s *= p.LRScale
	}
	return s
}

// Optimizer applies one update to every parameter from its current
// gradient. lr is the schedule's rate at this step; each parameter trains
// at lr × its group's multiplier. Optimizers keep their state (momentum,
// moments) on the backend, allocated at construction. Not safe for
// concurrent use.
type Optimizer interface {
	Step(lr float64)
	// Freeze stops updating the named parameter for the rest of the run:
	// no gradient step, no weight decay, its momentum left as it is, as
	// when PyTorch sets requires_grad = False (airbench94 freezes its
	// whitening bias after a few epochs). Unknown names are ignored.
	Freeze(name string)
}

// NoDecay reports whether a parameter of this shape is exempt from weight
// decay under the usual rule: vectors (batch-norm scale and shift, biases)
// are, matrices and convolution kernels are not.
func NoDecay(s engine.Shape) bool { return s.Rank() <= 1 }

// SGDConfig configures [SGD]. Weight decay is coupled (added to the
// gradient), as in PyTorch's SGD.
type SGDConfig struct {
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	Multipliers Multipliers
	// Decoupled makes WeightDecay the fraction of a weight removed per step
	// at the schedule's peak rate PeakLR, following the schedule (lr/PeakLR)
	// but not the group multipliers or LRScale: airbench94's form, where
	// changing a learning rate leaves the decay alone. It still enters
	// through the gradient (and so the momentum), as airbench's PyTorch
	// SGD with weight_decay = wd/lr does.
	Decoupled bool
	PeakLR    float64
}

// SGD is stochastic gradient descent with optional (Nesterov) momentum,
// through the backend's SGDStep kernel.
type SGD struct {
	b      engine.Backend
	cfg    SGDConfig
	params []Param
	vel    []engine.Tensor // momentum buffers; zero Tensors when Momentum is 0
	frozen map[string]bool
}

var _ Optimizer = (*SGD)(nil)

// NewSGD allocates momentum buffers (zeroed) for params on b.
func NewSGD(b engine.Backend, params []Param, cfg SGDConfig) *SGD {
	o := &SGD{b: b, cfg: cfg, params: params, vel: make([]engine.Tensor, len(params))}
	if cfg.Momentum != 0 {
		for i, p := range params {
			o.vel[i] = engine.New(b, engine.Float32, p.Value.Shape)
		}
	}
	return o
}

// Step updates every parameter that is not frozen: g' = g + wd·p,
// v = μ·v + g', p −= lr·s·(g' + μ·v) with Nesterov, p −= lr·s·v without,
// where s is the group multiplier × LRScale (and, when Decoupled,
// wd = WeightDecay/(PeakLR·s)).
func (o *SGD) Step(lr float64) {
	for i, p := range o.params {
		if o.frozen[p.Name] {
			continue
		}
		s := p.lrScale(o.cfg.Multipliers)
		wd := o.cfg.WeightDecay
		if o.cfg.Decoupled {
			wd /= o.cfg.PeakLR * s
		}
		h := engine.SGD{
			LR:          float32(lr * s),
			Momentum:    float32(o.cfg.Momentum),
			Nesterov:    o.cfg.Nesterov,
			WeightDecay: float32(wd),
		}
		if p.NoDecay {
			h.WeightDecay = 0
		}
		o.b.SGDStep(h, p.Value, p.Grad, o.vel[i])
	}
}

// Freeze implements [Optimizer].
func (o *SGD) Freeze(name string) { o.frozen = freeze(o.frozen, name) }

func freeze(m map[string]bool, name string) map[string]bool {
	if m == nil {
		m = map[string]bool{}
	}
	m[name] = true
	return m
}

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
}

// Optimizer applies one update to every parameter from its current
// gradient. lr is the schedule's rate at this step; each parameter trains
// at lr × its group's multiplier. Optimizers keep their state (momentum,
// moments) on the backend, allocated at construction. Not safe for
// concurrent use.
type Optimizer interface {
	Step(lr float64)
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
}

// SGD is stochastic gradient descent with optional (Nesterov) momentum,
// through the backend's SGDStep kernel.
type SGD struct {
	b      engine.Backend
	cfg    SGDConfig
	params []Param
	vel    []engine.Tensor // momentum buffers; zero Tensors when Momentum is 0
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

// Step updates every parameter: g' = g + wd·p, v = μ·v + g',
// p −= lr·mult·(g' + μ·v) with Nesterov, p −= lr·mult·v without.
func (o *SGD) Step(lr float64) {
	for i, p := range o.params {
		h := engine.SGD{
			LR:          float32(lr * o.cfg.Multipliers.Of(p.Group)),
			Momentum:    float32(o.cfg.Momentum),
			Nesterov:    o.cfg.Nesterov,
			WeightDecay: float32(o.cfg.WeightDecay),
		}
		if p.NoDecay {
			h.WeightDecay = 0
		}
		o.b.SGDStep(h, p.Value, p.Grad, o.vel[i])
	}
}

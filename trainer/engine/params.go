package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Param is a named tensor of a model: a trainable weight with its gradient,
// or a buffer (running statistics; Grad is the zero Tensor).
type Param struct {
	// Name is the dotted path, e.g. "stage2.0.conv1.weight", unique in a
	// model; checkpoints match tensors by it.
	Name string
	// Group tags the parameter for layer-wise learning rates: "stem",
	// "stage1".."stage4" or "head" in the models of package models.
	Group string
	// NoDecay marks biases and batch-norm scales and shifts, which
	// optimizers usually exempt from weight decay.
	NoDecay bool
	Value   Tensor
	Grad    Tensor
}

// newParam allocates a parameter of shape s (and its gradient, unless
// buffer is true) with the given local name, initialised by init on the
// host.
func newParam(b Backend, name string, s Shape, noDecay, buffer bool, init func([]float32)) *Param {
	h := make([]float32, s.Numel())
	init(h)
	p := &Param{Name: name, NoDecay: noDecay, Value: FromHost(b, s, h)}
	if !buffer {
		p.Grad = New(b, Float32, s)
	}
	return p
}

// Tag prefixes the names of l's parameters and buffers with prefix + "."
// and sets their group. Models call it once per block after building it.
func Tag(l Layer, prefix, group string) {
	for _, p := range append(l.Params(), Buffers(l)...) {
		if prefix != "" {
			p.Name = prefix + "." + p.Name
		}
		p.Group = group
	}
}

// ZeroGrad clears the gradients of ps. Backward passes accumulate, so the
// trainer calls this once per step, before Backward.
func ZeroGrad(b Backend, ps []*Param) {
	for _, p := range ps {
		if !p.Grad.IsZero() {
			b.Fill(p.Grad, 0)
		}
	}
}

// ByGroup splits ps by Group, keeping their order within each group.
func ByGroup(ps []*Param) map[string][]*Param {
	m := make(map[string][]*Param)
	for _, p := range ps {
		m[p.Group] = append(m[p.Group], p)
	}
	return m
}

// Count returns the number of scalar values in ps.
func Count(ps []*Param) int {
	n := 0
	for _, p := range ps {
		n += p.Value.Numel()
	}
	return n
}

// CheckNames returns an error naming the first duplicate or empty name.
func CheckNames(ps []*Param) error {
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		if p.Name == "" || strings.HasPrefix(p.Name, ".") {
			return fmt.Errorf("engine: parameter %v has no name", p.Value.Shape)
		}
		if seen[p.Name] {
			return fmt.Errorf("engine: duplicate parameter name %q", p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}

// ───────────────────────────── initialisers ───────────────────────────────

// kaimingNormal fills w with N(0, 2/fanOut), He et al.'s initialisation for
// ReLU networks in the fan-out mode torchvision's ResNets use.
func kaimingNormal(r *rand.Rand, fanOut int) func([]float32) {
	std := math.Sqrt(2 / float64(fanOut))
	return func(w []float32) {
		for i := range w {
			w[i] = float32(r.NormFloat64() * std)
		}
	}
}

// uniform fills w from U(−bound, bound): PyTorch's default for Linear
// weights and biases with bound = 1/sqrt(fan_in).
func uniform(r *rand.Rand, bound float64) func([]float32) {
	return func(w []float32) {
		for i := range w {
			w[i] = float32((2*r.Float64() - 1) * bound)
		}
	}
}

func constant(v float32) func([]float32) {
	return func(w []float32) {
		for i := range w {
			w[i] = v
		}
	}
}

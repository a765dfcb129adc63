// Package models builds the networks sweep trains, from engine layers:
// tiny (a CPU-friendly three-convolution net) and the CIFAR variants of
// ResNet-18 and ResNet-34. Every parameter is tagged with a group (stem,
// stage1..stage4, head) for layer-wise learning rates. It does not train.
package models

import (
	"fmt"
	"strings"

	"sweep/trainer/engine"
)

// Options select a model's variant. The zero value is the standard model.
type Options struct {
	Seed    uint64  // initialisation seed
	Classes int     // output classes; 0 means 10
	Width   float64 // channel multiplier; 0 means 1
	// Stem is "standard" (one 3x3 convolution, the CIFAR ResNet stem) or
	// "article" (three 3x3 convolutions, the first with stride 2, each
	// followed by batch norm and ReLU). "" means standard. Tiny ignores it.
	Stem string
	// SE adds a squeeze-excitation block with reduction SEReduction (0
	// means 16) to every residual block. Tiny ignores it.
	SE          bool
	SEReduction int
}

func (o Options) withDefaults() (Options, error) {
	if o.Classes == 0 {
		o.Classes = 10
	}
	if o.Width == 0 {
		o.Width = 1
	}
	if o.Stem == "" {
		o.Stem = "standard"
	}
	if o.SEReduction == 0 {
		o.SEReduction = 16
	}
	switch {
	case o.Classes < 2:
		return o, fmt.Errorf("models: classes %d, want ≥ 2", o.Classes)
	case o.Width <= 0 || o.Width > 16:
		return o, fmt.Errorf("models: width %v, want in (0, 16]", o.Width)
	case o.Stem != "standard" && o.Stem != "article":
		return o, fmt.Errorf("models: stem %q, want standard or article", o.Stem)
	case o.SEReduction < 1:
		return o, fmt.Errorf("models: se reduction %d, want ≥ 1", o.SEReduction)
	}
	return o, nil
}

// Model is a network: a Sequential of top-level blocks (the unit of the
// benchmark's per-layer times) with a name.
type Model struct {
	*engine.Sequential
	Name string
}

// Names lists the models New builds.
var Names = []string{"tiny", "resnet18", "resnet34"}

// New builds the named model on b.
func New(name string, b engine.Backend, o Options) (*Model, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	var m *Model
	switch name {
	case "tiny":
		m = tiny(b, o)
	case "resnet18":
		m = resnet(b, o, name, []int{2, 2, 2, 2})
	case "resnet34":
		m = resnet(b, o, name, []int{3, 4, 6, 3})
	default:
		return nil, fmt.Errorf("models: unknown model %q (have %v)", name, Names)
	}
	if err := engine.CheckNames(append(m.Params(), m.Buffers()...)); err != nil {
		return nil, fmt.Errorf("models: build %s: %w", name, err)
	}
	return m, nil
}

// State returns the parameters and buffers a checkpoint holds.
func (m *Model) State() []*engine.Param { return append(m.Params(), m.Buffers()...) }

// named tags l's tensors with a name prefix and group, then returns l.
func named[L engine.Layer](l L, name, group string) L {
	engine.Tag(l, name, group)
	return l
}

func width(c int, w float64) int { return max(1, int(float64(c)*w+0.5)) }

// BlockOutputs returns the name and last output of each top-level block
// (stem, residual blocks or conv stages, pooling, head), valid after a
// Forward: the monitor's activation statistics.
func (m *Model) BlockOutputs() ([]string, []engine.Tensor) {
	var names []string
	var outs []engine.Tensor
	for i, l := range m.Layers {
		t := engine.Output(l)
		if t.IsZero() {
			continue
		}
		names = append(names, blockName(l, i))
		outs = append(outs, t)
	}
	return names, outs
}

// blockName names a top-level block after its first parameter's prefix.
func blockName(l engine.Layer, i int) string {
	ps := l.Params()
	if len(ps) == 0 {
		return fmt.Sprintf("block%d", i)
	}
	n := ps[0].Name
	if j := strings.LastIndex(n, "."); j > 0 {
		n = n[:j]
	}
	return n
}

// Unwrap returns the underlying Sequential (engine.ForwardFLOPs walks it).
func (m *Model) Unwrap() engine.Layer { return m.Sequential }

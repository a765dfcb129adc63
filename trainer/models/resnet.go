package models

import (
	"fmt"
	"math/rand/v2"

	"sweep/trainer/engine"
)

// resnet builds the CIFAR ResNet of He et al. (2016) with basic blocks:
// a 3x3 stem at full resolution (no max pool), four stages of widths 64,
// 128, 256 and 512 (times Options.Width) with strides 1, 2, 2, 2, global
// average pooling and a linear classifier. Downsampling blocks use a 1x1
// convolution with batch norm as shortcut.
func resnet(b engine.Backend, o Options, name string, blocks []int) *Model {
	r := engine.NewRand(o.Seed)
	stem, cin := resnetStem(b, r, o)
	layers := []engine.Layer{stem}
	for s, n := range blocks {
		c := width(64<<s, o.Width)
		group := fmt.Sprintf("stage%d", s+1)
		for i := 0; i < n; i++ {
			stride := 1
			if i == 0 && s > 0 {
				stride = 2
			}
			layers = append(layers, basicBlock(b, r, o, fmt.Sprintf("%s.%d", group, i), group, cin, c, stride))
			cin = c
		}
	}
	layers = append(layers, engine.NewGlobalAvgPool(b), named(engine.NewLinear(b, r, cin, o.Classes, true), "fc", "head"))
	return &Model{Sequential: engine.NewSequential(layers...), Name: name}
}

// resnetStem returns the stem and its output width.
func resnetStem(b engine.Backend, r *rand.Rand, o Options) (engine.Layer, int) {
	same := engine.ConvDesc{PadH: 1, PadW: 1}
	if o.Stem == "standard" {
		c := width(64, o.Width)
		conv := named(engine.NewConv2d(b, r, 3, c, 3, same, false), "stem.conv", "stem")
		conv.SkipInputGrad = true
		return engine.NewSequential(conv, named(engine.NewBatchNorm2d(b, c, true), "stem.bn", "stem")), c
	}
	var ls []engine.Layer
	cin := 3
	for i, c := range []int{32, 32, 64} {
		c = width(c, o.Width)
		d := same
		if i == 0 {
			d.StrideH, d.StrideW = 2, 2
		}
		conv := named(engine.NewConv2d(b, r, cin, c, 3, d, false), fmt.Sprintf("stem.conv%d", i+1), "stem")
		conv.SkipInputGrad = i == 0
		ls = append(ls, conv, named(engine.NewBatchNorm2d(b, c, true), fmt.Sprintf("stem.bn%d", i+1), "stem"))
		cin = c
	}
	return engine.NewSequential(ls...), cin
}

// basicBlock is relu(bn2(conv2(relu(bn1(conv1(x))))) [· se] + shortcut(x)).
func basicBlock(b engine.Backend, r *rand.Rand, o Options, name, group string, cin, c, stride int) engine.Layer {
	d1 := engine.ConvDesc{StrideH: stride, StrideW: stride, PadH: 1, PadW: 1}
	body := []engine.Layer{
		named(engine.NewConv2d(b, r, cin, c, 3, d1, false), name+".conv1", group),
		named(engine.NewBatchNorm2d(b, c, true), name+".bn1", group),
		named(engine.NewConv2d(b, r, c, c, 3, engine.ConvDesc{PadH: 1, PadW: 1}, false), name+".conv2", group),
		named(engine.NewBatchNorm2d(b, c, false), name+".bn2", group),
	}
	if o.SE {
		body = append(body, named(engine.NewSE(b, r, c, o.SEReduction), name+".se", group))
	}
	var short engine.Layer
	if stride != 1 || cin != c {
		short = engine.NewSequential(
			named(engine.NewConv2d(b, r, cin, c, 1, engine.ConvDesc{StrideH: stride, StrideW: stride}, false), name+".down.conv", group),
			named(engine.NewBatchNorm2d(b, c, false), name+".down.bn", group),
		)
	}
	return engine.NewResidual(b, engine.NewSequential(body...), short, true)
}

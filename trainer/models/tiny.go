package models

import "sweep/trainer/engine"

// tiny is conv 3→32→64→128 (3x3, "same" padding), each followed by batch
// norm, ReLU and a 2x2 max pool (one fused layer), then global average pooling and a linear
// classifier: about 94 k parameters and 21 MFLOPs (forward) per 32x32 image.
func tiny(b engine.Backend, o Options) *Model {
	r := engine.NewRand(o.Seed)
	same := engine.ConvDesc{PadH: 1, PadW: 1}
	var layers []engine.Layer
	cin := 3
	for i, c := range []int{32, 64, 128} {
		c = width(c, o.Width)
		group := []string{"stem", "stage1", "stage2"}[i]
		prefix := []string{"conv1", "conv2", "conv3"}[i]
		conv := named(engine.NewConv2d(b, r, cin, c, 3, same, false), prefix, group)
		conv.SkipInputGrad = i == 0
		bn := named(engine.NewBatchNormReLUMaxPool(b, c, 2), prefix+".bn", group)
		layers = append(layers, conv, bn)
		cin = c
	}
	layers = append(layers, engine.NewGlobalAvgPool(b), named(engine.NewLinear(b, r, cin, o.Classes, true), "fc", "head"))
	return &Model{Sequential: engine.NewSequential(layers...), Name: "tiny"}
}

package engine_test

import (
	"math"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/enginetest"
)

func TestWalk_FindsNestedBatchNorms(t *testing.T) {
	b := newCPU(t, "", 1)
	inner := engine.NewBatchNorm2d(b, 4, true)
	pooled := engine.NewBatchNormReLUMaxPool(b, 4, 2)
	net := engine.NewSequential(
		engine.NewResidual(b, engine.NewSequential(inner), nil, true),
		pooled,
	)
	var bns []*engine.BatchNorm2d
	engine.Walk(net, func(l engine.Layer) {
		if bn, ok := l.(*engine.BatchNorm2d); ok {
			bns = append(bns, bn)
		}
	})
	if len(bns) != 2 || bns[0] != inner || bns[1] != pooled.BatchNorm2d {
		t.Fatalf("Walk found %d batch norms, want the residual's and the pooled one in forward order", len(bns))
	}
}

// With momentum 1/(k+1) before batch k, the running mean after K batches is
// the exact mean of the K batch means, whatever it held before.
func TestSetBatchNormMomentum_ExactAverage(t *testing.T) {
	b := newCPU(t, "", 1)
	bn := engine.NewBatchNorm2d(b, 3, false)
	net := engine.NewSequential(bn)
	shape := engine.Shape{2, 3, 4, 4}
	// Stale statistics that must vanish.
	b.CopyIn(bn.RunMean.Value, []float32{100, -100, 50})
	want := make([]float64, 3)
	const batches = 5
	for k := 0; k < batches; k++ {
		engine.SetBatchNormMomentum(net, float32(1/float64(k+1)))
		x, h := enginetest.Tensor(b, uint64(10+k), shape)
		net.Forward(x, engine.Train)
		hw := shape[2] * shape[3]
		for c := 0; c < 3; c++ {
			var s float64
			for n := 0; n < shape[0]; n++ {
				for _, v := range h[(n*3+c)*hw : (n*3+c+1)*hw] {
					s += float64(v)
				}
			}
			want[c] += s / float64(shape[0]*hw) / batches
		}
	}
	got := engine.ToHost(b, bn.RunMean.Value)
	for c := range want {
		if math.Abs(float64(got[c])-want[c]) > 1e-5 {
			t.Errorf("channel %d: running mean %g, want the mean of batch means %g", c, got[c], want[c])
		}
	}
}

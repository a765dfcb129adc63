package engine

// Walk calls fn for l and, depth first in forward order, for every layer
// inside it: the layers of a Sequential, a Residual's body and shortcut, an
// SE block's linear layers, a BatchNormPool's batch norm, and whatever a
// wrapper's Unwrap() Layer returns. Layers of unknown types are visited but
// not entered. Code that needs "every layer of kind X in a model" (FLOP
// counting, batch-norm settings) uses Walk, so a new container type is
// taught to one function.
func Walk(l Layer, fn func(Layer)) {
	fn(l)
	switch v := l.(type) {
	case *Sequential:
		for _, c := range v.Layers {
			Walk(c, fn)
		}
	case *Residual:
		Walk(v.Body, fn)
		if v.Shortcut != nil {
			Walk(v.Shortcut, fn)
		}
	case *SE:
		Walk(v.fc1, fn)
		Walk(v.fc2, fn)
	case *BatchNormPool:
		Walk(v.BatchNorm2d, fn)
	case interface{ Unwrap() Layer }:
		Walk(v.Unwrap(), fn)
	}
}

// ForwardFLOPs returns the floating-point operations (2 per multiply-add)
// of the convolutions and linear layers inside l for one sample, using the
// input sizes of l's last Forward. Elementwise work is not counted, as in
// the usual "FLOPs of a CNN" tables. Layer types it does not know count 0.
func ForwardFLOPs(l Layer) int {
	n := 0
	Walk(l, func(l Layer) {
		switch v := l.(type) {
		case *Conv2d:
			if !v.x.IsZero() {
				n += v.FLOPs(v.x.Dim(2), v.x.Dim(3))
			}
		case *Linear:
			n += v.FLOPs()
		}
	})
	return n
}

// SetBatchNormMomentum sets the running-statistics momentum of every batch
// norm inside l and returns a function that restores the momenta they had
// (each layer may have its own, see BatchNormOptions). Re-estimating
// statistics after weight averaging sets 1/(k+1) before batch k, which
// makes the running values the exact mean over the batches seen, with no
// trace of the old ones.
func SetBatchNormMomentum(l Layer, m float32) (restore func()) {
	var bns []*BatchNorm2d
	var old []float32
	Walk(l, func(l Layer) {
		if bn, ok := l.(*BatchNorm2d); ok {
			bns, old = append(bns, bn), append(old, bn.desc.Momentum)
			bn.desc.Momentum = m
		}
	})
	return func() {
		for i, bn := range bns {
			bn.desc.Momentum = old[i]
		}
	}
}

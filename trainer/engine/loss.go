package engine

import "fmt"

// SoftmaxCE is the softmax cross-entropy loss with label smoothing, fused
// forward and backward. It is not a Layer: it takes labels and ends the
// forward pass.
type SoftmaxCE struct {
	b         Backend
	Smoothing float32
	// Losses holds each sample's loss from the last Forward (N), the
	// per-batch loss spread the monitor reads.
	Losses  Tensor
	dlogits Tensor
	host    []float32
}

// NewSoftmaxCE returns the loss with the given label smoothing (0: none).
func NewSoftmaxCE(b Backend, smoothing float32) *SoftmaxCE {
	if smoothing < 0 || smoothing >= 1 {
		panic(fmt.Sprintf("engine: label smoothing %v outside [0,1)", smoothing))
	}
	return &SoftmaxCE{b: b, Smoothing: smoothing}
}

// Forward: logits (N,K), Int32 labels (N) → the gradient of the mean loss
// with respect to the logits (N,K) in Train mode, or the zero Tensor in
// Eval mode. Per-sample losses land in Losses either way.
func (l *SoftmaxCE) Forward(logits, labels Tensor, mode Mode) Tensor {
	n := logits.Dim(0)
	losses := ensure(l.b, &l.Losses, Float32, Shape{n})
	var d Tensor
	if mode == Train {
		d = ensure(l.b, &l.dlogits, Float32, logits.Shape)
	}
	l.b.SoftmaxCrossEntropy(logits, labels, l.Smoothing, 1/float32(n), losses, d)
	return d
}

// Mean copies the last Forward's losses to the host and returns their mean.
// It synchronises with the device.
func (l *SoftmaxCE) Mean() float64 {
	n := l.Losses.Numel()
	if cap(l.host) < n {
		l.host = make([]float32, n)
	}
	h := l.host[:n]
	l.b.CopyOut(h, l.Losses)
	var s float64
	for _, v := range h {
		s += float64(v)
	}
	return s / float64(n)
}

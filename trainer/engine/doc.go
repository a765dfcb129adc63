// Package engine is sweep's CNN training engine: float32 tensors, layers
// with hand-written forward and backward passes, a parameter registry with
// group tags, and weight checkpoints. It does not load data, schedule
// learning rates or loop over epochs (package trainer and its siblings do),
// and it does no arithmetic itself: every operation on tensor data goes
// through a [Backend] (backend.go, the seam that engine/cpu and engine/cuda
// implement).
//
// Layout is NCHW. A [Tensor] is a view (buffer handle, offset, shape, dtype)
// into memory owned by a backend; it may live on a GPU, so host code reads
// it only with [Backend.CopyOut] or [ToHost].
//
// Building and training a model (package models builds the networks;
// package trainer owns the real loop):
//
//	b, err := cpu.New(cpu.Options{})            // or cuda.New(...)
//	net, err := models.New("tiny", b, models.Options{Seed: 1})
//	x := engine.New(b, engine.Float32, engine.Shape{128, 3, 32, 32})
//	labels := engine.New(b, engine.Int32, engine.Shape{128})
//	loss := engine.NewSoftmaxCE(b, 0.1)          // label smoothing 0.1
//	params := net.Params()                      // trainable, in a fixed order
//	velocity := ...                             // one engine.New per param
//	for step := range steps {
//		b.CopyIn(x, images)
//		b.CopyInInt32(labels, ys)
//		logits := net.Forward(x, engine.Train)
//		dlogits := loss.Forward(logits, labels, engine.Train)
//		engine.ZeroGrad(b, params)              // Backward accumulates
//		net.Backward(dlogits)
//		for i, p := range params {              // p.Group: stem, stage1..stage4, head
//			h := engine.SGD{LR: lr * mult[p.Group], Momentum: 0.9, WeightDecay: wd}
//			if p.NoDecay { h.WeightDecay = 0 }  // biases and BN scales/shifts
//			b.SGDStep(h, p.Value, p.Grad, velocity[i])
//		}
//		mean := loss.Mean()                     // per-sample losses: loss.Losses
//	}
//
// Evaluation is net.Forward(x, engine.Eval): batch norm uses its running
// statistics and dropout is off; mode is always an argument, never state.
// engine.ByGroup splits parameters by group tag for layer-wise learning
// rates; [Buffers] returns the non-trained state (batch-norm running
// statistics) that [Save] and [Load] store alongside the parameters.
// [Output] exposes a layer's last output for activation monitoring, and
// [ForwardFLOPs] counts a network's multiply-adds.
//
// Layers allocate their activations, saved tensors and input gradients on
// the first Forward and Backward of a given batch size and reuse them
// afterwards (a smaller last batch reuses a larger one's buffers), so
// steady-state steps do not allocate. The tensor a layer returns from
// Forward or Backward stays valid until that layer's next call, with one
// exception that halves a residual block's backward memory: layers inside a
// [Residual] block may reuse their forward output for their input gradient,
// so their outputs are valid only until Backward (the block's own output,
// what monitors read, is not affected).
//
// Custom layers implement [Layer]; a backend implements [Backend] and passes
// enginetest.TestBackend. It may also implement the optional fused kernels
// [BatchNormReLUTrainer], [BatchNormReLUBackwarder], [AddReLUForwarder],
// [BatchNormReLUMaxPoolTrainer] and [BatchNormReLUMaxPoolBackwarder]; layers
// find them by type assertion and fall back to the plain ops otherwise.
package engine

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
// Building and training a model:
//
//	b := cpu.New()                       // or cuda.New(...)
//	net := models.Tiny(b, models.Options{Seed: 1})
//	x := engine.New(b, engine.Float32, engine.Shape{128, 3, 32, 32})
//	labels := engine.New(b, engine.Int32, engine.Shape{128})
//	loss := engine.NewLoss(b, 128, 10, 0.1) // label smoothing 0.1
//	for step := range steps {
//		b.CopyIn(x, images); b.CopyInInt32(labels, ys)
//		logits := net.Forward(x, engine.Train)
//		dlogits := loss.Forward(logits, labels)  // per-sample losses in loss.Losses
//		net.ZeroGrad()
//		net.Backward(dlogits)
//		for i, p := range net.Params() {        // p.Group: "stem", "stage1".."stage4", "head"
//			b.SGDStep(engine.SGD{LR: lr * mult[p.Group], Momentum: 0.9}, p.Value, p.Grad, velocity[i])
//		}
//	}
//
// Layers allocate their activations and saved tensors on the first Forward
// of a given batch size and reuse them afterwards, so steady-state steps do
// not allocate. The tensor a layer returns from Forward or Backward stays
// valid until that layer's next call.
package engine

package trainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sweep/trainer/calib"
	"sweep/trainer/data"
	"sweep/trainer/engine"
	"sweep/trainer/monitor"
	"sweep/trainer/optim"
)

// run is one training run's live state: the backend, the model and
// everything allocated on the backend for it.
type run struct {
	c      *Config
	b      engine.Backend
	closeB func()
	net    Net
	all    []*engine.Param // the model's trainable parameters, registry order
	params []optim.Param
	opt    optim.Optimizer
	x, y   engine.Tensor // input batch (N,3,32,32) and labels (N)
	logits engine.Tensor // the last training forward's output
	losses engine.Tensor // per-example losses (N)
	dlogit engine.Tensor // gradient of the mean loss w.r.t. the logits (N,10), times the loss scale
	scale  *lossScale    // fp16 dynamic loss scaling; nil otherwise
	mon    *monitor.Monitor
	log    io.Writer

	swa       *optim.SWA
	ema       *optim.EMA
	look      *optim.Lookahead
	swaW      []engine.Tensor // running SWA mean, one per param
	emaW      []engine.Tensor // EMA shadow, one per param
	lookFast  []engine.Tensor // what lookahead pulls back: params, then buffers
	lookSlow  []engine.Tensor // lookahead's slow copy, one per lookFast tensor
	hostBatch []float32       // scratch for TTA views and evaluation
	hostOut   []float32
}

// newRun opens the backend and builds the model, loss, optimizer, averages
// and monitor of configuration c.
func newRun(c *Config, d *splits, log io.Writer) (*run, error) {
	b, closeB, err := openBackend(c, log)
	if err != nil {
		return nil, err
	}
	r := &run{c: c, b: b, closeB: closeB, log: log}
	if r.net, err = buildModel(b, c, d); err != nil {
		closeB()
		return nil, err
	}
	n := c.BatchSize
	r.x = engine.New(b, engine.Float32, engine.Shape{n, data.Channels, data.Height, data.Width})
	r.y = engine.New(b, engine.Int32, engine.Shape{n})
	r.losses = engine.New(b, engine.Float32, engine.Shape{n})
	r.dlogit = engine.New(b, engine.Float32, engine.Shape{n, numClasses})
	r.all = r.net.Params()
	r.opt = r.newOptimizer()
	if r.scale, err = newLossScale(c, b); err != nil {
		closeB()
		return nil, err
	}
	r.mon = &monitor.Monitor{B: b, Every: c.MonitorEvery}
	if c.SWAStart > 0 {
		r.swa = &optim.SWA{StartEpoch: c.SWAStart}
		r.swaW = r.allocLike()
	}
	if c.EMADecay > 0 {
		r.ema = &optim.EMA{Decay: c.EMADecay, Warmup: true, Every: max(c.EMAEvery, 1)}
		r.emaW = r.allocLike()
	}
	if c.Lookahead {
		r.look = &optim.Lookahead{Every: c.LookaheadEvery, DecayBase: c.LookaheadDecay, DecayPow: c.LookaheadPow}
		for _, p := range append(append([]*engine.Param(nil), r.all...), engine.Buffers(r.net)...) {
			if p.Value.DType == engine.Float32 {
				r.lookFast = append(r.lookFast, p.Value)
				r.lookSlow = append(r.lookSlow, engine.New(b, engine.Float32, p.Value.Shape))
			}
		}
	}
	return r, nil
}

// lookaheadStep runs a lookahead step after done optimizer steps, if one
// is due: the slow copy moves towards the weights, which are reset to it.
func (r *run) lookaheadStep(done int) {
	if r.look == nil || !r.look.Due(done) {
		return
	}
	t := r.look.Next(done)
	for i, fast := range r.lookFast {
		r.b.Lerp(t, fast, r.lookSlow[i])
		r.b.Copy(fast, r.lookSlow[i])
	}
}

// lookaheadSync resets the weights to lookahead's slow copy, at the end of
// every epoch once it exists (airbench94 does the same), so that
// evaluation and the final model see the slow weights.
func (r *run) lookaheadSync() {
	if r.look == nil || r.look.N() == 0 {
		return
	}
	for i, fast := range r.lookFast {
		r.b.Copy(fast, r.lookSlow[i])
	}
}

// whitenBiaser is implemented by models whose whitening stem has a bias
// that airbench94 trains for the first epochs only (models.FastNet).
// FreezeStem tells the model that the stem no longer trains, so backward
// may stop after the first trained layer.
type whitenBiaser interface {
	WhitenBias() *engine.Param
	FreezeStem()
}

// freezeWhitenBias stops training the whitening bias once epoch (from 1)
// is past WhitenBiasEpochs.
func (r *run) freezeWhitenBias(epoch int) {
	wb, ok := r.net.(whitenBiaser)
	if r.c.WhitenBiasEpochs == 0 || epoch != r.c.WhitenBiasEpochs+1 || !ok || wb.WhitenBias() == nil {
		return
	}
	r.opt.Freeze(wb.WhitenBias().Name)
	wb.FreezeStem()
	r.logf("whitening bias frozen from epoch %d\n", epoch)
}

// newOptimizer builds c.Optimizer over the model's parameters, filling
// r.params: weight-decay exemptions, batch-norm parameters' LR scale
// (BNBiasLR), and Decoupled's conversion to PyTorch SGD's units.
func (r *run) newOptimizer() optim.Optimizer {
	c, b := r.c, r.b
	bnParams := map[*engine.Param]bool{}
	engine.Walk(r.net, func(l engine.Layer) {
		if bn, ok := l.(*engine.BatchNorm2d); ok {
			for _, p := range bn.Params() {
				bnParams[p] = true
			}
		}
	})
	for _, p := range r.all {
		op := optim.Param{
			Name: p.Name, Group: p.Group, Value: p.Value, Grad: p.Grad,
			NoDecay: !c.DecayBNBias && (p.NoDecay || optim.NoDecay(p.Value.Shape)),
		}
		if bnParams[p] {
			op.LRScale = c.BNBiasLR
		}
		r.params = append(r.params, op)
	}
	if c.Optimizer == "adamw" {
		return optim.NewAdamW(b, r.params, optim.AdamWConfig{
			Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, WeightDecay: c.WeightDecay, Multipliers: c.LayerLR})
	}
	return optim.NewSGD(b, r.params, optim.SGDConfig{
		Momentum: c.Momentum, Nesterov: c.Nesterov, WeightDecay: c.WeightDecay / c.momentumGain(),
		Multipliers: c.LayerLR, Decoupled: c.Decoupled, PeakLR: c.peakLR()})
}

func (r *run) close() { r.closeB() }

// allocLike allocates one zeroed tensor per parameter.
func (r *run) allocLike() []engine.Tensor {
	out := make([]engine.Tensor, len(r.params))
	for i, p := range r.params {
		out[i] = engine.New(r.b, engine.Float32, p.Value.Shape)
	}
	return out
}

func (r *run) numParams() int {
	n := 0
	for _, p := range r.params {
		n += p.Value.Numel()
	}
	return n
}

func (r *run) logf(format string, a ...any) {
	if r.log != nil {
		fmt.Fprintf(r.log, format, a...)
	}
}

// forwardBackward runs one training step up to the update: forward, loss,
// zero grad, backward (and, in fp16, unscaling). The optimizer step is the
// caller's, and only when forwardBackward returns true: false is an fp16
// overflow, a step to skip.
func (r *run) forwardBackward(b *data.Batch) bool {
	x, y := r.x.Slice(0, b.N), r.y.Slice(0, b.N)
	r.b.CopyIn(x, b.Images[:b.N*data.PixelsPerImage])
	r.b.CopyInInt32(y, b.Labels[:b.N])
	r.logits = r.net.Forward(x, engine.Train)
	losses, dlogits := r.losses.Slice(0, b.N), r.dlogit.Slice(0, b.N)
	r.b.SoftmaxCrossEntropy(r.logits, y, float32(r.c.Smoothing), r.scale.gradScale(b.N), losses, dlogits)
	engine.ZeroGrad(r.b, r.all)
	r.net.Backward(dlogits)
	return r.scale.unscale(r.all)
}

// batchStats copies the step's per-example losses and logits to the host
// and counts correct predictions.
func (r *run) batchStats(b *data.Batch) ([]float32, int) {
	losses := engine.ToHost(r.b, r.losses.Slice(0, b.N))
	r.hostOut = grow(r.hostOut, b.N*numClasses)
	r.b.CopyOut(r.hostOut, r.logits)
	pred := calib.Argmax(r.hostOut, numClasses)
	return losses, countEqual(pred, b.Labels[:b.N])
}

// measure takes a monitoring sample after the backward pass.
func (r *run) measure(losses []float32) map[string]float64 {
	grads := make([]monitor.Named, len(r.params))
	for i, p := range r.params {
		grads[i] = monitor.Named{Name: p.Name, Tensor: p.Grad}
	}
	var acts []monitor.Named
	if bo, ok := r.net.(BlockOutputs); ok {
		names, outs := bo.BlockOutputs()
		for i, n := range names {
			acts = append(acts, monitor.Named{Name: n, Tensor: outs[i]})
		}
	}
	return r.mon.Measure(grads, acts, losses)
}

// emaUpdate folds the current weights into the EMA shadow on the device.
func (r *run) emaUpdate() {
	t := r.ema.Next()
	for i, p := range r.params {
		r.b.Lerp(t, p.Value, r.emaW[i])
	}
}

// swaAdd folds the current weights into the SWA mean on the device.
func (r *run) swaAdd() {
	t := r.swa.Next()
	for i, p := range r.params {
		r.b.Lerp(t, p.Value, r.swaW[i])
	}
}

// evaluate returns the logits (N×10, loader order) of every image the
// loader serves, seen through view, in inference mode. It fails only when
// ctx ends first.
func (r *run) evaluate(ctx context.Context, l *data.Loader, v calib.View) ([]float32, error) {
	out := make([]float32, 0, l.Len()*numClasses)
	it := l.Eval(ctx)
	defer it.Close()
	for b := it.Next(); b != nil; b = it.Next() {
		imgs := b.Images[:b.N*data.PixelsPerImage]
		if v != (calib.View{}) {
			r.hostBatch = grow(r.hostBatch, len(imgs))
			v.Apply(r.hostBatch, imgs, b.N, data.Channels, data.Height, data.Width)
			imgs = r.hostBatch
		}
		x := r.x.Slice(0, b.N)
		r.b.CopyIn(x, imgs)
		logits := r.net.Forward(x, engine.Eval)
		r.hostOut = grow(r.hostOut, b.N*numClasses)
		r.b.CopyOut(r.hostOut, logits)
		out = append(out, r.hostOut...)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	if len(out) != l.Len()*numClasses {
		return nil, fmt.Errorf("evaluate: %d logits for %d images", len(out)/numClasses, l.Len())
	}
	return out, nil
}

// evaluateTTA averages the logits of every configured view, with the
// views' weights.
func (r *run) evaluateTTA(ctx context.Context, l *data.Loader) ([]float32, error) {
	views := r.c.TTA.Views()
	all := make([][]float32, len(views))
	for i, v := range views {
		var err error
		if all[i], err = r.evaluate(ctx, l, v); err != nil {
			return nil, err
		}
	}
	return calib.WeightedLogits(all, r.c.TTA.Weights()), nil
}

// save writes the model's weights to CheckpointDir/Study/Trial/name.ckpt
// and returns the path; without CheckpointDir it does nothing.
func (r *run) save(name string) (string, error) {
	if r.c.CheckpointDir == "" {
		return "", nil
	}
	dir := filepath.Join(r.c.CheckpointDir, safeName(r.c.Study), safeName(r.c.Trial))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create checkpoint directory: %w", err)
	}
	path := filepath.Join(dir, name+".ckpt")
	if err := saveCheckpoint(r.b, r.net, path); err != nil {
		return "", fmt.Errorf("save %s checkpoint: %w", name, err)
	}
	return path, nil
}

// recoverOOM turns an out-of-memory panic from tensor allocation into the
// run's error; every other panic propagates.
func recoverOOM(err *error) {
	if p := recover(); p != nil {
		if e, ok := p.(error); ok && errors.Is(e, engine.ErrOutOfMemory) {
			*err = fmt.Errorf("train: %w", e)
			return
		}
		panic(p)
	}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

func countEqual(a, b []int32) int {
	n := 0
	for i := range a {
		if a[i] == b[i] {
			n++
		}
	}
	return n
}

// safeName keeps a study or trial name usable as one path element.
func safeName(s string) string {
	if s == "" {
		return "default"
	}
	out := []rune(s)
	for i, c := range out {
		if c == '/' || c == '\\' || c == 0 || (i == 0 && c == '.') {
			out[i] = '_'
		}
	}
	return string(out)
}

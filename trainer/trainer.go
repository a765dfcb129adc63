// Package trainer trains one CIFAR-10 classifier from a [Config]: it loads
// and splits the data, builds the model, runs the epochs, validates after
// each, reports to a pruner, and finishes with the extras a study may ask
// for (weight averages, test-time augmentation, calibration, checkpoints).
//
// Train reads like llm.c's main: set-up, then a loop of forward → loss →
// zero grad → backward → update with a line per epoch. The pieces live in
// sibling packages: engine (tensors, layers, backends), data (reader,
// augmentation, loader), models, optim (optimizers, schedules, averages),
// calib (calibration, TTA, ensembles) and monitor. The trainer does not
// search hyperparameters or store anything: the objective and the caller's
// Hooks do.
package trainer

import (
	"context"
	"fmt"
	"math"
	"time"

	"sweep/trainer/calib"
)

// Train runs configuration c to its budget, or until h.Report asks to stop
// (ErrPruned) or ctx is cancelled. The Result is filled as far as the run
// got, also when an error is returned. Runs are independent: Train may be
// called from several goroutines at once, each with its own backend.
func Train(ctx context.Context, c Config, h Hooks) (res Result, err error) {
	start := time.Now()
	nan := math.NaN()
	res = Result{TestAcc: nan, SWAValAcc: nan, EMAValAcc: nan, TTAValAcc: nan, TestECE: nan}
	if err := c.Validate(); err != nil {
		return res, err
	}
	defer recoverOOM(&err)

	// ───────────────────────────── set-up ─────────────────────────────
	d, err := openData(&c)
	if err != nil {
		return res, err
	}
	r, err := newRun(&c, d, h.Log)
	if err != nil {
		return res, err
	}
	defer r.close()
	res.Params = r.numParams()
	stepsPerEpoch := d.train.Batches()
	sched := c.schedule(stepsPerEpoch)
	total := c.totalSteps(stepsPerEpoch)
	if r.look != nil {
		r.look.Start, r.look.TotalSteps = c.LookaheadStart*stepsPerEpoch, total
	}
	epochs := (total + stepsPerEpoch - 1) / stepsPerEpoch
	r.logf("train %s on %s: %d train / %d val / %d test images, %d steps of %d (%d epochs), %d params\n",
		c.Model, r.b.Name(), d.train.Len(), d.val.Len(), d.test.Len(), total, c.BatchSize, epochs, r.numParams())

	// ───────────────────────────── training loop ──────────────────────
	step, images := 0, 0
	var trainTime time.Duration
	loopStart := time.Now()
	// With a time budget, steps warmup..probeEnd measure the machine (the
	// first steps allocate and are slower); then the run is cut to the
	// epochs that fit, while the schedule is still at its first steps,
	// where every length's curve agrees.
	probeEnd := min(25, stepsPerEpoch/2)
	warmup := probeEnd / 5
	var probeStart time.Time
	probeImages := 0
	for epoch := 1; epoch <= epochs && step < total; epoch++ {
		t0 := time.Now()
		var lossSum float64
		var correct, seen int
		var gradNorms []float64
		lr := 0.0
		r.freezeWhitenBias(epoch)
		it := d.train.Epoch(ctx, epoch-1)
		for b := it.Next(); b != nil && step < total; b = it.Next() {
			lr = sched.LR(step)
			if r.swa != nil && r.swa.Active(epoch) && c.SWALR > 0 {
				lr = c.SWALR
			}
			stepOK := r.forwardBackward(b)  // forward, loss, zero grad, backward
			losses, hits := r.batchStats(b) // per-example losses, correct predictions
			if r.mon.Due(step) {
				m := r.measure(losses)
				gradNorms = append(gradNorms, m["grad_norm"])
				if err := record(h, step+1, prefixed("mon/", m)); err != nil {
					it.Close()
					return res, err
				}
			}
			if stepOK { // false: fp16 overflow, step skipped
				r.opt.Step(lr) // update
			}
			r.lookaheadStep(step + 1)
			if r.ema != nil && r.ema.Due(step) {
				r.emaUpdate()
			}
			for _, l := range losses {
				lossSum += float64(l)
			}
			correct += hits
			seen += b.N
			step++
			switch {
			case c.TimeBudget == 0 || c.Steps > 0 || epoch > 1:
			case step == warmup:
				probeStart, probeImages = time.Now(), seen
			case step == probeEnd:
				perImage := time.Since(probeStart).Seconds() / float64(seen-probeImages)
				n := c.fitBudget(loopStart.Sub(start), perImage, d.train.Len(), d.val.Len(), d.test.Len())
				r.logf("time budget %.0fs: %.0f img/s over steps %d-%d, %d of %d epochs fit\n",
					c.TimeBudget, 1/perImage, warmup, step, n, epochs)
				fit := c
				fit.Epochs = n
				epochs, total, sched = n, fit.totalSteps(stepsPerEpoch), fit.schedule(stepsPerEpoch)
				if r.look != nil {
					r.look.TotalSteps = total
				}
			}
		}
		it.Close()
		if err := it.Err(); err != nil {
			return res, fmt.Errorf("train epoch %d: %w", epoch, err)
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		r.lookaheadSync()
		trainTime += time.Since(t0)
		images += seen
		if r.swa != nil && r.swa.Collects(epoch) {
			r.swaAdd()
		}

		// Validation after every epoch: the study's intermediate value.
		val, err := r.evaluate(ctx, d.val, calib.View{})
		if err != nil {
			return res, err
		}
		valAcc := calib.Accuracy(calib.Argmax(val, numClasses), d.valLabels)
		valLoss := calib.NLL(val, numClasses, d.valLabels, 1)
		res.Epochs, res.Steps, res.RawValAcc = epoch, step, valAcc
		res.ValAcc, res.ValLoss = valAcc, valLoss
		metrics := map[string]float64{
			"train_loss": lossSum / float64(max(seen, 1)),
			"train_acc":  float64(correct) / float64(max(seen, 1)),
			"val_loss":   valLoss,
			"val_acc":    valAcc,
			"lr":         lr,
			"img_per_s":  float64(seen) / time.Since(t0).Seconds(),
			"wall_s":     time.Since(start).Seconds(),
		}
		if len(gradNorms) > 0 {
			metrics["grad_norm"] = mean(gradNorms)
		}
		r.scale.addMetrics(metrics)
		r.logf("epoch %3d/%d  step %6d  lr %.4f  train_loss %.4f  train_acc %.4f  val_loss %.4f  val_acc %.4f  %6.0f img/s  %5.0fs\n",
			epoch, epochs, step, lr, metrics["train_loss"], metrics["train_acc"], valLoss, valAcc, metrics["img_per_s"], metrics["wall_s"])
		if err := record(h, epoch, metrics); err != nil {
			return res, err
		}
		if valAcc > res.BestValAcc || res.BestEpoch == 0 {
			res.BestValAcc, res.BestEpoch = valAcc, epoch
			if res.BestCheckpoint, err = r.save("best"); err != nil {
				return res, err
			}
		}
		if h.Report != nil {
			prune, err := h.Report(epoch, valAcc)
			if err != nil {
				return res, fmt.Errorf("report epoch %d: %w", epoch, err)
			}
			if prune {
				res.Wall = time.Since(start)
				r.logf("pruned after epoch %d\n", epoch)
				return res, ErrPruned
			}
		}
	}
	res.ImgPerSec = float64(images) / trainTime.Seconds()

	// ───────────────────────────── final model ────────────────────────
	if err := r.finish(ctx, d, &res); err != nil {
		return res, err
	}
	res.Wall = time.Since(start)
	r.logf("done: val_acc %.4f  test_acc %.4f  best val %.4f (epoch %d)  %.0f img/s  %.1fs\n",
		res.ValAcc, res.TestAcc, res.BestValAcc, res.BestEpoch, res.ImgPerSec, res.Wall.Seconds())
	return res, nil
}

// fitBudget returns how many epochs (1..c.Epochs) fit c.TimeBudget seconds
// of wall time, given the set-up time before the first step and the
// training time per image measured so far. Evaluation is costed at a third
// of training per image (a forward pass without backward): a validation
// pass per epoch, and the final validation and test passes with every TTA
// view.
func (c *Config) fitBudget(setup time.Duration, perImage float64, trainImages, valImages, testImages int) int {
	eval := perImage / 3
	epoch := perImage*float64(trainImages) + eval*float64(valImages)
	final := eval * float64(valImages+testImages) * float64(len(c.TTA.Views()))
	n := int((c.TimeBudget - setup.Seconds() - final) / epoch)
	return min(max(n, 1), c.Epochs)
}

// numClasses is CIFAR-10's.
const numClasses = 10

func record(h Hooks, step int, m map[string]float64) error {
	if h.Record == nil || len(m) == 0 {
		return nil
	}
	if err := h.Record(step, m); err != nil {
		return fmt.Errorf("record metrics of step %d: %w", step, err)
	}
	return nil
}

func prefixed(p string, m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[p+k] = v
	}
	return out
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

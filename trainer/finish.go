package trainer

import (
	"context"
	"fmt"

	"sweep/trainer/calib"
	"sweep/trainer/data"
	"sweep/trainer/engine"
	"sweep/trainer/optim"
)

// recalBatches is how many training batches re-estimate the batch-norm
// running statistics after averaged weights are loaded. Batch k runs with
// momentum optim.RecalMomentum(k) = 1/(k+1), so the running statistics end
// as the exact mean over these batches, with nothing left of the raw
// weights' statistics.
const recalBatches = 50

// finish turns the trained weights into the final model and measures it:
// the EMA and SWA averages (each after a BN recalibration pass; SWA wins
// when both ran), TTA on validation and test, temperature scaling fitted on
// validation, test accuracy, and the final checkpoint.
func (r *run) finish(ctx context.Context, d *splits, res *Result) error {
	valAcc := func() (float64, error) {
		v, err := r.evaluate(ctx, d.val, calib.View{})
		if err != nil {
			return 0, err
		}
		return calib.Accuracy(calib.Argmax(v, numClasses), d.valLabels), nil
	}
	var err error
	if r.ema != nil && r.ema.N() > 0 {
		if err := r.loadAverage(ctx, d, r.emaW); err != nil {
			return err
		}
		if res.EMAValAcc, err = valAcc(); err != nil {
			return err
		}
		res.ValAcc = res.EMAValAcc
		r.logf("ema: val_acc %.4f (raw %.4f)\n", res.EMAValAcc, res.RawValAcc)
	}
	if r.swa != nil && r.swa.N() > 0 {
		if err := r.loadAverage(ctx, d, r.swaW); err != nil {
			return err
		}
		if res.SWAValAcc, err = valAcc(); err != nil {
			return err
		}
		res.ValAcc = res.SWAValAcc
		r.logf("swa: %d snapshots, val_acc %.4f (raw %.4f)\n", r.swa.N(), res.SWAValAcc, res.RawValAcc)
	}
	val, err := r.evaluateTTA(ctx, d.val)
	if err != nil {
		return err
	}
	if len(r.c.TTA.Views()) > 1 {
		res.TTAValAcc = calib.Accuracy(calib.Argmax(val, numClasses), d.valLabels)
		res.ValAcc = res.TTAValAcc
		r.logf("tta: %d views, val_acc %.4f\n", len(r.c.TTA.Views()), res.TTAValAcc)
	}
	res.ValLoss = calib.NLL(val, numClasses, d.valLabels, 1)
	test, err := r.evaluateTTA(ctx, d.test)
	if err != nil {
		return err
	}
	res.TestAcc = calib.Accuracy(calib.Argmax(test, numClasses), d.testLabels)
	if r.c.Calibrate {
		cal, err := calib.Calibrate(val, numClasses, d.valLabels)
		if err != nil {
			return fmt.Errorf("calibrate: %w", err)
		}
		res.Calibration = &cal
		res.TestECE = calib.ECE(test, numClasses, d.testLabels, cal.Temperature, calib.ECEBins)
		r.logf("calibration: T %.3f  val NLL %.4f → %.4f  val ECE %.4f → %.4f  test ECE %.4f\n",
			cal.Temperature, cal.NLLBefore, cal.NLLAfter, cal.ECEBefore, cal.ECEAfter, res.TestECE)
	}
	res.FinalCheckpoint, err = r.save("final")
	return err
}

// loadAverage copies averaged weights into the model and re-estimates the
// batch-norm running statistics with forward passes over training batches:
// averaged weights never produced the statistics the layers hold.
func (r *run) loadAverage(ctx context.Context, d *splits, avg []engine.Tensor) error {
	for i, p := range r.params {
		r.b.Copy(p.Value, avg[i])
	}
	it := d.train.Epoch(ctx, 1<<20) // a fixed, otherwise unused shuffle
	defer it.Close()
	defer engine.SetBatchNormMomentum(r.net, 0)() // restores the model's own momenta
	for k, b := 0, it.Next(); b != nil && k < recalBatches; k, b = k+1, it.Next() {
		engine.SetBatchNormMomentum(r.net, float32(optim.RecalMomentum(k)))
		x := r.x.Slice(0, b.N)
		r.b.CopyIn(x, b.Images[:b.N*data.PixelsPerImage])
		r.net.Forward(x, engine.Train)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("recalibrate batch norm: %w", err)
	}
	return nil
}

package trainer

import (
	"errors"
	"io"
	"strconv"
	"time"

	"sweep/trainer/calib"
)

// ErrPruned is returned by [Train] when Hooks.Report asked the run to stop.
// The Result returned with it describes the run up to that epoch.
var ErrPruned = errors.New("trainer: run pruned")

// Hooks connect a run to its caller. Every field may be nil.
type Hooks struct {
	// Report receives the validation accuracy after each epoch (from 1) and
	// says whether to stop; Train then returns ErrPruned at once.
	Report func(epoch int, valAcc float64) (prune bool, err error)
	// Record stores named metrics. Per-epoch metrics (train_loss,
	// train_acc, val_loss, val_acc, lr, img_per_s, wall_s, grad_norm) use
	// the epoch as step; monitoring samples use the optimizer step (from 1)
	// and names prefixed "mon/" (mon/grad_norm, mon/act_std/stage1...).
	Record func(step int, metrics map[string]float64) error
	// Log receives one human-readable line per epoch and a summary.
	Log io.Writer
}

// Result summarises a run. Accuracies are fractions in [0,1]. The test
// fields are measured once, after training, for reporting only.
type Result struct {
	ValAcc     float64 // final model (averaged weights when SWA/EMA is on), TTA when configured
	ValLoss    float64
	BestValAcc float64 // best per-epoch validation accuracy of the raw weights
	BestEpoch  int
	TestAcc    float64 // final model on the test set (NaN when not measured)
	Epochs     int     // epochs completed
	Steps      int     // optimizer steps taken
	Wall       time.Duration
	ImgPerSec  float64 // training throughput over the whole run
	Params     int     // trainable parameters of the model (0 when set-up failed)

	RawValAcc float64 // final raw weights, before any average or TTA
	SWAValAcc float64 // NaN unless SWA ran
	EMAValAcc float64 // NaN unless EMA ran
	TTAValAcc float64 // NaN unless TTA ran

	Calibration *calib.Calibration // nil unless Config.Calibrate
	TestECE     float64            // test ECE at the fitted temperature (NaN without calibration)

	BestCheckpoint, FinalCheckpoint string // paths; empty without CheckpointDir
}

// Metrics returns the run's final numbers a multi-objective study or a
// constraint can name: val_acc, test_acc, train_seconds (wall time of the
// whole run), params_m (millions of trainable parameters), and with
// calibration ece (validation ECE at the fitted temperature, the model as
// it would be deployed) and ece_raw (before). Values not measured are
// left out.
func (r Result) Metrics() map[string]float64 {
	m := map[string]float64{}
	put := func(k string, v float64) {
		if v == v {
			m[k] = v
		}
	}
	put("val_acc", r.ValAcc)
	put("test_acc", r.TestAcc)
	put("train_seconds", r.Wall.Seconds())
	if r.Params > 0 {
		m["params_m"] = float64(r.Params) / 1e6
	}
	if c := r.Calibration; c != nil {
		put("ece", c.ECEAfter)
		put("ece_raw", c.ECEBefore)
	}
	return m
}

// Attrs renders the result as trial user attrs (strings, as the store
// keeps them). Values that were not measured are left out.
func (r Result) Attrs() map[string]string {
	a := map[string]string{}
	put := func(k string, v float64) {
		if v == v { // not NaN
			a[k] = strconv.FormatFloat(v, 'g', 6, 64)
		}
	}
	put("test_acc", r.TestAcc)
	put("val_acc", r.ValAcc)
	put("best_val_acc", r.BestValAcc)
	put("raw_val_acc", r.RawValAcc)
	put("swa_val_acc", r.SWAValAcc)
	put("ema_val_acc", r.EMAValAcc)
	put("tta_val_acc", r.TTAValAcc)
	put("wall_s", r.Wall.Seconds())
	put("img_per_s", r.ImgPerSec)
	a["epochs"] = strconv.Itoa(r.Epochs)
	a["steps"] = strconv.Itoa(r.Steps)
	a["best_epoch"] = strconv.Itoa(r.BestEpoch)
	if c := r.Calibration; c != nil {
		put("temperature", c.Temperature)
		put("val_nll_before", c.NLLBefore)
		put("val_nll_after", c.NLLAfter)
		put("val_ece_before", c.ECEBefore)
		put("val_ece_after", c.ECEAfter)
		put("test_ece", r.TestECE)
	}
	if r.BestCheckpoint != "" {
		a["best_checkpoint"] = r.BestCheckpoint
	}
	if r.FinalCheckpoint != "" {
		a["final_checkpoint"] = r.FinalCheckpoint
	}
	return a
}

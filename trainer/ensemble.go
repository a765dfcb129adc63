package trainer

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"

	"sweep/trainer/calib"
	"sweep/trainer/engine"
)

// EnsembleResult scores k checkpoints alone and combined, on the
// validation and test splits. Accuracies are fractions.
type EnsembleResult struct {
	Checkpoints     []string
	ValAcc, TestAcc []float64 // each member alone, in checkpoint order
	ValVote         float64   // majority vote (ties: higher mean probability)
	TestVote        float64
	ValProb         float64 // averaged softmax probabilities
	TestProb        float64
}

// Ensemble loads each checkpoint into configuration c's model (the
// architecture that wrote it) and evaluates it with c's TTA views on the
// validation and test splits, then combines the members by majority vote
// and by probability averaging. Nothing is trained.
func Ensemble(ctx context.Context, c Config, checkpoints []string, log io.Writer) (res EnsembleResult, err error) {
	if len(checkpoints) == 0 {
		return res, fmt.Errorf("%w: ensemble needs at least one checkpoint", ErrConfig)
	}
	if err := c.Validate(); err != nil {
		return res, err
	}
	defer recoverOOM(&err)
	d, err := openData(&c)
	if err != nil {
		return res, err
	}
	r, err := newRun(&c, d, log)
	if err != nil {
		return res, err
	}
	defer r.close()
	state := append(r.net.Params(), engine.Buffers(r.net)...)
	var vals, tests [][]float32
	for _, path := range checkpoints {
		if err := loadCheckpoint(r.b, state, path); err != nil {
			return res, err
		}
		v, err := r.evaluateTTA(ctx, d.val)
		if err != nil {
			return res, err
		}
		t, err := r.evaluateTTA(ctx, d.test)
		if err != nil {
			return res, err
		}
		vals, tests = append(vals, v), append(tests, t)
		res.ValAcc = append(res.ValAcc, calib.Accuracy(calib.Argmax(v, numClasses), d.valLabels))
		res.TestAcc = append(res.TestAcc, calib.Accuracy(calib.Argmax(t, numClasses), d.testLabels))
		r.logf("%s: val_acc %.4f  test_acc %.4f\n", path, res.ValAcc[len(res.ValAcc)-1], res.TestAcc[len(res.TestAcc)-1])
	}
	res.Checkpoints = checkpoints
	res.ValVote = calib.Accuracy(calib.MajorityVote(vals, numClasses), d.valLabels)
	res.TestVote = calib.Accuracy(calib.MajorityVote(tests, numClasses), d.testLabels)
	res.ValProb = calib.Accuracy(calib.Argmax(calib.AverageProbs(vals, numClasses), numClasses), d.valLabels)
	res.TestProb = calib.Accuracy(calib.Argmax(calib.AverageProbs(tests, numClasses), numClasses), d.testLabels)
	r.logf("ensemble of %d: vote val %.4f test %.4f; mean prob val %.4f test %.4f\n",
		len(checkpoints), res.ValVote, res.TestVote, res.ValProb, res.TestProb)
	return res, nil
}

// Attrs renders the ensemble's accuracies as strings, like [Result.Attrs].
func (e EnsembleResult) Attrs() map[string]string {
	f := func(v float64) string { return fmt.Sprintf("%.6g", v) }
	best := math.Inf(-1)
	for _, a := range e.TestAcc {
		best = math.Max(best, a)
	}
	return map[string]string{
		"members":         fmt.Sprint(len(e.Checkpoints)),
		"best_member_acc": f(best),
		"val_vote_acc":    f(e.ValVote),
		"test_vote_acc":   f(e.TestVote),
		"val_prob_acc":    f(e.ValProb),
		"test_prob_acc":   f(e.TestProb),
	}
}

// loadCheckpoint reads path into state (parameters then buffers).
func loadCheckpoint(b engine.Backend, state []*engine.Param, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open checkpoint: %w", err)
	}
	defer f.Close()
	if err := engine.Load(f, b, state); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

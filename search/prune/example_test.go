package prune_test

import (
	"fmt"

	"github.com/c-bata/goptuna"

	"sweep/search/prune"
)

// ASHA records each trial's value at each rung it reaches as a trial system
// attr, exactly once, so every worker compares against the same values.
func ExampleASHA() {
	a, _ := prune.NewASHA(1, 3, 0) // rungs at steps 1, 3, 9, ...
	study, _ := goptuna.CreateStudy("example", goptuna.StudyOptionPruner(a), goptuna.StudyOptionLogger(nil))
	for i, loss := range []float64{0.9, 0.5, 0.7, 0.95} {
		id, _ := study.Storage.CreateNewTrial(study.ID)
		study.Storage.SetTrialIntermediateValue(id, 1, loss)
		t, _ := study.Storage.GetTrial(id)
		stop, _ := a.Prune(study, t)
		attrs, _ := study.Storage.GetTrialSystemAttrs(id)
		fmt.Printf("trial %d loss %.2f: rung 0 = %s, pruned %v\n", i, loss, attrs[prune.RungKeyPrefix+"0"], stop)
	}
	// Output:
	// trial 0 loss 0.90: rung 0 = 0.9, pruned false
	// trial 1 loss 0.50: rung 0 = 0.5, pruned false
	// trial 2 loss 0.70: rung 0 = 0.7, pruned true
	// trial 3 loss 0.95: rung 0 = 0.95, pruned true
}

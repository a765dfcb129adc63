package sampler_test

import (
	"fmt"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
)

// Random draws each trial's values from a stream fixed by the seed, the
// trial number and the param name, so a resumed study or another worker
// reproduces them exactly.
func ExampleRandom() {
	r := sampler.NewRandom(7)
	d := goptuna.IntUniformDistribution{Low: 1, High: 3}
	a, _ := r.Sample(nil, goptuna.FrozenTrial{Number: 5}, "depth", d)
	b, _ := r.Sample(nil, goptuna.FrozenTrial{Number: 5}, "depth", d)
	fmt.Println(a == b, a >= 1 && a <= 3)
	// Output: true true
}

// Grid hands out points in claim order: a retry (marked RetryOfAttr by the
// store) re-runs its failed trial's point and takes none of its own, so
// no point is skipped or run twice.
func ExampleGrid() {
	g, _ := sampler.NewGrid([]map[string]float64{{"bs": 32}, {"bs": 64}, {"bs": 128}})
	study, _ := goptuna.CreateStudy("grid", goptuna.StudyOptionSampler(g), goptuna.StudyOptionLogger(nil))
	d := goptuna.IntUniformDistribution{Low: 32, High: 128}
	for n := range 5 {
		id, _ := study.Storage.CreateNewTrial(study.ID)
		if n == 2 { // trial 2 retries trial 1 with its params
			study.Storage.SetTrialSystemAttr(id, sampler.RetryOfAttr, "1")
			fmt.Print("retry ")
			continue
		}
		trial, _ := study.Storage.GetTrial(id)
		v, _ := g.Sample(study, trial, "bs", d)
		fmt.Print(v, " ")
	}
	fmt.Println()
	// Output: 32 64 retry 128 32
}

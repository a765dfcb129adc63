package tpe_test

import (
	"fmt"
	"math"

	"github.com/c-bata/goptuna"

	"sweep/search/tpe"
)

// A TPE sampler plugs into a goptuna study as its Sampler. Multivariate
// mode draws all params of a trial jointly inside Sample, so no
// RelativeSampler needs registering.
func Example() {
	sampler := tpe.New(tpe.Options{Seed: 42, Multivariate: true})
	study, _ := goptuna.CreateStudy("example",
		goptuna.StudyOptionSampler(sampler),
		goptuna.StudyOptionLogger(nil))
	_ = study.Optimize(func(t goptuna.Trial) (float64, error) {
		x, _ := t.SuggestFloat("x", -5, 5)
		lr, _ := t.SuggestLogFloat("lr", 1e-5, 1)
		return (x-1)*(x-1) + math.Pow(math.Log10(lr)+3, 2), nil
	}, 80)
	best, _ := study.GetBestValue()
	fmt.Println("best below 0.1:", best < 0.1)
	// Output: best below 0.1: true
}

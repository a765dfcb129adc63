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

// Grid gives trial n the point n mod Size, so workers split a grid without
// coordination.
func ExampleGrid() {
	g, _ := sampler.NewGrid([]map[string]float64{{"bs": 32}, {"bs": 64}, {"bs": 128}})
	d := goptuna.IntUniformDistribution{Low: 32, High: 128}
	for n := range 4 {
		v, _ := g.Sample(nil, goptuna.FrozenTrial{Number: n}, "bs", d)
		fmt.Print(v, " ")
	}
	fmt.Println()
	// Output: 32 64 128 32
}

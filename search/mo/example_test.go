package mo_test

import (
	"fmt"

	"sweep/search/mo"
)

// Two objectives: accuracy (maximised) against training seconds
// (minimised). Losses turns both into minimisation; Front, Ranks and
// Hypervolume then work on the losses.
func Example() {
	dirs := []mo.Direction{mo.Maximize, mo.Minimize}
	trials := [][]float64{{0.90, 100}, {0.80, 50}, {0.70, 80}, {0.85, 60}}
	losses := make([][]float64, len(trials))
	for i, t := range trials {
		losses[i] = mo.Losses(t, dirs)
	}
	fmt.Println("front:", mo.Front(losses))
	fmt.Println("ranks:", mo.Ranks(losses, nil))
	// A reference point of accuracy 0.6 and 120 s, as losses.
	fmt.Printf("hypervolume: %.1f\n", mo.Hypervolume(losses, mo.Losses([]float64{0.6, 120}, dirs)))
	// Output:
	// front: [0 1 3]
	// ranks: [0 0 1 0]
	// hypervolume: 18.0
}

package trainer

import (
	"fmt"
	"math"

	"sweep/trainer/data"
)

// Synthetic data sizes when Config.TrainLimit / TestLimit are 0.
const (
	syntheticTrain = 10_000
	syntheticTest  = 2_000
)

// loadSets returns the training and test images of c: the CIFAR-10 files
// in c.DataDir, or with Data "synthetic" generated images (see
// syntheticSet).
func loadSets(c *Config) (train, test *data.Dataset, err error) {
	if c.Data == "synthetic" {
		n, m := c.TrainLimit, c.TestLimit
		if n == 0 {
			n = syntheticTrain
		}
		if m == 0 {
			m = syntheticTest
		}
		return syntheticSet(n, c.Seed, 0), syntheticSet(m, c.Seed, 1), nil
	}
	if train, err = data.LoadTrain(c.DataDir, c.TrainLimit); err != nil {
		return nil, nil, fmt.Errorf("load training set: %w", err)
	}
	if test, err = data.LoadTest(c.DataDir, c.TestLimit); err != nil {
		return nil, nil, fmt.Errorf("load test set: %w", err)
	}
	return train, test, nil
}

// syntheticSet generates n labelled 32×32 RGB images, for runs on machines
// without CIFAR-10 (throughput checks, GPU smoke runs). Each class is a
// fixed plane wave per channel (its own frequency, direction and phase,
// the same for every seed) plus uniform noise of ±48 drawn from
// (seed, part): learnable, so that accuracy well above chance shows that
// training works, yet no stand-in for CIFAR-10's difficulty. Labels cycle
// through the classes. part separates the training (0) and test (1) draws.
func syntheticSet(n int, seed uint64, part uint64) *data.Dataset {
	d := &data.Dataset{Pixels: make([]byte, n*data.PixelsPerImage), Labels: make([]uint8, n)}
	for k := range data.NumClasses {
		d.Classes = append(d.Classes, fmt.Sprintf("wave%d", k))
	}
	templates := make([][]float64, data.NumClasses)
	for k := range templates {
		templates[k] = waveTemplate(k)
	}
	r := data.NewRand(seed ^ (0x5e17e71c + part*0x9e3779b97f4a7c15))
	for i := range n {
		k := i % data.NumClasses
		d.Labels[i] = uint8(k)
		img := d.Image(i)
		for j, v := range templates[k] {
			v += (r.Float64()*2 - 1) * 48
			img[j] = uint8(math.Round(min(max(v, 0), 255)))
		}
	}
	return d
}

// waveTemplate is class k's noiseless image, channel planes in order.
func waveTemplate(k int) []float64 {
	t := make([]float64, data.PixelsPerImage)
	for ch := range data.Channels {
		angle := float64(k)*math.Pi/float64(data.NumClasses) + float64(ch)*0.7
		freq := 0.25 + 0.05*float64((k+ch)%5)
		fx, fy := freq*math.Cos(angle), freq*math.Sin(angle)
		phase := float64(k*3+ch) * 0.9
		for y := range data.Height {
			for x := range data.Width {
				t[(ch*data.Height+y)*data.Width+x] = 128 + 64*math.Sin(fx*float64(x)+fy*float64(y)+phase)
			}
		}
	}
	return t
}

package data

import (
	"fmt"
	"slices"
)

// DefaultValSize is the number of training images held out for validation
// (the classic 45k/5k split of CIFAR-10's 50k training images).
const DefaultValSize = 5000

// SplitConfig chooses the validation split. The zero value is the default:
// 5000 images, stratified, seed 0.
type SplitConfig struct {
	// ValSize is the number of held-out images; 0 means DefaultValSize,
	// or a tenth of the images for slices under 50,000; negative means no
	// validation set.
	ValSize int `yaml:"val_size"`
	// Seed makes the split reproducible. It is separate from the training
	// seed so that trials with different seeds still share one split.
	Seed uint64 `yaml:"seed"`
	// Mode is "stratified" (default: every class keeps its share, so a
	// 5000 split of CIFAR-10 has exactly 500 per class) or "uniform"
	// (a plain random subset).
	Mode string `yaml:"mode"`
}

// Split holds indices into one Dataset. Both lists are sorted ascending and
// disjoint; together they cover every image.
type Split struct {
	Train []int
	Val   []int
}

// NewSplit holds a validation set out of the images labelled by labels.
//
// Stratified mode gives class c round(ValSize·n_c/n) images, fixing rounding
// by largest remainder so that the total is exactly ValSize, then draws each
// class's share uniformly. The same (labels, config) always gives the same
// split, on every machine.
func NewSplit(labels []uint8, cfg SplitConfig) (Split, error) {
	n := len(labels)
	size := cfg.ValSize
	switch {
	case size == 0:
		size = min(DefaultValSize, n/10)
	case size < 0:
		size = 0
	case size >= n:
		return Split{}, fmt.Errorf("split: val_size %d must be smaller than the %d training images", size, n)
	}
	r := NewRand(mix(cfg.Seed, 0x5eed5b117))
	var val []int
	switch cfg.Mode {
	case "", "stratified":
		val = stratified(labels, size, &r)
	case "uniform":
		val = r.Perm(n)[:size]
	default:
		return Split{}, fmt.Errorf("split: unknown mode %q (want stratified or uniform)", cfg.Mode)
	}
	slices.Sort(val)
	inVal := make([]bool, n)
	for _, i := range val {
		inVal[i] = true
	}
	train := make([]int, 0, n-len(val))
	for i := range n {
		if !inVal[i] {
			train = append(train, i)
		}
	}
	return Split{Train: train, Val: val}, nil
}

func stratified(labels []uint8, size int, r *Rand) []int {
	var byClass [256][]int
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	n := len(labels)
	quota := make([]int, 256)
	rem := make([]int, 256) // remainder numerators, for largest-remainder rounding
	got := 0
	for c, idx := range byClass {
		quota[c] = size * len(idx) / n
		rem[c] = size * len(idx) % n
		got += quota[c]
	}
	for ; got < size; got++ {
		best := -1
		for c := range rem {
			if quota[c] < len(byClass[c]) && (best < 0 || rem[c] > rem[best]) {
				best = c
			}
		}
		quota[best]++
		rem[best] = -1
	}
	val := make([]int, 0, size)
	for c, idx := range byClass {
		if quota[c] == 0 {
			continue
		}
		perm := r.Perm(len(idx))
		for _, p := range perm[:quota[c]] {
			val = append(val, idx[p])
		}
	}
	return val
}

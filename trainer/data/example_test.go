package data_test

import (
	"context"
	"fmt"
	"log"

	"sweep/trainer/data"
)

// A training epoch over the 45k/5k split with the classic augmentation at
// half strength, then a pass over the validation images.
func ExampleNewLoader() {
	ctx := context.Background()
	dir := data.ResolveDir("", nil) // --data-dir, else $SWEEP_DATA, else data/cifar10
	ds, err := data.LoadTrain(dir, 0)
	if err != nil {
		log.Fatal(err)
	}
	split, err := data.NewSplit(ds.Labels, data.SplitConfig{}) // 5000, stratified, seed 0
	if err != nil {
		log.Fatal(err)
	}
	pipe, err := data.NewPipeline(data.Classic(0.5))
	if err != nil {
		log.Fatal(err)
	}
	train, err := data.NewLoader(ds, split.Train, pipe, data.LoaderConfig{BatchSize: 256, DropLast: true, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	it := train.Epoch(ctx, 0)
	for b := it.Next(); b != nil; b = it.Next() {
		// b.Images (N×3×32×32) and b.Labels are valid until the next call
		// to Next: copy them to the device here.
		_ = b
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	it.Close()

	val, err := data.NewLoader(ds, split.Val, pipe, data.LoaderConfig{BatchSize: 500})
	if err != nil {
		log.Fatal(err)
	}
	ev := val.Eval(ctx) // in order, normalize only
	defer ev.Close()
	n := 0
	for b := ev.Next(); b != nil; b = ev.Next() {
		n += b.N
	}
	fmt.Println(n, "validation images")
}

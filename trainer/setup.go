package trainer

import (
	"fmt"

	"sweep/trainer/data"
)

// splits holds the three loaders of a run and the labels of the two
// evaluation sets in loader order.
type splits struct {
	train, val, test      *data.Loader
	valLabels, testLabels []int32

	trainSet *data.Dataset
	trainIdx []int
	evalPipe *data.Pipeline
}

// sample returns the first n training images (fewer if the split is
// smaller), normalised but not augmented, NCHW, and their count.
func (s *splits) sample(n int) ([]float32, int) {
	n = min(n, len(s.trainIdx))
	out := make([]float32, n*data.PixelsPerImage)
	for i, idx := range s.trainIdx[:n] {
		s.evalPipe.Eval(out[i*data.PixelsPerImage:(i+1)*data.PixelsPerImage], s.trainSet.Image(idx))
	}
	return out, n
}

// openData loads CIFAR-10, holds the validation split out of the training
// images and builds the loaders: augmented and shuffled for training (short
// last batch dropped), normalised only and in order for evaluation.
func openData(c *Config) (*splits, error) {
	trainSet, testSet, err := loadSets(c) // CIFAR-10 files, or synthetic images
	if err != nil {
		return nil, err
	}
	split, err := data.NewSplit(trainSet.Labels, c.Split)
	if err != nil {
		return nil, fmt.Errorf("split validation set: %w", err)
	}
	if len(split.Val) == 0 || len(split.Train) < c.BatchSize {
		return nil, fmt.Errorf("%w: val_size: %d training and %d validation images cannot train batches of %d",
			ErrConfig, len(split.Train), len(split.Val), c.BatchSize)
	}
	pipe, err := data.NewPipeline(c.Augment)
	if err != nil {
		return nil, fmt.Errorf("%w: augment: %v", ErrConfig, err)
	}
	evalPipe, err := data.NewPipeline(data.Config{Normalize: c.Augment.Normalize})
	if err != nil {
		return nil, fmt.Errorf("%w: augment.normalize: %v", ErrConfig, err)
	}
	lc := data.LoaderConfig{BatchSize: c.BatchSize, Workers: c.Loaders, Seed: c.Seed}
	s := &splits{trainSet: trainSet, trainIdx: split.Train, evalPipe: evalPipe}
	trainCfg := lc
	trainCfg.DropLast = true
	if s.train, err = data.NewLoader(trainSet, split.Train, pipe, trainCfg); err != nil {
		return nil, err
	}
	if s.val, err = data.NewLoader(trainSet, split.Val, evalPipe, lc); err != nil {
		return nil, err
	}
	if s.test, err = data.NewLoader(testSet, nil, evalPipe, lc); err != nil {
		return nil, err
	}
	for _, i := range split.Val {
		s.valLabels = append(s.valLabels, int32(trainSet.Labels[i]))
	}
	for _, l := range testSet.Labels {
		s.testLabels = append(s.testLabels, int32(l))
	}
	return s, nil
}

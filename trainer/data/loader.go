package data

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// Batch is one mini-batch, ready for the trainer.
type Batch struct {
	// Images holds N normalized images, NCHW: N×3×32×32 float32.
	Images []float32
	// Labels holds N class indices.
	Labels []int32
	// Indices holds the N images' positions in the Dataset (for
	// per-example statistics such as hard-example tracking).
	Indices []int32
	// N is the number of images; the last batch of an epoch may be short.
	N int
	// Step is the batch's position in its epoch, from 0.
	Step int
}

// LoaderConfig sets batching and parallelism. The zero value is usable:
// batch 128, one worker per CPU, two batches per worker in flight.
type LoaderConfig struct {
	BatchSize int `yaml:"batch_size"`
	// DropLast drops the short final batch of a training epoch.
	DropLast bool `yaml:"drop_last"`
	// Workers is the number of goroutines preparing batches (0 = GOMAXPROCS).
	Workers int `yaml:"workers"`
	// Prefetch is how many batches may be prepared ahead of the consumer
	// (0 = 2×Workers). It bounds memory: Prefetch+1 batch buffers exist.
	Prefetch int `yaml:"prefetch"`
	// Seed fixes the shuffle and every augmentation draw. Sample i of
	// epoch e always gets the same augmentation, whatever Workers is.
	Seed uint64 `yaml:"seed"`
}

// Loader produces epochs of batches from a subset of a Dataset. It holds no
// per-epoch state, so one Loader may serve several iterators at a time.
type Loader struct {
	ds   *Dataset
	idx  []int
	pipe *Pipeline
	cfg  LoaderConfig
	pool sync.Pool // *Batch buffers of cfg.BatchSize, reused across epochs
}

// NewLoader serves the images of ds listed in idx (nil = all of them),
// transformed by pipe.
func NewLoader(ds *Dataset, idx []int, pipe *Pipeline, cfg LoaderConfig) (*Loader, error) {
	if pipe == nil {
		return nil, fmt.Errorf("loader: nil pipeline")
	}
	if idx == nil {
		idx = make([]int, ds.Len())
		for i := range idx {
			idx[i] = i
		}
	}
	for _, i := range idx {
		if i < 0 || i >= ds.Len() {
			return nil, fmt.Errorf("loader: index %d outside the %d images", i, ds.Len())
		}
	}
	if cfg.BatchSize < 0 || cfg.Workers < 0 || cfg.Prefetch < 0 {
		return nil, fmt.Errorf("loader: batch_size %d, workers %d, prefetch %d must not be negative",
			cfg.BatchSize, cfg.Workers, cfg.Prefetch)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 128
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Prefetch == 0 {
		cfg.Prefetch = 2 * cfg.Workers
	}
	return &Loader{ds: ds, idx: idx, pipe: pipe, cfg: cfg}, nil
}

// Len returns the number of images the loader serves per epoch (before
// DropLast).
func (l *Loader) Len() int { return len(l.idx) }

// Batches returns the number of batches in a training epoch.
func (l *Loader) Batches() int {
	if l.cfg.DropLast {
		return len(l.idx) / l.cfg.BatchSize
	}
	return (len(l.idx) + l.cfg.BatchSize - 1) / l.cfg.BatchSize
}

// Epoch starts training epoch epoch (counted from 0): the images in an
// order shuffled by (Seed, epoch), augmented, DropLast honoured.
func (l *Loader) Epoch(ctx context.Context, epoch int) *Iter {
	r := NewRand(mix(l.cfg.Seed, uint64(epoch)^0x5f0ff1e))
	perm := r.Perm(len(l.idx))
	order := make([]int, len(perm))
	for i, p := range perm {
		order[i] = l.idx[p]
	}
	return l.start(ctx, order, epoch, true, l.cfg.DropLast)
}

// Eval iterates over the images in order with the evaluation transform,
// keeping the final short batch.
func (l *Loader) Eval(ctx context.Context) *Iter {
	return l.start(ctx, l.idx, 0, false, false)
}

// Iter yields one epoch's batches in order. It is used by one goroutine.
// Close must be called (it is safe to call twice, and after the end).
type Iter struct {
	cancel context.CancelFunc
	ctx    context.Context
	ready  chan chan *Batch // per-batch result slots, in batch order
	free   chan *Batch
	last   *Batch
	pool   *sync.Pool // the Loader's, to return buffers to; nil once closed
	wg     sync.WaitGroup
	err    error
}

type job struct {
	b     *Batch
	order []int
	out   chan *Batch
}

func (l *Loader) start(parent context.Context, order []int, epoch int, train, dropLast bool) *Iter {
	ctx, cancel := context.WithCancel(parent)
	it := &Iter{
		cancel: cancel,
		ctx:    ctx,
		ready:  make(chan chan *Batch, l.cfg.Prefetch+1),
		free:   make(chan *Batch, l.cfg.Prefetch+1),
		pool:   &l.pool,
	}
	bs := l.cfg.BatchSize
	for range l.cfg.Prefetch + 1 {
		b, _ := l.pool.Get().(*Batch)
		if b == nil {
			b = &Batch{
				Images:  make([]float32, bs*PixelsPerImage),
				Labels:  make([]int32, bs),
				Indices: make([]int32, bs),
			}
		}
		it.free <- b
	}
	jobs := make(chan job)
	it.wg.Add(1 + l.cfg.Workers)
	go func() { // dispatcher: hands out batches in order, bounded by free buffers
		defer it.wg.Done()
		defer close(jobs)
		defer close(it.ready)
		n := len(order)
		if dropLast {
			n -= n % bs
		}
		for step, lo := 0, 0; lo < n; step, lo = step+1, lo+bs {
			var b *Batch
			select {
			case b = <-it.free:
			case <-ctx.Done():
				return
			}
			b.Step = step
			j := job{b: b, order: order[lo:min(lo+bs, n)], out: make(chan *Batch, 1)}
			select {
			case jobs <- j:
			case <-ctx.Done():
				it.free <- b // room is guaranteed: b came from there
				return
			}
			it.ready <- j.out // cannot block: it holds as many slots as there are buffers
		}
	}()
	for range l.cfg.Workers {
		go func() {
			defer it.wg.Done()
			var s Scratch
			for j := range jobs {
				l.fill(ctx, j, epoch, train, &s)
				j.out <- j.b
			}
		}()
	}
	return it
}

// fill prepares one batch; it stops early, leaving junk, if ctx is done.
func (l *Loader) fill(ctx context.Context, j job, epoch int, train bool, s *Scratch) {
	b := j.b
	b.N = len(j.order)
	b.Images, b.Labels, b.Indices = b.Images[:b.N*PixelsPerImage], b.Labels[:b.N], b.Indices[:b.N]
	for k, i := range j.order {
		if k%32 == 0 && ctx.Err() != nil {
			return
		}
		dst := b.Images[k*PixelsPerImage : (k+1)*PixelsPerImage]
		if train {
			l.pipe.TrainSample(dst, l.ds.Image(i), l.cfg.Seed, epoch, i, s)
		} else {
			l.pipe.Eval(dst, l.ds.Image(i))
		}
		b.Labels[k] = int32(l.ds.Labels[i])
		b.Indices[k] = int32(i)
	}
}

// Next returns the next batch, or nil at the end of the epoch or when the
// context is cancelled (then Err says why). The returned Batch and its
// slices are valid only until the following call to Next or Close, which
// recycle its memory; copy what must outlive that.
func (it *Iter) Next() *Batch {
	if it.last != nil {
		it.free <- it.last // never blocks: the pool has room for every buffer
		it.last = nil
	}
	if it.err != nil {
		return nil
	}
	select {
	case slot, ok := <-it.ready:
		if !ok {
			it.err = it.ctx.Err()
			return nil
		}
		select {
		case b := <-slot:
			if err := it.ctx.Err(); err != nil {
				it.err = err
				return nil
			}
			it.last = b
			return b
		case <-it.ctx.Done():
		}
	case <-it.ctx.Done():
	}
	it.err = it.ctx.Err()
	return nil
}

// Err returns the context's error if the epoch was cut short, else nil.
func (it *Iter) Err() error { return it.err }

// Close stops the workers, waits for them and returns the batch buffers to
// the Loader for the next epoch. The last Batch returned is invalid after.
func (it *Iter) Close() {
	it.cancel()
	it.wg.Wait()
	if it.pool == nil {
		return
	}
	put := func(b *Batch) { it.pool.Put(b) }
	if it.last != nil {
		put(it.last)
		it.last = nil
	}
	for slot := range it.ready { // closed by the dispatcher; every slot is filled
		put(<-slot)
	}
	for {
		select {
		case b := <-it.free:
			put(b)
		default:
			it.pool = nil
			return
		}
	}
}

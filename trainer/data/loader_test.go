package data

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// collect runs one iterator to the end and copies out its batches.
func collect(tb testing.TB, it *Iter) (images []float32, labels, indices []int32, sizes []int) {
	tb.Helper()
	defer it.Close()
	for b := it.Next(); b != nil; b = it.Next() {
		if len(b.Images) != b.N*PixelsPerImage || len(b.Labels) != b.N || b.Step != len(sizes) {
			tb.Fatalf("batch %d: N %d with %d floats, %d labels, step %d", len(sizes), b.N, len(b.Images), len(b.Labels), b.Step)
		}
		images = append(images, b.Images...)
		labels = append(labels, b.Labels...)
		indices = append(indices, b.Indices...)
		sizes = append(sizes, b.N)
	}
	if err := it.Err(); err != nil {
		tb.Fatal(err)
	}
	return images, labels, indices, sizes
}

func TestLoader_Epoch(t *testing.T) {
	ds := loadSlice(t, 1000)
	split, err := NewSplit(ds.Labels[:300], SplitConfig{ValSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	pipe := mustPipeline(t, Classic(1))
	var ref []float32
	var refIdx []int32
	for _, w := range []struct{ workers, prefetch int }{{1, 1}, {2, 0}, {3, 7}, {8, 2}} {
		t.Run(fmt.Sprintf("Workers%dPrefetch%d", w.workers, w.prefetch), func(t *testing.T) {
			l, err := NewLoader(ds, split.Train, pipe, LoaderConfig{BatchSize: 32, Workers: w.workers, Prefetch: w.prefetch, Seed: 42})
			if err != nil {
				t.Fatal(err)
			}
			imgs, labels, idx, sizes := collect(t, l.Epoch(context.Background(), 3))
			if len(sizes) != 8 || sizes[7] != 250-7*32 {
				t.Fatalf("batch sizes %v, want 7×32 then 26", sizes)
			}
			for k, i := range idx {
				if labels[k] != int32(ds.Labels[i]) {
					t.Fatalf("label %d of image %d = %d, want %d", k, i, labels[k], ds.Labels[i])
				}
			}
			got := slices.Clone(idx)
			slices.Sort(got)
			for k, i := range split.Train {
				if got[k] != int32(i) {
					t.Fatalf("epoch does not visit every training image exactly once")
				}
			}
			if ref == nil {
				ref, refIdx = imgs, idx
				return
			}
			if !slices.Equal(idx, refIdx) || !slices.Equal(imgs, ref) {
				t.Fatal("batches differ from the 1-worker run")
			}
		})
	}
}

func TestLoader_EpochsDiffer(t *testing.T) {
	ds := loadSlice(t, 1000)
	l, err := NewLoader(ds, nil, mustPipeline(t, Classic(1)), LoaderConfig{BatchSize: 100, DropLast: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, _, a, sizes := collect(t, l.Epoch(context.Background(), 0))
	_, _, b, _ := collect(t, l.Epoch(context.Background(), 1))
	_, _, a2, _ := collect(t, l.Epoch(context.Background(), 0))
	if slices.Equal(a, b) {
		t.Error("epochs 0 and 1 have the same order")
	}
	if !slices.Equal(a, a2) {
		t.Error("epoch 0 twice gave different orders")
	}
	if len(sizes) != 10 || l.Batches() != 10 {
		t.Errorf("%d batches (Batches() = %d), want 10", len(sizes), l.Batches())
	}
}

func TestLoader_DropLast(t *testing.T) {
	ds := loadSlice(t, 1000)
	empty, err := NewLoader(ds, []int{}, mustPipeline(t, Config{}), LoaderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, sizes := collect(t, empty.Epoch(context.Background(), 0)); len(sizes) != 0 {
		t.Errorf("empty index list gave batches %v", sizes)
	}
	idx := make([]int, 70)
	for i := range idx {
		idx[i] = i
	}
	l, err := NewLoader(ds, idx, mustPipeline(t, Config{}), LoaderConfig{BatchSize: 32, DropLast: true})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, sizes := collect(t, l.Epoch(context.Background(), 0))
	if !slices.Equal(sizes, []int{32, 32}) || l.Batches() != 2 {
		t.Errorf("drop_last sizes %v, Batches %d; want [32 32], 2", sizes, l.Batches())
	}
	_, _, _, sizes = collect(t, l.Eval(context.Background()))
	if !slices.Equal(sizes, []int{32, 32, 6}) {
		t.Errorf("eval sizes %v, want [32 32 6]", sizes)
	}
}

func TestLoader_Eval(t *testing.T) {
	ds := loadSlice(t, 1000)
	pipe := mustPipeline(t, Classic(1))
	idx := []int{5, 3, 900, 7}
	l, err := NewLoader(ds, idx, pipe, LoaderConfig{BatchSize: 3, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	imgs, _, got, _ := collect(t, l.Eval(context.Background()))
	want := make([]float32, PixelsPerImage)
	for k, i := range idx {
		if got[k] != int32(i) {
			t.Fatalf("eval order %v, want %v", got, idx)
		}
		pipe.Eval(want, ds.Image(i))
		if !slices.Equal(imgs[k*PixelsPerImage:(k+1)*PixelsPerImage], want) {
			t.Fatalf("eval image %d is not the deterministic transform", i)
		}
	}
}

func TestLoader_Cancel(t *testing.T) {
	ds := loadSlice(t, 1000)
	l, err := NewLoader(ds, nil, mustPipeline(t, Classic(1)), LoaderConfig{BatchSize: 10, Workers: 2, Prefetch: 2})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	it := l.Epoch(ctx, 0)
	if it.Next() == nil {
		t.Fatal(it.Err())
	}
	cancel()
	n := 0
	for it.Next() != nil {
		n++
	}
	if !errors.Is(it.Err(), context.Canceled) || n > 3 {
		t.Errorf("after cancel: %d more batches, Err = %v", n, it.Err())
	}
	it.Close()
	it.Close()

	// Closing early without cancelling must not leak the workers either.
	it = l.Epoch(context.Background(), 1)
	it.Next()
	it.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after Close, %d before", g, before)
	}
}

func TestNewLoader_BadIndex(t *testing.T) {
	ds := loadSlice(t, 1000)
	if _, err := NewLoader(ds, []int{1000}, mustPipeline(t, Config{}), LoaderConfig{}); err == nil {
		t.Error("index past the end accepted")
	}
}

// BenchmarkPipeline measures the full classic pipeline (strength 1) on one
// goroutine, and the loader with all CPUs, in images per second.
func BenchmarkPipeline(b *testing.B) {
	ds := loadSlice(b, 1000)
	for _, s := range []float64{0, 1} {
		b.Run(fmt.Sprintf("Classic%g", s), func(b *testing.B) {
			pipe := mustPipeline(b, Classic(s))
			dst := make([]float32, PixelsPerImage)
			var sc Scratch
			for i := 0; b.Loop(); i++ {
				r := SampleRand(1, 0, i)
				pipe.Train(dst, ds.Image(i%1000), &r, &sc)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
	b.Run("Cheap1", func(b *testing.B) {
		pipe := mustPipeline(b, Cheap(1))
		dst := make([]float32, PixelsPerImage)
		var sc Scratch
		for i := 0; b.Loop(); i++ {
			r := SampleRand(1, 0, i)
			pipe.Train(dst, ds.Image(i%1000), &r, &sc)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
	})
}

// BenchmarkLoader measures epochs of 1000 images through the loader with
// the classic pipeline at strength 1, batch 128, with 1 worker and with
// GOMAXPROCS workers (the default), in images per second.
func BenchmarkLoader(b *testing.B) {
	ds := loadSlice(b, 1000)
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("Workers%d", workers), func(b *testing.B) {
			l, err := NewLoader(ds, nil, mustPipeline(b, Classic(1)), LoaderConfig{BatchSize: 128, Workers: workers})
			if err != nil {
				b.Fatal(err)
			}
			images := 0
			for epoch := 0; b.Loop(); epoch++ {
				it := l.Epoch(context.Background(), epoch)
				for batch := it.Next(); batch != nil; batch = it.Next() {
					images += batch.N
				}
				it.Close()
			}
			b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

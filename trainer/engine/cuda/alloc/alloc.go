// Package alloc is a caching device-memory allocator. cuMemAlloc and
// cuMemFree synchronise the device and cost tens of microseconds, so freed
// blocks go to per-size-class free lists and are handed out again; a
// training step that allocates the same shapes every time allocates from
// the device only during its first step.
//
// It knows nothing about CUDA: it sits on a Raw allocator (the driver's, or
// a fake in tests) and hands out addresses.
package alloc

import (
	"errors"
	"fmt"
	"sync"
)

// Raw allocates and frees device memory.
type Raw interface {
	Alloc(n int64) (uintptr, error)
	Free(p uintptr) error
}

// Stats counts the cache's activity. Bytes are rounded block sizes.
type Stats struct {
	Allocs      int64 // Alloc calls
	Hits        int64 // served from a free list
	Misses      int64 // served by Raw
	Frees       int64 // Free calls
	Trims       int64 // times the cache was emptied to retry a failed Raw.Alloc
	LiveBytes   int64 // handed out and not freed
	CachedBytes int64 // on free lists
	PeakBytes   int64 // max of LiveBytes + CachedBytes: what the device held
}

// Cache is a caching allocator. It is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	raw   Raw
	free  map[int64][]uintptr // size class → blocks
	live  map[uintptr]int64   // block → size class
	stats Stats
}

// New returns a cache over raw.
func New(raw Raw) *Cache {
	return &Cache{raw: raw, free: map[int64][]uintptr{}, live: map[uintptr]int64{}}
}

// Class rounds n bytes up to its size class: multiples of 512 bytes up to
// 1 MiB, then four classes per power of two (at most 25% waste).
func Class(n int64) int64 {
	if n <= 0 {
		return 512
	}
	if n <= 1<<20 {
		return (n + 511) &^ 511
	}
	p := int64(1 << 20)
	for p < n {
		p <<= 1
	}
	step := p / 8 // classes p/2 + k·p/8 for k = 1..4
	return (n + step - 1) / step * step
}

// Alloc returns a block of at least n bytes. When Raw runs out of memory it
// frees every cached block and tries once more.
func (c *Cache) Alloc(n int64) (uintptr, error) {
	size := Class(n)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Allocs++
	if l := c.free[size]; len(l) > 0 {
		p := l[len(l)-1]
		c.free[size] = l[:len(l)-1]
		c.live[p] = size
		c.stats.Hits++
		c.stats.CachedBytes -= size
		c.stats.LiveBytes += size
		return p, nil
	}
	p, err := c.raw.Alloc(size)
	if err != nil && c.stats.CachedBytes > 0 {
		c.stats.Trims++
		if terr := c.trimLocked(); terr != nil {
			return 0, errors.Join(err, terr)
		}
		p, err = c.raw.Alloc(size)
	}
	if err != nil {
		return 0, fmt.Errorf("allocate %d bytes (%d live, %d cached): %w", size, c.stats.LiveBytes, c.stats.CachedBytes, err)
	}
	c.stats.Misses++
	c.live[p] = size
	c.stats.LiveBytes += size
	c.stats.PeakBytes = max(c.stats.PeakBytes, c.stats.LiveBytes+c.stats.CachedBytes)
	return p, nil
}

// Free returns a block to its free list. Freeing 0 is a no-op; freeing an
// address the cache did not hand out panics (a double free).
func (c *Cache) Free(p uintptr) {
	if p == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	size, ok := c.live[p]
	if !ok {
		panic(fmt.Sprintf("alloc: free of unknown block %#x (double free?)", p))
	}
	delete(c.live, p)
	c.free[size] = append(c.free[size], p)
	c.stats.Frees++
	c.stats.LiveBytes -= size
	c.stats.CachedBytes += size
}

// Trim returns every cached block to Raw.
func (c *Cache) Trim() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trimLocked()
}

func (c *Cache) trimLocked() error {
	var errs []error
	for size, l := range c.free {
		for _, p := range l {
			if err := c.raw.Free(p); err != nil {
				errs = append(errs, err)
			}
			c.stats.CachedBytes -= size
		}
		delete(c.free, size)
	}
	return errors.Join(errs...)
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

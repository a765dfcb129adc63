package alloc

import (
	"errors"
	"testing"
)

// fakeRaw hands out increasing addresses and fails beyond capacity bytes.
type fakeRaw struct {
	next, used, capacity int64
	blocks               map[uintptr]int64
	allocs, frees        int
}

var errFakeOOM = errors.New("fake: out of memory")

func newFakeRaw(capacity int64) *fakeRaw {
	return &fakeRaw{next: 1 << 20, capacity: capacity, blocks: map[uintptr]int64{}}
}

func (f *fakeRaw) Alloc(n int64) (uintptr, error) {
	if f.used+n > f.capacity {
		return 0, errFakeOOM
	}
	p := uintptr(f.next)
	f.next += n
	f.used += n
	f.blocks[p] = n
	f.allocs++
	return p, nil
}

func (f *fakeRaw) Free(p uintptr) error {
	n, ok := f.blocks[p]
	if !ok {
		return errors.New("fake: bad free")
	}
	delete(f.blocks, p)
	f.used -= n
	f.frees++
	return nil
}

func TestClass(t *testing.T) {
	for n, want := range map[int64]int64{
		0: 512, 1: 512, 512: 512, 513: 1024, 1 << 20: 1 << 20,
		1<<20 + 1: 1<<20 + 1<<18, 3 << 20: 3 << 20, 5<<20 + 1: 6 << 20, 100 << 20: 112 << 20,
	} {
		if got := Class(n); got != want {
			t.Errorf("Class(%d) = %d, want %d", n, got, want)
		}
		if got := Class(n); got < n || (n > 1<<20 && float64(got) > 1.25*float64(n)) {
			t.Errorf("Class(%d) = %d wastes too much", n, got)
		}
	}
}

func TestCache_Reuse(t *testing.T) {
	raw := newFakeRaw(1 << 30)
	c := New(raw)
	// Two "training steps" allocating the same sizes: the second hits.
	sizes := []int64{4096, 1000, 4096, 3 << 20}
	for step := 0; step < 2; step++ {
		var ps []uintptr
		for _, n := range sizes {
			p, err := c.Alloc(n)
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		for _, p := range ps {
			c.Free(p)
		}
	}
	s := c.Stats()
	if raw.allocs != 4 || s.Misses != 4 || s.Hits != 4 || s.Allocs != 8 || s.Frees != 8 {
		t.Fatalf("raw allocs %d, stats %+v; want 4 misses then 4 hits", raw.allocs, s)
	}
	want := int64(4096 + 1024 + 4096 + 3<<20)
	if s.LiveBytes != 0 || s.CachedBytes != want || s.PeakBytes != want {
		t.Fatalf("bytes %+v, want cached = peak = %d", s, want)
	}
	if err := c.Trim(); err != nil || raw.used != 0 || c.Stats().CachedBytes != 0 {
		t.Fatalf("Trim: %v, raw still holds %d", err, raw.used)
	}
}

func TestCache_TrimAndRetryOnOOM(t *testing.T) {
	raw := newFakeRaw(8 << 20)
	c := New(raw)
	p, _ := c.Alloc(6 << 20)
	c.Free(p) // 6 MiB cached, 2 MiB left on the "device"
	q, err := c.Alloc(4 << 20)
	if err != nil {
		t.Fatalf("Alloc after trim: %v", err)
	}
	if s := c.Stats(); s.Trims != 1 || s.CachedBytes != 0 || s.LiveBytes != 4<<20 {
		t.Fatalf("stats %+v", s)
	}
	_, err = c.Alloc(16 << 20)
	if !errors.Is(err, errFakeOOM) {
		t.Fatalf("err = %v, want the raw allocator's OOM wrapped", err)
	}
	c.Free(q)
}

func TestCache_DoubleFreePanics(t *testing.T) {
	c := New(newFakeRaw(1 << 20))
	p, _ := c.Alloc(10)
	c.Free(p)
	defer func() {
		if recover() == nil {
			t.Fatal("double free did not panic")
		}
	}()
	c.Free(p)
}

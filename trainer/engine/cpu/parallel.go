package cpu

import "sync"

// task is one parallel kernel: run handles items [lo, hi). Kernels are
// small structs preallocated in the Backend and passed as pointers, so a
// parallel call allocates nothing (a closure handed to other goroutines
// would escape to the heap on every call).
type task interface {
	run(lo, hi int)
}

// job is one slice of a task sent to a worker.
type job struct {
	t      task
	lo, hi int
}

// pool is a fixed set of worker goroutines owned by one Backend. Work is
// split into contiguous ranges fixed by n and the grain alone, never by
// timing, so a kernel that reduces within a range is deterministic.
type pool struct {
	workers int
	jobs    chan job
	wg      sync.WaitGroup
}

func newPool(workers int) *pool {
	p := &pool{workers: workers, jobs: make(chan job, 4*workers)}
	for i := 1; i < workers; i++ {
		go p.loop()
	}
	return p
}

func (p *pool) loop() {
	for j := range p.jobs {
		j.t.run(j.lo, j.hi)
		p.wg.Done()
	}
}

// close stops the workers; the pool must be idle.
func (p *pool) close() { close(p.jobs) }

// For runs t over [0, n) in at most 4·workers pieces of at least grain
// items. The calling goroutine takes the first piece itself and then helps
// the workers with the queued ones: before it did, it waited after one
// piece, and with two threads the one worker ran 3/4 to 7/8 of every
// kernel alone. Which goroutine runs a piece never changes its result.
func (p *pool) For(n, grain int, t task) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	pieces := n / grain
	if pieces > 4*p.workers {
		pieces = 4 * p.workers
	}
	if p.workers == 1 || pieces <= 1 {
		t.run(0, n)
		return
	}
	step := (n + pieces - 1) / pieces
	p.wg.Add((n+step-1)/step - 1)
	for lo := step; lo < n; lo += step {
		p.jobs <- job{t, lo, min(lo+step, n)}
	}
	t.run(0, min(step, n))
	for p.help() {
	}
	p.wg.Wait()
}

// help runs one queued piece, if any, and reports whether it did. Only the
// goroutine inside For calls it, so the queue holds that call's pieces.
func (p *pool) help() bool {
	select {
	case j := <-p.jobs:
		j.t.run(j.lo, j.hi)
		p.wg.Done()
		return true
	default:
		return false
	}
}

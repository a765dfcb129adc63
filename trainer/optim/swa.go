package optim

import "fmt"

// SWA is stochastic weight averaging (Izmailov et al. 2018, "Averaging Weights
// Leads to Wider Optima"): from StartEpoch on, the weights at the end of
// every Every-th epoch enter an equal-weight running average, and the
// averaged weights are evaluated after a BN recalibration pass (see
// [RecalMomentum]), because averaged weights never produced the running
// statistics the batch-norm layers hold.
//
// SWA works on host copies of the parameters (one []float32 per tensor, in
// registry order), so it does not depend on the backend. It is not safe for
// concurrent use.
type SWA struct {
	StartEpoch int     // first epoch (counted from 1) whose weights are averaged
	Every      int     // average every Every epochs from StartEpoch; 0 = 1
	LR         float64 // constant learning rate from StartEpoch on; 0 = keep the schedule

	n    int
	mean [][]float32
}

// Collects reports whether the weights at the end of epoch (from 1) enter
// the average.
func (s *SWA) Collects(epoch int) bool {
	every := max(s.Every, 1)
	return s.StartEpoch > 0 && epoch >= s.StartEpoch && (epoch-s.StartEpoch)%every == 0
}

// Active reports whether epoch (from 1) runs in the SWA phase, where the
// trainer holds the learning rate at LR when LR is set.
func (s *SWA) Active(epoch int) bool { return s.StartEpoch > 0 && epoch >= s.StartEpoch }

// Next counts one more snapshot and returns the interpolation weight t that
// folds it into the mean, mean += t·(x − mean), t = 1/n. The trainer applies
// it with the backend's Lerp on device copies; t = 1 for the first snapshot
// turns Lerp into a copy. Add does the same on host slices.
func (s *SWA) Next() float32 {
	s.n++
	return 1 / float32(s.n)
}

// Add folds one host snapshot into the running mean (see [SWA.Next]). The
// snapshot is copied; the caller may reuse its slices.
func (s *SWA) Add(snapshot [][]float32) {
	s.mean = lerpHost(s.mean, snapshot, s.Next(), "SWA")
}

// N returns how many snapshots the average holds.
func (s *SWA) N() int { return s.n }

// Average returns the averaged weights (owned by s; nil before the first
// Add). They stay valid until the next Add.
func (s *SWA) Average() [][]float32 { return s.mean }

// RecalMomentum returns the batch-norm momentum for recalibration batch k
// (from 0) that makes the running statistics the plain mean of all batch
// statistics seen so far, with the PyTorch convention
// running = (1-m)·running + m·batch. Batch 0 gets m = 1, which discards the
// stale statistics; so no separate reset is needed.
func RecalMomentum(k int) float64 { return 1 / float64(k+1) }

// lerpHost applies dst += t·(src − dst) tensor by tensor, allocating dst
// (zeroed, so that t = 1 copies) on first use.
func lerpHost(dst, src [][]float32, t float32, who string) [][]float32 {
	if dst == nil {
		dst = make([][]float32, len(src))
		for i, p := range src {
			dst[i] = make([]float32, len(p))
		}
	}
	if len(src) != len(dst) {
		panic(fmt.Sprintf("optim: %s got %d tensors, average has %d", who, len(src), len(dst)))
	}
	for i, p := range src {
		d := dst[i]
		if len(p) != len(d) {
			panic(fmt.Sprintf("optim: %s tensor %d has %d values, average has %d", who, i, len(p), len(d)))
		}
		for j, x := range p {
			d[j] += t * (x - d[j])
		}
	}
	return dst
}

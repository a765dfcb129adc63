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

// Add folds one snapshot into the running mean: mean += (x - mean)/n. The
// snapshot is copied; the caller may reuse its slices.
func (s *SWA) Add(snapshot [][]float32) {
	if s.mean == nil {
		s.mean = make([][]float32, len(snapshot))
		for i, p := range snapshot {
			s.mean[i] = make([]float32, len(p))
		}
	}
	if len(snapshot) != len(s.mean) {
		panic(fmt.Sprintf("optim: SWA snapshot has %d tensors, average has %d", len(snapshot), len(s.mean)))
	}
	s.n++
	inv := 1 / float32(s.n)
	for i, p := range snapshot {
		m := s.mean[i]
		if len(p) != len(m) {
			panic(fmt.Sprintf("optim: SWA tensor %d has %d values, average has %d", i, len(p), len(m)))
		}
		for j, x := range p {
			m[j] += (x - m[j]) * inv
		}
	}
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

package optim

import "math"

// Lookahead is airbench94's LookaheadState: a slow copy of the weights that
// the fast (trained) weights are pulled back to. Every Every optimizer
// steps after the first Start, the slow copy moves towards the fast
// weights, slow += (1−ρ)·(fast − slow), and the fast weights are then reset
// to it; the first such step only snapshots. ρ grows over the run,
// ρ = DecayBase^Every · (done/TotalSteps)^DecayPow (done = steps so far),
// so the copy follows closely early on and averages strongly at the end.
// At each epoch's end the trainer resets the fast weights to the slow copy
// once more, so every evaluation and the final model see the slow weights.
// Unlike [EMA], it changes the training trajectory.
//
// The trainer applies [Lookahead.Next]'s weight with the backend's Lerp and
// Copy on device tensors (weights and batch-norm statistics, as airbench
// does with its state dict); [Lookahead.Update] does the same on host
// slices. Not safe for concurrent use.
type Lookahead struct {
	Start      int     // steps before the first snapshot (airbench: 3 epochs)
	Every      int     // steps between updates; 0 = 5
	DecayBase  float64 // per-step decay base; 0 = 0.95
	DecayPow   float64 // growth of ρ with progress; 0 = 3
	TotalSteps int     // the run's length in steps

	n    int
	slow [][]float32
}

// Due reports whether the update after done optimizer steps (counted from
// 1, this step included) is a lookahead step.
func (l *Lookahead) Due(done int) bool {
	return done > l.Start && done%l.every() == 0
}

// Next counts one more lookahead step at done optimizer steps and returns
// the interpolation weight t = 1 − ρ that moves the slow weights towards
// the fast ones; the first call returns 1 (a snapshot).
func (l *Lookahead) Next(done int) float32 {
	l.n++
	if l.n == 1 {
		return 1
	}
	base, pow := l.DecayBase, l.DecayPow
	if base == 0 {
		base = 0.95
	}
	if pow == 0 {
		pow = 3
	}
	rho := math.Pow(base, float64(l.every())) * math.Pow(float64(done)/float64(max(l.TotalSteps, 1)), pow)
	return float32(1 - min(rho, 1))
}

// N returns how many lookahead steps have run; 0 means the fast weights
// are still untouched.
func (l *Lookahead) N() int { return l.n }

// Update runs one lookahead step on host weights at done optimizer steps:
// the slow copy moves towards weights (see [Lookahead.Next]) and weights
// are overwritten with it.
func (l *Lookahead) Update(weights [][]float32, done int) {
	l.slow = lerpHost(l.slow, weights, l.Next(done), "Lookahead")
	for i, w := range weights {
		copy(w, l.slow[i])
	}
}

func (l *Lookahead) every() int {
	if l.Every <= 0 {
		return 5
	}
	return l.Every
}

package optim

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Schedule kinds accepted by [Schedule.Kind].
const (
	Constant  = "constant"
	Step      = "step"
	MultiStep = "multistep"
	Cosine    = "cosine"
	OneCycle  = "onecycle"
	Linear    = "linear"
)

// ErrSchedule is wrapped by every schedule validation error.
var ErrSchedule = errors.New("optim: bad schedule")

// Schedule is a learning-rate schedule: a pure function of the optimizer
// step, so a resumed or replayed run gets exactly the same rates. All step
// counts are optimizer steps (batches), not epochs; the trainer converts
// epoch-based settings with its steps per epoch before building one.
//
// The zero value of each optional field picks the usual default, noted on
// the field. Every kind except onecycle honours WarmupSteps: a linear ramp
// from 0 to BaseLR over the first WarmupSteps steps, after which the kind's
// own curve starts (cosine and linear decay then span the remaining steps).
type Schedule struct {
	Kind        string  // one of the kind constants; "" means constant
	BaseLR      float64 // peak learning rate (onecycle: max_lr)
	TotalSteps  int     // run length in steps; needed by cosine, onecycle, linear
	WarmupSteps int     // linear warmup length; 0 = none

	StepSize   int     // step: decay every StepSize steps
	Gamma      float64 // step, multistep: decay factor; 0 = 0.1
	Milestones []int   // multistep: steps at which LR is multiplied by Gamma

	MinLR float64 // cosine, linear: final learning rate; 0 = decay to 0

	PctStart       float64 // onecycle: share of steps spent rising; 0 = 0.3
	DivFactor      float64 // onecycle: initial LR = BaseLR/DivFactor; 0 = 25
	FinalDivFactor float64 // onecycle: final LR = initial/FinalDivFactor; 0 = 1e4
}

// Validate reports a setting the schedule cannot run with.
func (s Schedule) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrSchedule, fmt.Sprintf(format, a...))
	}
	switch {
	case !(s.BaseLR > 0) || math.IsInf(s.BaseLR, 0):
		return bad("base lr %g must be positive", s.BaseLR)
	case s.WarmupSteps < 0:
		return bad("warmup steps %d must not be negative", s.WarmupSteps)
	case s.MinLR < 0 || s.MinLR > s.BaseLR:
		return bad("min lr %g must lie in [0, base lr %g]", s.MinLR, s.BaseLR)
	case s.Gamma < 0 || s.Gamma > 1:
		return bad("gamma %g must lie in (0, 1]", s.Gamma)
	}
	switch s.Kind {
	case "", Constant:
	case Step:
		if s.StepSize <= 0 {
			return bad("step schedule needs step size > 0, got %d", s.StepSize)
		}
	case MultiStep:
		if len(s.Milestones) == 0 {
			return bad("multistep schedule needs milestones")
		}
		if !sort.IntsAreSorted(s.Milestones) {
			return bad("multistep milestones %v must increase", s.Milestones)
		}
	case Cosine, Linear, OneCycle:
		if s.TotalSteps <= s.WarmupSteps {
			return bad("%s schedule needs total steps %d > warmup steps %d", s.Kind, s.TotalSteps, s.WarmupSteps)
		}
		if s.Kind == OneCycle && (s.PctStart < 0 || s.PctStart >= 1) {
			return bad("onecycle pct_start %g must lie in [0, 1)", s.PctStart)
		}
	default:
		return bad("unknown kind %q (want constant, step, multistep, cosine, onecycle or linear)", s.Kind)
	}
	return nil
}

// LR returns the learning rate for optimizer step (counted from 0). Steps
// past TotalSteps keep the final value.
func (s Schedule) LR(step int) float64 {
	if step < 0 {
		step = 0
	}
	if s.Kind == OneCycle {
		return s.oneCycle(step)
	}
	if step < s.WarmupSteps {
		return s.BaseLR * float64(step+1) / float64(s.WarmupSteps)
	}
	t := step - s.WarmupSteps // steps since warmup ended
	gamma := s.Gamma
	if gamma == 0 {
		gamma = 0.1
	}
	switch s.Kind {
	case Step:
		return s.BaseLR * math.Pow(gamma, float64(t/s.StepSize))
	case MultiStep:
		passed := sort.SearchInts(s.Milestones, step+1) // milestones ≤ step
		return s.BaseLR * math.Pow(gamma, float64(passed))
	case Cosine:
		p := progress(t, s.TotalSteps-s.WarmupSteps)
		return s.MinLR + (s.BaseLR-s.MinLR)*0.5*(1+math.Cos(math.Pi*p))
	case Linear:
		p := progress(t, s.TotalSteps-s.WarmupSteps)
		return s.BaseLR + (s.MinLR-s.BaseLR)*p
	default:
		return s.BaseLR
	}
}

// progress is t/n clamped to [0,1], with the last step (t = n-1) at 1 so the
// final step actually runs at the final learning rate.
func progress(t, n int) float64 {
	if n <= 1 {
		return 1
	}
	return math.Min(1, float64(t)/float64(n-1))
}

// oneCycle follows PyTorch's OneCycleLR (two phases, cosine annealing): the
// rate rises from BaseLR/DivFactor to BaseLR over PctStart of the run, then
// falls to BaseLR/DivFactor/FinalDivFactor at the last step.
func (s Schedule) oneCycle(step int) float64 {
	pct, div, final := s.PctStart, s.DivFactor, s.FinalDivFactor
	if pct == 0 {
		pct = 0.3
	}
	if div == 0 {
		div = 25
	}
	if final == 0 {
		final = 1e4
	}
	initial := s.BaseLR / div
	minLR := initial / final
	peak := pct*float64(s.TotalSteps) - 1
	last := float64(s.TotalSteps - 1)
	x := math.Min(float64(step), last)
	anneal := func(from, to, p float64) float64 { return to + (from-to)/2*(1+math.Cos(math.Pi*p)) }
	if peak > 0 && x <= peak {
		return anneal(initial, s.BaseLR, x/peak)
	}
	return anneal(s.BaseLR, minLR, (x-peak)/(last-peak))
}

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
	// Triangle is airbench94's schedule: linear from StartFactor·BaseLR at
	// step 0 up to BaseLR at PctStart of the run, then linear down to
	// EndFactor·BaseLR at the last step.
	Triangle = "triangle"
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

	// triangle: PctStart is where the peak sits (0 = 0.23), StartFactor and
	// EndFactor the first and last rates as fractions of BaseLR (0 = 0.2
	// and 0.07): airbench94's values.
	StartFactor float64
	EndFactor   float64
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
	case Triangle:
		if s.TotalSteps < 2 || s.PctStart < 0 || s.PctStart >= 1 || s.StartFactor < 0 || s.EndFactor < 0 {
			return bad("triangle schedule needs total steps ≥ 2, pct_start in [0, 1) and factors ≥ 0 (got %d, %g, %g, %g)",
				s.TotalSteps, s.PctStart, s.StartFactor, s.EndFactor)
		}
	case Cosine, Linear, OneCycle:
		if s.TotalSteps <= s.WarmupSteps {
			return bad("%s schedule needs total steps %d > warmup steps %d", s.Kind, s.TotalSteps, s.WarmupSteps)
		}
		if s.Kind == OneCycle && (s.PctStart < 0 || s.PctStart >= 1) {
			return bad("onecycle pct_start %g must lie in [0, 1)", s.PctStart)
		}
	default:
		return bad("unknown kind %q (want constant, step, multistep, cosine, onecycle, linear or triangle)", s.Kind)
	}
	return nil
}

// LR returns the learning rate for optimizer step (counted from 0). Steps
// past TotalSteps keep the final value.
func (s Schedule) LR(step int) float64 {
	if step < 0 {
		step = 0
	}
	switch s.Kind {
	case OneCycle:
		return s.oneCycle(step)
	case Triangle:
		return s.triangle(step)
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

// triangle is airbench94's triangle(steps, start, end, peak): piecewise
// linear through (0, start), (floor(peak·total), 1), (total, end), times
// BaseLR; step i runs at the value at i, so the last step sits just above
// end.
func (s Schedule) triangle(step int) float64 {
	peakPct, start, end := s.PctStart, s.StartFactor, s.EndFactor
	if peakPct == 0 {
		peakPct = 0.23
	}
	if start == 0 {
		start = 0.2
	}
	if end == 0 {
		end = 0.07
	}
	total := float64(s.TotalSteps)
	peak := math.Floor(peakPct * total)
	x := math.Min(float64(step), total)
	var f float64
	if x < peak {
		f = start + (1-start)*x/peak
	} else {
		f = 1 + (end-1)*(x-peak)/(total-peak)
	}
	return s.BaseLR * f
}

package calib

import (
	"errors"
	"math"
)

// ECEBins is the number of confidence bins used for reported ECE values, as
// in Guo et al. 2017, "On Calibration of Modern Neural Networks".
const ECEBins = 15

// ErrNoExamples is returned when a fit is asked of an empty set.
var ErrNoExamples = errors.New("calib: no examples")

// Temperature range searched by [FitTemperature]. Outside it a model is
// either broken or already saturated; the bounds keep the search finite.
const (
	minTemp = 0.05
	maxTemp = 20
)

// Calibration reports a temperature fit: the temperature and the NLL and
// 15-bin ECE of the same logits before (T = 1) and after scaling.
type Calibration struct {
	Temperature float64
	NLLBefore   float64
	NLLAfter    float64
	ECEBefore   float64
	ECEAfter    float64
}

// Calibrate fits a temperature on logits (normally the validation split's)
// and scores the fit. Apply the temperature to the test split's logits by
// dividing them by it; it never changes which class wins.
func Calibrate(logits []float32, k int, labels []int32) (Calibration, error) {
	t, err := FitTemperature(logits, k, labels)
	if err != nil {
		return Calibration{}, err
	}
	return Calibration{
		Temperature: t,
		NLLBefore:   NLL(logits, k, labels, 1),
		NLLAfter:    NLL(logits, k, labels, t),
		ECEBefore:   ECE(logits, k, labels, 1, ECEBins),
		ECEAfter:    ECE(logits, k, labels, t, ECEBins),
	}, nil
}

// FitTemperature returns the temperature T in [0.05, 20] that minimises the
// mean NLL of softmax(logits/T). The NLL is convex in 1/T (the scaled logits
// are linear in 1/T and log-sum-exp is convex), hence unimodal in log T, so
// a golden-section search on log T finds the minimum to within 1e-6
// relative without derivatives.
func FitTemperature(logits []float32, k int, labels []int32) (float64, error) {
	if checkShape(logits, k, labels) == 0 {
		return 0, ErrNoExamples
	}
	f := func(logT float64) float64 { return NLL(logits, k, labels, math.Exp(logT)) }
	lo, hi := math.Log(minTemp), math.Log(maxTemp)
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := f(a), f(b)
	for hi-lo > 1e-6 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = f(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = f(b)
		}
	}
	return math.Exp((lo + hi) / 2), nil
}

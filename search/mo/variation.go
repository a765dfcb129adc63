package mo

import (
	"math"
	"math/rand/v2"

	"sweep/search/sampler"
)

// Distribution indexes of NSGA-II's variation operators (Deb): larger
// values keep children closer to their parents. 20 is Optuna's SBX
// default for several objectives and the usual choice for polynomial
// mutation.
const (
	sbxEta      = 20.0
	mutationEta = 20.0
)

// span is a numeric param's interval in the space the operators work in:
// log scale for log params, else the internal values themselves.
type span struct {
	b      sampler.Bounds
	lo, hi float64
}

func newSpan(b sampler.Bounds) span {
	if b.Log {
		return span{b: b, lo: math.Log(b.Low), hi: math.Log(b.High)}
	}
	return span{b: b, lo: b.Low, hi: b.High}
}

func (s span) to(x float64) float64 {
	if s.b.Log {
		return math.Log(x)
	}
	return x
}

// from maps y back to an internal value on the param's grid and inside
// its bounds.
func (s span) from(y float64) float64 {
	y = math.Min(math.Max(y, s.lo), s.hi)
	if s.b.Log {
		y = math.Exp(y)
	}
	return s.b.Snap(y)
}

// sbx is the bounded simulated binary crossover of one variable: it returns
// one of the two children (chosen at random) of parents x1 and x2.
func sbx(rng *rand.Rand, s span, x1, x2 float64) float64 {
	y1, y2 := s.to(x1), s.to(x2)
	if math.Abs(y1-y2) < 1e-14 || !(s.hi > s.lo) {
		return x1
	}
	if y1 > y2 {
		y1, y2 = y2, y1
	}
	u := rng.Float64()
	spread := func(beta float64) float64 {
		alpha := 2 - math.Pow(beta, -(sbxEta+1))
		if u <= 1/alpha {
			return math.Pow(u*alpha, 1/(sbxEta+1))
		}
		return math.Pow(1/(2-u*alpha), 1/(sbxEta+1))
	}
	d := y2 - y1
	c1 := 0.5 * (y1 + y2 - spread(1+2*(y1-s.lo)/d)*d)
	c2 := 0.5 * (y1 + y2 + spread(1+2*(s.hi-y2)/d)*d)
	if rng.IntN(2) == 0 {
		return s.from(c1)
	}
	return s.from(c2)
}

// polynomialMutation perturbs x by Deb's bounded polynomial mutation.
func polynomialMutation(rng *rand.Rand, s span, x float64) float64 {
	width := s.hi - s.lo
	if !(width > 0) {
		return x
	}
	y := s.to(x)
	d1, d2 := (y-s.lo)/width, (s.hi-y)/width
	u := rng.Float64()
	pow := 1 / (mutationEta + 1)
	var dq float64
	if u < 0.5 {
		v := 2*u + (1-2*u)*math.Pow(1-d1, mutationEta+1)
		dq = math.Pow(v, pow) - 1
	} else {
		v := 2*(1-u) + 2*(u-0.5)*math.Pow(1-d2, mutationEta+1)
		dq = 1 - math.Pow(v, pow)
	}
	return s.from(y + dq*width)
}

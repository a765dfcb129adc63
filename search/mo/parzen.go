package mo

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"sweep/search/sampler"
)

// parzen is a one-parameter Parzen estimator as Optuna's univariate TPE
// builds it: one kernel per observation plus a prior kernel (weight 1)
// over the whole range; truncated Gaussians on the linear or log scale for
// numeric params (stepped ones over the range widened by half a step), and
// for categorical params a kernel that puts 1/n of prior mass on every
// choice and 1 on the observed one. Bandwidths are the larger gap to a
// neighbour, clipped to [range/min(100, kernels), range] ("magic clip").
type parzen struct {
	b      sampler.Bounds
	lo, hi float64   // numeric: the transformed range
	w      []float64 // kernel weights, summing to 1; the prior last
	cumW   []float64
	mu     []float64 // numeric kernels
	sigma  []float64
	logC   []float64   // per kernel: log weight − log(σ√(2π)) − log of its mass inside [lo, hi]
	inv    []float64   // per kernel: 1/σ
	probs  [][]float64 // categorical kernels: probability of each choice
}

// transform maps an internal value to the estimator's scale.
func (p *parzen) transform(x float64) float64 {
	if p.b.Log {
		return math.Log(x)
	}
	return x
}

// untransform maps a point of the estimator's scale to an internal value
// on the param's grid.
func (p *parzen) untransform(y float64) float64 {
	y = math.Min(math.Max(y, p.lo), p.hi)
	if p.b.Log {
		y = math.Exp(y)
	}
	return p.b.Snap(y)
}

// newParzen builds the estimator of observations xs (internal values)
// with positive weights (one each; normalised with the prior's).
func newParzen(b sampler.Bounds, xs, weights []float64) *parzen {
	p := &parzen{b: b}
	p.w = append(slices.Clone(weights), 1)
	sum := 0.0
	for _, v := range p.w {
		sum += v
	}
	acc := 0.0
	p.cumW = make([]float64, len(p.w))
	for k := range p.w {
		p.w[k] /= sum
		acc += p.w[k]
		p.cumW[k] = acc
	}
	if b.Categorical() {
		n := float64(b.N)
		for _, x := range xs {
			row := make([]float64, b.N)
			for j := range row {
				row[j] = (1 / n) / 2
			}
			row[int(x)] += 1.0 / 2
			p.probs = append(p.probs, row)
		}
		uniform := make([]float64, b.N)
		for j := range uniform {
			uniform[j] = 1 / n
		}
		p.probs = append(p.probs, uniform)
		return p
	}
	p.lo, p.hi = b.Low, b.High
	if b.Log {
		p.lo, p.hi = math.Log(b.Low), math.Log(b.High)
	}
	if b.Step > 0 {
		p.lo, p.hi = p.lo-b.Step/2, p.hi+b.Step/2
	}
	for _, x := range xs {
		p.mu = append(p.mu, p.transform(x))
	}
	p.mu = append(p.mu, (p.lo+p.hi)/2)
	p.sigma = bandwidths(p.mu, p.lo, p.hi)
	p.logC, p.inv = make([]float64, len(p.mu)), make([]float64, len(p.mu))
	for k := range p.mu {
		mass := math.Max(normCDF((p.hi-p.mu[k])/p.sigma[k])-normCDF((p.lo-p.mu[k])/p.sigma[k]), 1e-300)
		p.logC[k] = math.Log(p.w[k]) - math.Log(p.sigma[k]*math.Sqrt(2*math.Pi)) - math.Log(mass)
		p.inv[k] = 1 / p.sigma[k]
	}
	return p
}

// bandwidths gives each kernel (the prior last) Optuna's univariate sigma.
func bandwidths(mu []float64, lo, hi float64) []float64 {
	n := len(mu)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(mu[a], mu[b]) })
	sorted := make([]float64, n+2)
	sorted[0], sorted[n+1] = lo, hi
	for i, k := range order {
		sorted[i+1] = mu[k]
	}
	sig := make([]float64, n)
	for i, k := range order {
		sig[k] = math.Max(sorted[i+1]-sorted[i], sorted[i+2]-sorted[i+1])
	}
	if n >= 2 { // the outermost kernels ignore the gap to the bound
		sig[order[0]] = sorted[2] - sorted[1]
		sig[order[n-1]] = sorted[n] - sorted[n-1]
	}
	width := hi - lo
	minSig := width / math.Min(100, float64(1+n))
	for k := range sig {
		sig[k] = math.Min(math.Max(sig[k], minSig), width)
	}
	sig[n-1] = width // the prior
	return sig
}

// sample draws count points on the estimator's scale (category indexes
// for categorical params).
func (p *parzen) sample(rng *rand.Rand, count int) []float64 {
	out := make([]float64, count)
	for i := range out {
		k, _ := slices.BinarySearch(p.cumW, rng.Float64())
		k = min(k, len(p.w)-1)
		if p.b.Categorical() {
			out[i] = float64(drawIndex(rng, p.probs[k]))
			continue
		}
		a := normCDF((p.lo - p.mu[k]) / p.sigma[k])
		b := normCDF((p.hi - p.mu[k]) / p.sigma[k])
		u := a + rng.Float64()*(b-a)
		y := p.mu[k] + p.sigma[k]*math.Sqrt2*math.Erfinv(2*u-1)
		if math.IsNaN(y) || math.IsInf(y, 0) {
			y = p.mu[k]
		}
		out[i] = math.Min(math.Max(y, p.lo), p.hi)
	}
	return out
}

// logPDF is the log density of the mixture at y (estimator's scale).
func (p *parzen) logPDF(y float64) float64 {
	if p.b.Categorical() {
		s := 0.0
		for k, row := range p.probs {
			s += p.w[k] * row[int(y)]
		}
		return math.Log(s)
	}
	top := math.Inf(-1)
	for k := range p.mu {
		z := (y - p.mu[k]) * p.inv[k]
		top = math.Max(top, p.logC[k]-0.5*z*z)
	}
	s := 0.0
	for k := range p.mu {
		z := (y - p.mu[k]) * p.inv[k]
		s += math.Exp(p.logC[k] - 0.5*z*z - top)
	}
	return top + math.Log(s)
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

func drawIndex(rng *rand.Rand, probs []float64) int {
	u, acc := rng.Float64(), 0.0
	for j, q := range probs {
		if acc += q; u < acc {
			return j
		}
	}
	return len(probs) - 1
}

package tpe

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"sweep/search/sampler"
)

// dim is one parameter as a Parzen estimator sees it. Numeric params live in
// a transformed space: log-scaled ones in log space (continuous there), the
// others on their own scale with their grid step (0 = continuous).
type dim struct {
	b               sampler.Bounds // the goptuna distribution's internal bounds
	low, high, step float64        // transformed bounds and grid step
}

func newDim(b sampler.Bounds) dim {
	d := dim{b: b, low: b.Low, high: b.High, step: b.Step}
	if b.Log {
		d.low, d.high, d.step = math.Log(b.Low), math.Log(b.High), 0
	}
	return d
}

// transform maps an internal value into the estimator's space.
func (d dim) transform(x float64) float64 {
	if d.b.Log {
		return math.Log(x)
	}
	return x
}

// untransform maps an estimator-space value back to a valid internal value.
func (d dim) untransform(y float64) float64 {
	if d.b.Categorical() {
		return y
	}
	if d.b.Log {
		y = math.Exp(y)
	}
	return d.b.Snap(y)
}

// estimatorParams are the Parzen estimator settings shared by l(x) and g(x);
// see Options for their meaning.
type estimatorParams struct {
	priorWeight   float64
	considerPrior bool
	magicClip     bool
	endpoints     bool
	multivariate  bool
	legacy        bool // Optuna 3.x bandwidths (Options.LegacyBandwidth)
	weights       func(n int) []float64
	// catPriorWeight replaces priorWeight in the categorical kernels of
	// joint draws (0: priorWeight); see Options.CategoricalPriorWeight.
	catPriorWeight float64
}

// estimator is a mixture of product kernels: kernel k has weight exp(logW[k])
// and, per dimension, a truncated Gaussian (continuous), a Gaussian mass over
// one grid cell (stepped) or a categorical distribution. The last kernel is
// the prior when there is one.
type estimator struct {
	dims []dim
	logW []float64
	cumW []float64
	kern []kernels
}

// kernels holds one dimension's parameters for every kernel of the mixture.
type kernels struct {
	mu, sigma, inv []float64
	// logNorm is −log σ − log √(2π) − log Z for continuous kernels and −log Z
	// for stepped ones, where Z is the kernel's mass inside the bounds.
	logNorm []float64
	// Categorical kernels: kernel k puts probability exp(logHit) on obs[k]
	// and exp(logMiss) on every other choice; obs[k] < 0 marks the uniform
	// prior kernel.
	obs             []int
	logHit, logMiss float64
	logUniform      float64
	// Stepped kernels: kernels with equal (mu, sigma) share a class, so the
	// Gaussian cell masses are computed once per class, not per kernel.
	class                    []int32
	clsMu, clsInv, clsLogNrm []float64
	// One-dimensional estimators only (see aggregate): total log weight per
	// class, or for categoricals the weight observed on each choice, on all
	// choices, and of the prior kernel.
	clsLogW      []float64
	catW         []float64
	obsW, priorW float64
}

// newEstimator builds the mixture from observations obs[d][i] (transformed
// values, trials in increasing number order). order, when not nil, lists the
// observations of a one-dimensional estimator by increasing value (see
// history.observe); it spares a sort.
func newEstimator(dims []dim, obs [][]float64, order []int, p estimatorParams) *estimator {
	n := 0
	if len(obs) > 0 {
		n = len(obs[0])
	}
	prior := p.considerPrior || n == 0
	var w []float64
	if n > 0 {
		w = append(w, p.weights(n)[:n]...)
	}
	if prior {
		pw := p.priorWeight
		if n == 0 {
			pw = 1
		}
		w = append(w, pw)
	}
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	e := &estimator{dims: dims, logW: make([]float64, len(w)), cumW: make([]float64, len(w))}
	acc := 0.0
	for k, v := range w {
		e.logW[k] = math.Log(v / sum)
		acc += v / sum
		e.cumW[k] = acc
	}
	e.kern = make([]kernels, len(dims))
	for j, d := range dims {
		if d.b.Categorical() {
			e.kern[j] = categoricalKernels(d, obs[j], prior, p)
		} else {
			e.kern[j] = numericKernels(d, obs[j], order, prior, len(dims), p)
		}
	}
	if len(dims) == 1 && (dims[0].b.Categorical() || dims[0].step > 0) {
		e.aggregate()
	}
	return e
}

// aggregate sums kernel weights per class for a one-dimensional discrete
// estimator: kernels of one class give every point the same probability, so
// the mixture needs one term per class (category, or distinct (mu, sigma)),
// not one per observation.
func (e *estimator) aggregate() {
	kn := &e.kern[0]
	if e.dims[0].b.Categorical() {
		kn.catW = make([]float64, e.dims[0].b.N)
		for k, o := range kn.obs {
			if o < 0 {
				kn.priorW += math.Exp(e.logW[k])
			} else {
				kn.catW[o] += math.Exp(e.logW[k])
				kn.obsW += math.Exp(e.logW[k])
			}
		}
		return
	}
	w := make([]float64, len(kn.clsMu))
	for k, c := range kn.class {
		w[c] += math.Exp(e.logW[k])
	}
	kn.clsLogW = make([]float64, len(w))
	for c := range w {
		kn.clsLogW[c] = math.Log(w[c])
	}
}

// categoricalKernels follows Optuna: every kernel starts from
// prior_weight / n_kernels on each choice, an observed kernel adds 1 to its
// choice, and rows are normalised. Joint draws use p.catPriorWeight as the
// prior weight.
func categoricalKernels(d dim, obs []float64, prior bool, p estimatorParams) kernels {
	c := d.b.N
	kn := kernels{obs: make([]int, 0, len(obs)+1), logUniform: -math.Log(float64(c))}
	for _, x := range obs {
		kn.obs = append(kn.obs, int(x))
	}
	if prior {
		kn.obs = append(kn.obs, -1)
	}
	pw := p.priorWeight
	if p.multivariate && p.catPriorWeight > 0 {
		pw = p.catPriorWeight
	}
	base := pw / float64(len(kn.obs))
	if len(obs) == 0 {
		base = 1
	}
	row := float64(c)*base + 1
	kn.logHit = math.Log((base + 1) / row)
	kn.logMiss = math.Log(base / row)
	return kn
}

// numericKernels places one truncated Gaussian on each observation plus the
// prior N(centre, range²), with Optuna's bandwidths: the larger gap to a
// neighbour observation or bound, per dimension in univariate and
// multivariate mode alike, clipped to [range / min(100, 1 + kernels), range]
// by the magic clip. With p.legacy (Optuna 3.x) the prior's centre is a
// neighbour too, and multivariate kernels use a Scott-like rule instead.
func numericKernels(d dim, obs []float64, order []int, prior bool, nDims int, p estimatorParams) kernels {
	n := len(obs)
	span := d.high - d.low + d.step
	var sig []float64
	if p.multivariate && p.legacy {
		s := 0.2 * math.Pow(float64(max(n, 1)), -1/float64(nDims+4)) * span
		sig = make([]float64, n)
		for i := range sig {
			sig[i] = s
		}
	} else {
		sig = gapSigmas(obs, order, d.low, d.high, d.step, p.endpoints, prior && p.legacy)
	}
	minSig, maxSig := 1e-12, span
	if p.magicClip {
		nk := n
		if p.considerPrior {
			nk++
		}
		minSig = span / math.Min(100, float64(1+nk))
	}
	k := n
	if prior {
		k++
	}
	kn := kernels{mu: make([]float64, k), sigma: make([]float64, k), inv: make([]float64, k), logNorm: make([]float64, k)}
	copy(kn.mu, obs)
	for i := range n {
		kn.sigma[i] = math.Min(math.Max(sig[i], minSig), maxSig)
	}
	if prior {
		kn.mu[n], kn.sigma[n] = 0.5*(d.low+d.high), span
	}
	lo, hi := d.low-d.step/2, d.high+d.step/2
	for i := range k {
		kn.inv[i] = 1 / kn.sigma[i]
	}
	if d.step > 0 {
		// Stepped kernels repeat (mu, sigma) a lot: normalise per class.
		kn.classify()
		for c := range kn.clsMu {
			kn.clsLogNrm[c] = -logGaussMass((lo-kn.clsMu[c])*kn.clsInv[c], (hi-kn.clsMu[c])*kn.clsInv[c])
		}
		for i, c := range kn.class {
			kn.logNorm[i] = kn.clsLogNrm[c]
		}
		return kn
	}
	for i := range k {
		logZ := logGaussMass((lo-kn.mu[i])*kn.inv[i], (hi-kn.mu[i])*kn.inv[i])
		kn.logNorm[i] = -logZ - math.Log(kn.sigma[i]) - logSqrt2Pi
	}
	return kn
}

// classify groups stepped kernels by (mu, sigma).
func (kn *kernels) classify() {
	ids := make(map[[2]float64]int32, 16)
	kn.class = make([]int32, len(kn.mu))
	for k := range kn.mu {
		key := [2]float64{kn.mu[k], kn.sigma[k]}
		c, ok := ids[key]
		if !ok {
			c = int32(len(kn.clsMu))
			ids[key] = c
			kn.clsMu = append(kn.clsMu, kn.mu[k])
			kn.clsInv = append(kn.clsInv, kn.inv[k])
			kn.clsLogNrm = append(kn.clsLogNrm, 0)
		}
		kn.class[k] = c
	}
}

// gapSigmas sets each kernel's bandwidth to the larger distance to its
// neighbours among the observations, the prior centre (when the estimator
// has a prior kernel) and the (half-step widened) bounds. Without
// consider_endpoints the outermost kernels use the inner gap only, as Optuna
// does. sorted is the observations' order by value, or nil.
func gapSigmas(obs []float64, sorted []int, low, high, step float64, endpoints, prior bool) []float64 {
	n := len(obs)
	centre := 0.5 * (low + high)
	var order []int
	switch {
	case prior:
		order = withPrior(obs, sorted, centre)
	case sorted != nil:
		order = sorted
	default:
		order = sortedOrder(obs, math.Inf(1))[:n]
	}
	m := len(order)
	e := make([]float64, m+2)
	e[0], e[m+1] = low-step/2, high+step/2
	for i, k := range order {
		if k == n {
			e[i+1] = centre
		} else {
			e[i+1] = obs[k]
		}
	}
	sig := make([]float64, m)
	for i := range sig {
		sig[i] = math.Max(e[i+1]-e[i], e[i+2]-e[i+1])
	}
	if !endpoints && m >= 2 {
		sig[0] = e[2] - e[1]
		sig[m-1] = e[m] - e[m-1]
	}
	out := make([]float64, n+1)
	for i, k := range order {
		out[k] = sig[i]
	}
	return out[:n]
}

// withPrior returns the order of obs plus the prior centre (index len(obs)):
// sorted, if given, is the order of obs by value (ties by index) and the
// prior is merged in after any equal values; otherwise everything is sorted.
func withPrior(obs []float64, sorted []int, prior float64) []int {
	if sorted == nil {
		return sortedOrder(obs, prior)
	}
	i, _ := slices.BinarySearchFunc(sorted, prior, func(k int, p float64) int {
		if obs[k] <= p {
			return -1
		}
		return 1
	})
	order := make([]int, 0, len(obs)+1)
	order = append(order, sorted[:i]...)
	order = append(order, len(obs))
	return append(order, sorted[i:]...)
}

// sortedOrder returns the indices of obs plus one extra value (index
// len(obs)) in increasing order of value, ties by index. It sorts plain
// uint64 keys: the value's order-preserving bits with the low bits replaced
// by the index, which is several times faster than a comparison-function
// sort. Values closer than 2^-39 relative may be ordered by index instead;
// the bandwidths that depend on the order change by as little.
func sortedOrder(obs []float64, extra float64) []int {
	n := len(obs) + 1
	shift := bits.Len(uint(n))
	mask := uint64(1)<<shift - 1
	keys := make([]uint64, n)
	for i := range n {
		v := extra
		if i < len(obs) {
			v = obs[i]
		}
		b := math.Float64bits(v)
		if b>>63 == 1 {
			b = ^b
		} else {
			b |= 1 << 63
		}
		keys[i] = b&^mask | uint64(i)
	}
	slices.Sort(keys)
	order := make([]int, n)
	for i, k := range keys {
		order[i] = int(k & mask)
	}
	return order
}

// sample draws count points from the mixture: a kernel by weight, then each
// dimension from that kernel. Values are in transformed space, stepped ones
// on their grid. The result is indexed [dim][point].
func (e *estimator) sample(rng *rand.Rand, count int) [][]float64 {
	out := make([][]float64, len(e.dims))
	for j := range out {
		out[j] = make([]float64, count)
	}
	for c := range count {
		k, _ := slices.BinarySearch(e.cumW, rng.Float64())
		k = min(k, len(e.cumW)-1)
		for j, d := range e.dims {
			out[j][c] = e.kern[j].draw(rng, d, k)
		}
	}
	return out
}

func (kn *kernels) draw(rng *rand.Rand, d dim, k int) float64 {
	if d.b.Categorical() {
		c := d.b.N
		u := rng.Float64()
		o := kn.obs[k]
		acc := 0.0
		for i := range c {
			lp := kn.logUniform
			if o >= 0 {
				lp = kn.logMiss
				if i == o {
					lp = kn.logHit
				}
			}
			acc += math.Exp(lp)
			if u < acc {
				return float64(i)
			}
		}
		return float64(c - 1)
	}
	lo, hi := d.low-d.step/2, d.high+d.step/2
	x := sampleTruncNorm(rng, kn.mu[k], kn.sigma[k], lo, hi)
	if d.step > 0 {
		x = d.low + math.Round((x-d.low)/d.step)*d.step
		x = math.Min(math.Max(x, d.low), d.high)
	}
	return x
}

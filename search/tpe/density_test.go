package tpe

import (
	"math"
	"math/rand/v2"
	"testing"

	"sweep/search/sampler"
)

// refLogPDF is the float64 reference: the mixture density written out
// directly from its definition, one kernel and one dimension at a time.
func refLogPDF(e *estimator, x []float64) float64 {
	total := 0.0
	for k := range e.logW {
		p := math.Exp(e.logW[k])
		for j, d := range e.dims {
			kn := e.kern[j]
			switch {
			case d.b.Categorical():
				o := kn.obs[k]
				n := float64(d.b.N)
				if o < 0 {
					p *= 1 / n
				} else if int(x[j]) == o {
					p *= math.Exp(kn.logHit)
				} else {
					p *= math.Exp(kn.logMiss)
				}
			default:
				mu, s := kn.mu[k], kn.sigma[k]
				lo, hi := d.low-d.step/2, d.high+d.step/2
				z := normCDF((hi-mu)/s) - normCDF((lo-mu)/s)
				if d.step == 0 {
					p *= math.Exp(-0.5*(x[j]-mu)*(x[j]-mu)/(s*s)) / (s * math.Sqrt(2*math.Pi)) / z
				} else {
					p *= (normCDF((x[j]+d.step/2-mu)/s) - normCDF((x[j]-d.step/2-mu)/s)) / z
				}
			}
		}
		total += p
	}
	return math.Log(total)
}

func testParams(multivariate bool) estimatorParams {
	return estimatorParams{priorWeight: 1, considerPrior: true, magicClip: true, multivariate: multivariate, weights: DefaultWeights}
}

// observe draws n observations inside b (transformed space) for dimension d.
func observe(rng *rand.Rand, b sampler.Bounds, n int) []float64 {
	d := newDim(b)
	out := make([]float64, n)
	for i := range out {
		out[i] = d.transform(b.Uniform(rng))
	}
	return out
}

func TestEstimator_Density(t *testing.T) {
	cases := []struct {
		name string
		b    sampler.Bounds
	}{
		{"Float", sampler.Bounds{Low: -3, High: 5}},
		{"Log", sampler.Bounds{Low: 1e-5, High: 1e-1, Log: true}},
		{"Int", sampler.Bounds{Low: 1, High: 12, Step: 1}},
		{"StepFloat", sampler.Bounds{Low: 0, High: 1, Step: 0.25}},
		{"Categorical", sampler.Bounds{N: 5}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		for _, n := range []int{0, 1, 3, 30, 200} {
			for _, mode := range []int{0, 1, 2} { // univariate, multivariate, univariate without prior
				mv := mode == 1
				p := testParams(mv)
				p.considerPrior = mode != 2
				obs := observe(rng, c.b, n)
				d := newDim(c.b)
				e := newEstimator([]dim{d}, [][]float64{obs}, nil, p)
				mass := integrate(e, d)
				if math.Abs(mass-1) > 1e-3 {
					t.Errorf("%s n=%d mode=%d: density integrates to %.6f, want 1 ± 1e-3", c.name, n, mode, mass)
				}
				worst := 0.0
				for range 50 {
					x := e.sample(rng, 1)[0][0]
					got, _ := e.logPDF([][]float64{{x}}, nil)
					worst = math.Max(worst, math.Abs(got[0]-refLogPDF(e, []float64{x})))
				}
				if worst > 1e-9 {
					t.Errorf("%s n=%d mode=%d: log density differs from reference by %g", c.name, n, mode, worst)
				}
			}
		}
	}
}

// integrate sums the probability of every grid point or category, or
// integrates a continuous density with Simpson's rule on 20 001 points.
func integrate(e *estimator, d dim) float64 {
	var xs []float64
	if d.b.Categorical() {
		for i := range d.b.N {
			xs = append(xs, float64(i))
		}
	} else if d.step > 0 {
		for x := d.low; x <= d.high+d.step/2; x += d.step {
			xs = append(xs, x)
		}
	} else {
		const n = 20000
		h := (d.high - d.low) / n
		for i := 0; i <= n; i++ {
			xs = append(xs, d.low+float64(i)*h)
		}
		lp, _ := e.logPDF([][]float64{xs}, nil)
		sum := 0.0
		for i, v := range lp {
			w := 2.0
			if i == 0 || i == n {
				w = 1
			} else if i%2 == 1 {
				w = 4
			}
			sum += w * math.Exp(v)
		}
		return sum * h / 3
	}
	lp, _ := e.logPDF([][]float64{xs}, nil)
	sum := 0.0
	for _, v := range lp {
		sum += math.Exp(v)
	}
	return sum
}

func TestEstimator_JointDensity(t *testing.T) {
	// A two-dimensional mixed estimator: summing the categorical dimension
	// and integrating the stepped one must give 1 as well.
	rng := rand.New(rand.NewPCG(3, 4))
	bs := []sampler.Bounds{{N: 3}, {Low: 0, High: 9, Step: 1}}
	dims := []dim{newDim(bs[0]), newDim(bs[1])}
	obs := [][]float64{observe(rng, bs[0], 40), observe(rng, bs[1], 40)}
	e := newEstimator(dims, obs, nil, testParams(true))
	var xs [2][]float64
	for c := range 3 {
		for v := range 10 {
			xs[0] = append(xs[0], float64(c))
			xs[1] = append(xs[1], float64(v))
		}
	}
	lp, _ := e.logPDF(xs[:], nil)
	sum := 0.0
	for i, v := range lp {
		sum += math.Exp(v)
		if ref := refLogPDF(e, []float64{xs[0][i], xs[1][i]}); math.Abs(ref-v) > 1e-9 {
			t.Fatalf("point %d: log p = %g, reference %g", i, v, ref)
		}
	}
	if math.Abs(sum-1) > 1e-3 {
		t.Fatalf("joint mass = %.6f, want 1", sum)
	}
}

func TestGapSigmas(t *testing.T) {
	// Observations 0.1 and 0.9 in [0, 1]; the prior centre 0.5 joins them.
	// Sorted with endpoints: 0, 0.1, 0.5, 0.9, 1. Without endpoints the
	// outermost kernels use their inner gap (0.4); the prior's own sigma is
	// dropped.
	got := gapSigmas([]float64{0.9, 0.1}, nil, 0, 1, 0, false, true)
	want := []float64{0.4, 0.4}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("sigmas = %v, want %v", got, want)
		}
	}
	got = gapSigmas([]float64{0.05, 0.5}, nil, 0, 1, 0, true, true)
	// Sorted: 0, 0.05, 0.5(obs), 0.5(prior), 1: kernel 0.05 → max(0.05, 0.45).
	if math.Abs(got[0]-0.45) > 1e-12 {
		t.Fatalf("with endpoints: sigma[0] = %g, want 0.45", got[0])
	}
	// Without a prior kernel the centre is no neighbour: 0.1 and 0.9 are
	// each other's only neighbours (gap 0.8).
	got = gapSigmas([]float64{0.9, 0.1}, nil, 0, 1, 0, false, false)
	if math.Abs(got[0]-0.8) > 1e-12 || math.Abs(got[1]-0.8) > 1e-12 {
		t.Fatalf("without prior: sigmas = %v, want [0.8 0.8]", got)
	}
}

func TestDefaultWeightsAndGamma(t *testing.T) {
	if g := DefaultGamma(1000); g != 25 {
		t.Fatalf("gamma(1000) = %d, want 25", g)
	}
	if g := DefaultGamma(11); g != 2 {
		t.Fatalf("gamma(11) = %d, want 2", g)
	}
	w := DefaultWeights(30)
	if len(w) != 30 || math.Abs(w[0]-1.0/30) > 1e-12 || w[4] != 1 || w[29] != 1 {
		t.Fatalf("weights(30) = %v", w)
	}
	if w[1] <= w[0] || w[3] <= w[2] {
		t.Fatalf("weights(30) ramp not increasing: %v", w[:5])
	}
}

func TestEstimator_SampleMatchesDensity(t *testing.T) {
	// Draws from the mixture must follow its own density: compare bin
	// frequencies of 100 000 draws with the integrated density per bin.
	rng := rand.New(rand.NewPCG(5, 6))
	for _, b := range []sampler.Bounds{
		{Low: -1, High: 2},
		{Low: 1e-4, High: 1, Log: true},
		{Low: 0, High: 6, Step: 1},
		{N: 4},
	} {
		d := newDim(b)
		e := newEstimator([]dim{d}, [][]float64{observe(rng, b, 7)}, nil, testParams(false))
		const n, bins = 100_000, 12
		var edges []float64
		var pts [][]float64 // per bin: evaluation points (grid points, or Simpson nodes)
		if b.Categorical() || d.step > 0 {
			for i := range b.Points() {
				v := float64(i)
				if !b.Categorical() {
					v = d.low + float64(i)*d.step
				}
				pts = append(pts, []float64{v})
			}
		} else {
			for i := 0; i <= bins; i++ {
				edges = append(edges, d.low+(d.high-d.low)*float64(i)/bins)
			}
		}
		draws := e.sample(rng, n)[0]
		counts := make([]float64, max(len(pts), bins))
		for _, x := range draws {
			if pts != nil {
				for i, p := range pts {
					if x == p[0] {
						counts[i]++
					}
				}
				continue
			}
			i := min(int((x-d.low)/(d.high-d.low)*bins), bins-1)
			counts[i]++
		}
		worst := 0.0
		for i := range counts {
			var want float64
			if pts != nil {
				if i >= len(pts) {
					continue
				}
				lp, _ := e.logPDF([][]float64{pts[i]}, nil)
				want = math.Exp(lp[0])
			} else {
				want = binMass(e, edges[i], edges[i+1])
			}
			worst = math.Max(worst, math.Abs(counts[i]/n-want))
		}
		if worst > 0.006 {
			t.Errorf("%+v: bin frequency differs from density mass by %.4f", b, worst)
		}
	}
}

// binMass integrates a one-dimensional continuous estimator over [a, b].
func binMass(e *estimator, a, b float64) float64 {
	const m = 400
	h := (b - a) / m
	var xs []float64
	for i := 0; i <= m; i++ {
		xs = append(xs, a+float64(i)*h)
	}
	lp, _ := e.logPDF([][]float64{xs}, nil)
	s := 0.0
	for i, v := range lp {
		w := 2.0
		if i == 0 || i == m {
			w = 1
		} else if i%2 == 1 {
			w = 4
		}
		s += w * math.Exp(v)
	}
	return s * h / 3
}

// Joint draws smooth categorical kernels with catPriorWeight, univariate
// ones with priorWeight: with n observations (plus the prior kernel) and c
// choices, a kernel keeps its category with probability
// (1 + w/(n+1)) / (1 + c·w/(n+1)).
func TestCategoricalKernels_PriorWeight(t *testing.T) {
	d := newDim(sampler.Bounds{N: 5})
	obs := []float64{0, 1, 1, 2, 4, 0, 3, 1, 1, 2}
	keep := func(w float64) float64 {
		base := w / float64(len(obs)+1)
		return (1 + base) / (1 + 5*base)
	}
	for _, c := range []struct {
		name  string
		multi bool
		want  float64
	}{
		{"Joint", true, keep(4)},
		{"Univariate", false, keep(1)},
	} {
		p := testParams(c.multi)
		p.catPriorWeight = 4
		kn := categoricalKernels(d, obs, true, p)
		if got := math.Exp(kn.logHit); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: P(keep) = %.6f, want %.6f", c.name, got, c.want)
		}
		if got, want := math.Exp(kn.logHit)+4*math.Exp(kn.logMiss), 1.0; math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: kernel row sums to %v", c.name, got)
		}
	}
}

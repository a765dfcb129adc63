package data

import (
	"math"
	"math/bits"
)

// Rand is a small SplitMix64 generator. The loader gives every sample its
// own Rand derived from (seed, epoch, image index), so augmentation draws do
// not depend on which goroutine handles the sample or in what order. It is a
// value type: copying it forks the stream. Not safe for concurrent use.
type Rand struct{ s uint64 }

// NewRand returns a generator seeded with seed.
func NewRand(seed uint64) Rand { return Rand{s: seed} }

// SampleRand returns the generator for image index in epoch under seed.
func SampleRand(seed uint64, epoch, index int) Rand {
	return NewRand(mix(mix(seed, uint64(epoch)+0x9e37), uint64(index)))
}

// mix combines two words into a well-scrambled seed (SplitMix64 finalizer).
func mix(a, b uint64) uint64 {
	z := a ^ (b+0x9e3779b97f4a7c15)*0xbf58476d1ce4e5b9
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Float64 returns a uniform value in [0, 1).
func (r *Rand) Float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Uniform returns a uniform value in [lo, hi) (lo when hi <= lo).
func (r *Rand) Uniform(lo, hi float64) float64 {
	if hi <= lo {
		return lo
	}
	return lo + (hi-lo)*r.Float64()
}

// LogUniform returns exp(Uniform(log lo, log hi)), for aspect ratios.
func (r *Rand) LogUniform(lo, hi float64) float64 {
	return math.Exp(r.Uniform(math.Log(lo), math.Log(hi)))
}

// Bernoulli reports true with probability p.
func (r *Rand) Bernoulli(p float64) bool {
	if p <= 0 {
		return false
	}
	return r.Float64() < p
}

// Intn returns a uniform int in [0, n); n must be positive.
func (r *Rand) Intn(n int) int {
	// Multiply-shift (Lemire) without the rejection step: the bias is
	// at most n/2^64, far below anything measurable for image sizes.
	hi, _ := bits.Mul64(r.Uint64(), uint64(n))
	return int(hi)
}

// Perm returns a random permutation of 0..n-1 (Fisher-Yates).
func (r *Rand) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

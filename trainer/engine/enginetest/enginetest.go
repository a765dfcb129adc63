// Package enginetest is the conformance suite for engine.Backend
// implementations: every op is checked against a float64 reference written
// here as plain loops, printing the largest difference per tensor as llm.c's
// test does. Layer and whole-network gradient checks live in the engine
// package's own tests, which use the CPU backend; a new backend passes
// [TestBackend] first.
package enginetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"sweep/trainer/engine"
)

// Tol is the accepted error of float32 kernels against the float64
// reference, relative to the reference's largest magnitude (plus one).
const Tol = 2e-4

// BF16Tol is the accepted error of GEMMs and convolutions whose operands
// are rounded to bfloat16 and summed in float32: twice bf16's unit
// roundoff 2⁻⁸, relative to the reference's largest magnitude (plus one).
// Each product carries at most 2⁻⁷ relative error; the errors of a sum's
// terms mostly cancel, so the largest seen is several times smaller.
const BF16Tol = 1.0 / 128

// Options adapt the suite to a backend's arithmetic.
type Options struct {
	// GEMMTol replaces Tol for Gemm and the convolutions (BF16Tol for a
	// bf16 GEMM); 0 means Tol.
	GEMMTol float64
}

// TestBackend runs every op of b against the reference.
func TestBackend(t *testing.T, b engine.Backend) { TestBackendOptions(t, b, Options{}) }

// TestBackendOptions is TestBackend with the tolerances of o.
func TestBackendOptions(t *testing.T, b engine.Backend, o Options) {
	gemmTol := o.GEMMTol
	if gemmTol == 0 {
		gemmTol = Tol
	}
	t.Run("Gemm", func(t *testing.T) { testGemm(t, b, gemmTol) })
	t.Run("Conv", func(t *testing.T) { testConv(t, b, gemmTol) })
	t.Run("BatchNorm", func(t *testing.T) { testBatchNorm(t, b) })
	t.Run("Pool", func(t *testing.T) { testPool(t, b) })
	t.Run("Act", func(t *testing.T) { testAct(t, b) })
	t.Run("Elementwise", func(t *testing.T) { testElementwise(t, b) })
	t.Run("Channels", func(t *testing.T) { testChannels(t, b) })
	t.Run("Loss", func(t *testing.T) { testLoss(t, b) })
	t.Run("Reduce", func(t *testing.T) { testReduce(t, b) })
	t.Run("Optim", func(t *testing.T) { testOptim(t, b) })
	t.Run("Dropout", func(t *testing.T) { testDropout(t, b) })
	t.Run("Fused", func(t *testing.T) { testFused(t, b) })
}

// Rand returns n normal values from a seeded source.
func Rand(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

// Tensor uploads seeded random values of shape s.
func Tensor(b engine.Backend, seed uint64, s engine.Shape) (engine.Tensor, []float32) {
	h := Rand(seed, s.Numel())
	return engine.FromHost(b, s, h), h
}

// Compare reports the largest absolute difference between got and want
// (logging it with name) and fails t when it exceeds tol·(1 + max|want|).
func Compare(t testing.TB, name string, got []float32, want []float64, tol float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	var maxDiff, maxRef float64
	worst := 0
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		if math.IsNaN(float64(got[i])) != math.IsNaN(want[i]) {
			d = math.Inf(1)
		}
		if d > maxDiff {
			maxDiff, worst = d, i
		}
		maxRef = max(maxRef, math.Abs(want[i]))
	}
	t.Logf("%-28s max |diff| %.3g (ref max %.3g)", name, maxDiff, maxRef)
	if maxDiff > tol*(1+maxRef) {
		t.Errorf("%s: element %d = %g, want %g (max |diff| %.3g > %.3g)", name, worst, got[worst], want[worst], maxDiff, tol*(1+maxRef))
	}
	return maxDiff
}

// CompareRel checks got against a float64 reference as one tensor, llm.c
// style: the largest absolute difference relative to the largest reference
// magnitude, max|got−want| / max|want|, must stay within tol. Unlike
// Compare's tol·(1+max|want|), the bound scales with the tensor: a
// gradient of size 0.1 is held to tol·0.1, not to an absolute tol.
// floor bounds the denominator for tensors whose reference is (nearly)
// zero, where the relative error means nothing; give the reference's own
// noise there. It returns the relative error and logs it per tensor.
func CompareRel(t testing.TB, name string, got []float32, want []float64, tol, floor float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	var maxDiff, maxRef float64
	worst := 0
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > maxDiff {
			maxDiff, worst = d, i
		}
		maxRef = max(maxRef, math.Abs(want[i]))
	}
	rel := maxDiff / max(maxRef, floor)
	t.Logf("%-28s rel err %.3g (max |diff| %.3g, ref max %.3g)", name, rel, maxDiff, maxRef)
	if !(rel <= tol) {
		t.Errorf("%s: element %d = %g, want %g (rel err %.3g > %.3g)", name, worst, got[worst], want[worst], rel, tol)
	}
	return rel
}

// Host copies a tensor out.
func Host(b engine.Backend, x engine.Tensor) []float32 { return engine.ToHost(b, x) }

func f64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

func name(op string, args ...any) string { return op + fmt.Sprint(args...) }

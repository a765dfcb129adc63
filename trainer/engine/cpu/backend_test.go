package cpu_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/enginetest"
)

func newBackend(t testing.TB, blas string, threads int) *cpu.Backend {
	t.Helper()
	b, err := cpu.New(cpu.Options{BLAS: blas, Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func TestBackend_PureGo(t *testing.T) {
	enginetest.TestBackend(t, newBackend(t, "go", 2))
}

func TestBackend_PureGoOneThread(t *testing.T) {
	enginetest.TestBackend(t, newBackend(t, "go", 1))
}

func TestBackend_OpenBLAS(t *testing.T) {
	b := newBackend(t, "", 2)
	if !b.HasOpenBLAS() {
		t.Skip("OpenBLAS not installed (apt-get install libopenblas0-pthread)")
	}
	enginetest.TestBackend(t, b)
}

// TestBackend_BF16 runs the conformance suite with the bf16 GEMM, on the
// assembly kernels where the CPU has AVX512-BF16 and on the Go ones
// (SWEEP_BLAS=go), with GEMMs and convolutions held to bf16's tolerance.
func TestBackend_BF16(t *testing.T) {
	for _, blas := range []string{"", "go"} {
		b, err := cpu.New(cpu.Options{BLAS: blas, Threads: 2, GEMM: cpu.BF16})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		t.Run(b.Name(), func(t *testing.T) {
			enginetest.TestBackendOptions(t, b, enginetest.Options{GEMMTol: enginetest.BF16Tol})
		})
	}
}

// TestBackend_BF16Deterministic checks that the bf16 GEMM gives the same
// bits on 1 and 2 threads: the split moves tile edges, and edge tiles must
// compute exactly as full ones (alpha ≠ 1 and beta ≠ 0 would expose a
// separately rounded edge path).
func TestBackend_BF16Deterministic(t *testing.T) {
	run := func(threads int) []float32 {
		b, err := cpu.New(cpu.Options{Threads: threads, GEMM: cpu.BF16})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		a, _ := enginetest.Tensor(b, 1, engine.Shape{700, 203})
		bm, _ := enginetest.Tensor(b, 2, engine.Shape{700, 301})
		c, _ := enginetest.Tensor(b, 3, engine.Shape{203, 301})
		b.Gemm(true, false, 0.3, a, bm, 0.7, c)
		return engine.ToHost(b, c)
	}
	one, two := run(1), run(2)
	for i := range one {
		if math.Float32bits(one[i]) != math.Float32bits(two[i]) {
			t.Fatalf("element %d: %g on 1 thread, %g on 2", i, one[i], two[i])
		}
	}
}

// TestBackend_SetPrecision checks that the precision switches the GEMM and
// that 16-bit formats other than bf16 are refused.
func TestBackend_SetPrecision(t *testing.T) {
	b := newBackend(t, "go", 1)
	a := engine.FromHost(b, engine.Shape{1, 1}, []float32{1 + 1.0/512}) // not a bf16 value
	c := engine.New(b, engine.Float32, engine.Shape{1, 1})
	for _, step := range []struct {
		dt   engine.DType
		want float32
		name string
	}{
		{engine.BFloat16, 1, "cpu/bf16 (go)"},                     // 1+2⁻⁹ rounds to 1
		{engine.Float32, (1 + 1.0/512) * (1 + 1.0/512), "cpu/go"}, // exact operands
	} {
		if err := b.SetPrecision(step.dt); err != nil || b.Precision() != step.dt || b.Name() != step.name {
			t.Fatalf("SetPrecision(%v): err %v, precision %v, name %q", step.dt, err, b.Precision(), b.Name())
		}
		b.Gemm(false, false, 1, a, a, 0, c)
		if got := cpu.Data(c)[0]; got != step.want {
			t.Errorf("%v: a·a = %.9g, want %.9g", step.dt, got, step.want)
		}
	}
	if err := b.SetPrecision(engine.Float16); !errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("SetPrecision(Float16) = %v, want ErrUnsupported", err)
	}
}

func TestNew_Options(t *testing.T) {
	if _, err := cpu.New(cpu.Options{BLAS: "/nonexistent/libopenblas.so"}); err == nil || !strings.Contains(err.Error(), "cpu: load openblas") {
		t.Errorf("missing library: err = %v", err)
	}
	b := newBackend(t, "go", 3)
	if b.Name() != "cpu/go" || b.HasOpenBLAS() || b.Threads() != 3 {
		t.Errorf("pure Go backend: name %q, openblas %v, threads %d", b.Name(), b.HasOpenBLAS(), b.Threads())
	}
	env := map[string]string{"SWEEP_BLAS": "go", "SWEEP_THREADS": "5"}
	if o := cpu.OptionsFromEnv(func(k string) string { return env[k] }); o.BLAS != "go" || o.Threads != 5 {
		t.Errorf("OptionsFromEnv = %+v", o)
	}
}

package cpu_test

import (
	"strings"
	"testing"

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

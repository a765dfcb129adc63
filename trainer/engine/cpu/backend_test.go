package cpu_test

import (
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

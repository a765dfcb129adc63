package cuda

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebitengine/purego"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cuda/dynlib"
	"sweep/trainer/engine/enginetest"
)

// failHalf makes the emulation's 16-bit GEMMs with a dimension d and 16-bit
// convolutions with d output channels fail at execution, until the test ends.
func failHalf(t *testing.T, d int) {
	t.Helper()
	h, err := purego.Dlopen(filepath.Join(emu.dir, "libcuda.so.1"), purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := purego.Dlsym(h, "sweep_emu_fail_16bit")
	if err != nil {
		t.Fatal(err)
	}
	dynlib.Func(p).Call(uintptr(d))
	t.Cleanup(func() { dynlib.Func(p).Call(0) })
}

// TestEmulated_HalfRefused makes bfloat16 plans fail at execution (accepted
// at planning, as on a GPU whose cuDNN or cuBLAS lacks a kernel): the
// backend must refuse those shapes with one notice each, compute them in
// float32 (bit-identical to a float32 backend), keep other shapes in
// bfloat16, and leave Sync clean.
func TestEmulated_HalfRefused(t *testing.T) {
	var log bytes.Buffer
	b := emulatedWith(t, Options{Log: &log})
	ref := emulated(t)
	if err := b.SetPrecision(engine.BFloat16); err != nil {
		t.Fatal(err)
	}
	failHalf(t, 6)
	d := engine.ConvDesc{PadH: 1, PadW: 1}
	both := func(f func(g engine.Backend) []engine.Tensor) (got, want [][]float32) {
		for _, x := range []struct {
			g   engine.Backend
			out *[][]float32
		}{{b, &got}, {ref, &want}} {
			for _, t := range f(x.g) {
				*x.out = append(*x.out, engine.ToHost(x.g, t))
			}
		}
		return got, want
	}
	conv := func(k int) func(g engine.Backend) []engine.Tensor {
		return func(g engine.Backend) []engine.Tensor {
			x, _ := enginetest.Tensor(g, 1, engine.Shape{2, 3, 5, 5})
			w, _ := enginetest.Tensor(g, 2, engine.Shape{k, 3, 3, 3})
			dy, _ := enginetest.Tensor(g, 3, engine.Shape{2, k, 5, 5})
			y, dx, dw := engine.New(g, engine.Float32, dy.Shape), engine.New(g, engine.Float32, x.Shape), engine.New(g, engine.Float32, w.Shape)
			for range 2 { // the second round runs the refused shape without asking again
				g.ConvForward(d, x, w, y)
				g.ConvBackwardData(d, dy, w, dx)
				g.Fill(dw, 0)
				g.ConvBackwardFilter(d, x, dy, dw)
			}
			return []engine.Tensor{y, dx, dw}
		}
	}
	got, want := both(conv(6))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("refused convolution differs from float32:\n got %v\nwant %v", got[0][:4], want[0][:4])
	}
	got, want = both(conv(4)) // not refused: bfloat16, close to float32 but not equal
	if fmt.Sprint(got) == fmt.Sprint(want) {
		t.Error("a convolution cuDNN runs in bfloat16 gave the float32 result bit for bit")
	}
	for i := range got {
		enginetest.Compare(t, "bf16 convolution", got[i], f64(want[i]), 2e-2)
	}
	got, want = both(func(g engine.Backend) []engine.Tensor {
		a, _ := enginetest.Tensor(g, 4, engine.Shape{5, 7})
		w, _ := enginetest.Tensor(g, 5, engine.Shape{7, 6})
		c := engine.New(g, engine.Float32, engine.Shape{5, 6})
		g.Gemm(false, false, 1, a, w, 0, c)
		g.Gemm(false, false, 1, a, w, 0, c)
		return []engine.Tensor{c}
	})
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("refused GEMM differs from float32:\n got %v\nwant %v", got, want)
	}
	if err := b.Sync(); err != nil {
		t.Fatalf("Sync after refused plans: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "bfloat16 convolution x (2,3,5,5) w (6,3,3,3)") ||
		!strings.Contains(lines[0], "forward: cudnn: cudnnConvolutionForward: CUDNN_STATUS_EXECUTION_FAILED (5000)") ||
		!strings.Contains(lines[1], "bfloat16 GEMM 5x6x7") || !strings.Contains(lines[1], "CUBLAS_STATUS_EXECUTION_FAILED") {
		t.Fatalf("notices:\n%s", log.String())
	}
}

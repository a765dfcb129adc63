package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"sweep/trainer/engine"
)

// TestMaxPool2x2_OddPlanes checks the 2x2 max pool fast path, which odd
// planes (fastnet's 31→15, 15→7, 7→3) now take too, in Go and with
// AVX-512, against the general windowed path: the same outputs and
// gradients bit for bit, with ties inside windows, and every element of dx
// written although dx starts dirty (the fast path clears nothing first).
// Widths cover the assembly's partial and multiple 16-window chunks. dy is
// never −0 and x never NaN, the two inputs on which the paths were already
// allowed to differ.
func TestMaxPool2x2_OddPlanes(t *testing.T) {
	t.Run("Go", func(t *testing.T) {
		if hasAVX512 {
			hasAVX512 = false
			defer func() { hasAVX512 = true }()
		}
		checkMaxPool2x2(t)
	})
	t.Run("AVX512", func(t *testing.T) {
		if !hasAVX512 {
			t.Skip("CPU lacks AVX-512")
		}
		checkMaxPool2x2(t)
	})
}

func checkMaxPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	d := engine.PoolDesc{KH: 2, KW: 2}.Norm()
	sizes := []int{2, 3, 4, 5, 6, 7, 8, 9, 15, 31, 32, 33, 34, 35, 64, 66, 67}
	for _, h := range sizes[:10] {
		for _, w := range sizes {
			p, q := d.OutSize(h, w)
			g := poolGeom{h: h, w: w, p: p, q: q, d: d}
			if !g.isMax2x2() {
				t.Fatalf("%dx%d: isMax2x2 false", h, w)
			}
			x, dy := make([]float32, h*w), make([]float32, p*q)
			for i := range x {
				x[i] = float32(r.IntN(9)-4) / 8 // ties within windows
			}
			for i := range dy {
				dy[i] = float32(r.NormFloat64()) + 8
			}
			gen := poolTask{g: g, kind: poolMax}
			wantY, gotY := make([]float32, p*q), make([]float32, p*q)
			gen.forward(x, wantY)
			max2x2(g, x, gotY)
			wantDX, gotDX := make([]float32, h*w), make([]float32, h*w)
			gen.maxBack(x, wantY, dy, wantDX)
			for i := range gotDX {
				gotDX[i] = float32(math.NaN())
			}
			maxBack2x2(g, x, gotY, dy, gotDX)
			for i := range wantY {
				if math.Float32bits(gotY[i]) != math.Float32bits(wantY[i]) {
					t.Fatalf("%dx%d: y[%d] = %g, general path %g", h, w, i, gotY[i], wantY[i])
				}
			}
			for i := range wantDX {
				if math.Float32bits(gotDX[i]) != math.Float32bits(wantDX[i]) {
					t.Fatalf("%dx%d: dx[%d] = %g, general path %g", h, w, i, gotDX[i], wantDX[i])
				}
			}
		}
	}
}

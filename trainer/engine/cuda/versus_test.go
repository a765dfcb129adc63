package cuda

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/enginetest"
)

// versusCase runs one op on a backend from host inputs and returns host
// outputs. half asks the GPU side to compute in bfloat16 (inputs cast with
// Copy); the CPU side always computes in float32.
type versusCase struct {
	op     string
	dtype  string  // fp32, tf32 or bf16: selects the GPU backend and bound
	bound  float64 // largest accepted max|gpu−cpu| / max|cpu|
	shapes []engine.Shape
	run    func(b engine.Backend, in []engine.Tensor, half bool) []engine.Tensor
}

// Relative-error bounds per dtype, against the CPU backend in float32.
const (
	boundFP32 = 1e-4 // different summation orders only
	boundTF32 = 2e-3 // 10-bit mantissa inputs; expected near 3e-4
	boundBF16 = 1e-2 // 7-bit mantissa inputs; expected 1e-3..1e-2
)

func toHalf(b engine.Backend, t engine.Tensor) engine.Tensor {
	h := engine.New(b, engine.BFloat16, t.Shape)
	b.Copy(h, t)
	return h
}

// versusCases lists the table's cases; small shrinks the GEMM and
// convolution sizes for the (slow) CPU emulation.
func versusCases(small bool) []versusCase {
	gm, gn, gk, cn := 256, 384, 576, 32
	if small {
		gm, gn, gk, cn = 32, 48, 72, 2
	}
	var cs []versusCase
	for _, dt := range []string{"fp32", "tf32", "bf16"} {
		bound := map[string]float64{"fp32": boundFP32, "tf32": boundTF32, "bf16": boundBF16}[dt]
		half := dt == "bf16"
		cs = append(cs, versusCase{fmt.Sprintf("gemm %dx%dx%d", gm, gn, gk), dt, bound, []engine.Shape{{gm, gk}, {gk, gn}},
			func(b engine.Backend, in []engine.Tensor, h bool) []engine.Tensor {
				c := engine.New(b, engine.Float32, engine.Shape{gm, gn})
				a, bb := in[0], in[1]
				if h && half {
					a, bb = toHalf(b, a), toHalf(b, bb)
				}
				b.Gemm(false, false, 1, a, bb, 0, c)
				return []engine.Tensor{c}
			}})
		// The bf16 backend has SetPrecision(BFloat16): its convolutions
		// autocast float32 tensors to bfloat16 (or fall back to float32
		// where cuDNN refuses the shape).
		d := engine.ConvDesc{PadH: 1, PadW: 1}
		xs, ws, ys := engine.Shape{cn, 64, 16, 16}, engine.Shape{128, 64, 3, 3}, engine.Shape{cn, 128, 16, 16}
		cs = append(cs,
			versusCase{"conv fwd 3x3 64->128", dt, bound, []engine.Shape{xs, ws},
				func(b engine.Backend, in []engine.Tensor, _ bool) []engine.Tensor {
					y := engine.New(b, engine.Float32, ys)
					b.ConvForward(d, in[0], in[1], y)
					return []engine.Tensor{y}
				}},
			versusCase{"conv bwd data+filter", dt, bound, []engine.Shape{xs, ws, ys},
				func(b engine.Backend, in []engine.Tensor, _ bool) []engine.Tensor {
					dx := engine.New(b, engine.Float32, xs)
					dw := engine.New(b, engine.Float32, ws)
					b.ConvBackwardData(d, in[2], in[1], dx)
					b.ConvBackwardFilter(d, in[0], in[2], dw)
					return []engine.Tensor{dx, dw}
				}},
			versusCase{"conv depthwise s2", dt, bound, []engine.Shape{{8, 32, 16, 16}, {32, 1, 3, 3}},
				func(b engine.Backend, in []engine.Tensor, _ bool) []engine.Tensor {
					dd := engine.ConvDesc{PadH: 1, PadW: 1, StrideH: 2, StrideW: 2, Groups: 32}
					y := engine.New(b, engine.Float32, engine.Shape{8, 32, 8, 8})
					b.ConvForward(dd, in[0], in[1], y)
					return []engine.Tensor{y}
				}})
	}
	return append(cs, fp32Cases()...)
}

// fp32Cases are the kernel ops, which compute in float32 whatever the
// GEMM precision.
func fp32Cases() []versusCase {
	x4 := engine.Shape{16, 32, 8, 8}
	c1 := engine.Shape{32}
	return []versusCase{
		{"batchnorm train fwd+bwd", "fp32", boundFP32, []engine.Shape{x4, c1, c1, x4},
			func(b engine.Backend, in []engine.Tensor, _ bool) []engine.Tensor {
				rm, rv := engine.New(b, engine.Float32, c1), engine.New(b, engine.Float32, c1)
				b.Fill(rv, 1)
				mean, inv := engine.New(b, engine.Float32, c1), engine.New(b, engine.Float32, c1)
				y, dx := engine.New(b, engine.Float32, x4), engine.New(b, engine.Float32, x4)
				dg, db := engine.New(b, engine.Float32, c1), engine.New(b, engine.Float32, c1)
				bn := engine.BatchNormDesc{Eps: 1e-5, Momentum: 0.1}
				b.BatchNormTrain(in[0], in[1], in[2], bn, rm, rv, mean, inv, y)
				b.BatchNormBackward(in[0], in[3], in[1], mean, inv, dx, dg, db)
				return []engine.Tensor{y, rm, rv, dx, dg, db}
			}},
		{"maxpool+avgpool fwd+bwd", "fp32", boundFP32, []engine.Shape{x4, {16, 32, 4, 4}},
			func(b engine.Backend, in []engine.Tensor, _ bool) []engine.Tensor {
				d := engine.PoolDesc{KH: 2, KW: 2}
				ym, ya := engine.New(b, engine.Float32, in[1].Shape), engine.New(b, engine.Float32, in[1].Shape)
				dxm, dxa := engine.New(b, engine.Float32, x4), engine.New(b, engine.Float32, x4)
				b.MaxPoolForward(d, in[0], ym)
				b.MaxPoolBackward(d, in[0], ym, in[1], dxm)
				b.AvgPoolForward(d, in[0], ya)
				b.AvgPoolBackward(d, in[1], dxa)
				return []engine.Tensor{ym, dxm, ya, dxa}
			}},
		{"silu/sigmoid/relu/gelu fwd+bwd", "fp32", boundFP32, []engine.Shape{x4, x4},
			func(b engine.Backend, in []engine.Tensor, _ bool) []engine.Tensor {
				var out []engine.Tensor
				for _, act := range []engine.Act{engine.ReLU, engine.SiLU, engine.Sigmoid, engine.GELU} {
					y, dx := engine.New(b, engine.Float32, x4), engine.New(b, engine.Float32, x4)
					b.ActForward(act, in[0], y)
					b.ActBackward(act, in[0], y, in[1], dx)
					out = append(out, y, dx)
				}
				return out
			}},
		{"softmax xent ls=0.1", "fp32", boundFP32, []engine.Shape{{128, 10}},
			func(b engine.Backend, in []engine.Tensor, _ bool) []engine.Tensor {
				labels := engine.New(b, engine.Int32, engine.Shape{128})
				ys := make([]int32, 128)
				for i := range ys {
					ys[i] = int32(i*7) % 10
				}
				b.CopyInInt32(labels, ys)
				loss, dl := engine.New(b, engine.Float32, engine.Shape{128}), engine.New(b, engine.Float32, in[0].Shape)
				b.SoftmaxCrossEntropy(in[0], labels, 0.1, 1.0/128, loss, dl)
				return []engine.Tensor{loss, dl}
			}},
		{"sgd nesterov + adamw", "fp32", boundFP32, []engine.Shape{{4096}, {4096}},
			func(b engine.Backend, in []engine.Tensor, _ bool) []engine.Tensor {
				p := engine.New(b, engine.Float32, in[0].Shape)
				b.Copy(p, in[0])
				v, m, v2 := engine.New(b, engine.Float32, p.Shape), engine.New(b, engine.Float32, p.Shape), engine.New(b, engine.Float32, p.Shape)
				for step := 1; step <= 3; step++ {
					b.SGDStep(engine.SGD{LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4, Nesterov: true}, p, in[1], v)
					b.AdamWStep(engine.AdamW{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, Step: step}, p, in[1], m, v2)
				}
				return []engine.Tensor{p, v, m, v2}
			}},
	}
}

// TestGPU_VersusCPU runs every case on the CPU backend and on the GPU from
// the same random inputs and prints one table row per case: the largest
// difference relative to the CPU result's magnitude, against its dtype's
// bound. NaN anywhere fails.
func TestGPU_VersusCPU(t *testing.T) {
	gpus := map[string]*Backend{"fp32": gpu(t, Options{}), "tf32": gpu(t, Options{TF32: true}), "bf16": gpu(t, Options{})}
	versusTable(t, gpus, isEmulation(gpus["fp32"]))
}

// TestEmulated_VersusCPU runs the same table on the CPU emulation (where
// tf32 is exact and convolutions do not autocast: no cuDNN).
func TestEmulated_VersusCPU(t *testing.T) {
	fp32 := emulated(t)
	versusTable(t, map[string]*Backend{"fp32": fp32, "tf32": fp32, "bf16": emulated(t)}, true)
}

// versusTable runs versusCases (small for the emulation) on gpus, keyed by
// dtype, against the CPU backend.
func versusTable(t *testing.T, gpus map[string]*Backend, small bool) {
	if err := gpus["bf16"].SetPrecision(engine.BFloat16); err != nil {
		t.Fatal(err)
	}
	host, err := cpu.New(cpu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-28s %-5s %11s %9s  %s\n", "op", "dtype", "max rel err", "bound", "result")
	for i, c := range versusCases(small) {
		g := gpus[c.dtype]
		rel, verdict := runVersus(host, g, uint64(i+1), c)
		fmt.Fprintf(&table, "%-28s %-5s %11.3g %9.0e  %s\n", c.op, c.dtype, rel, c.bound, verdict)
		// One line per case in a fixed format for scripts/gpu-check.sh.
		t.Logf("VERSUS|%s|%s|%.3g|%.0e|%s", c.op, c.dtype, rel, c.bound, verdict)
		if verdict != "PASS" {
			t.Errorf("%s %s: %s (max rel err %.3g, bound %.0e)", c.op, c.dtype, verdict, rel, c.bound)
		}
	}
	t.Log(table.String())
	for dt, g := range gpus {
		if err := g.Sync(); err != nil {
			t.Errorf("%s backend: %v", dt, err)
		}
	}
}

func runVersus(host engine.Backend, g *Backend, seed uint64, c versusCase) (rel float64, verdict string) {
	defer func() {
		if r := recover(); r != nil {
			rel, verdict = math.NaN(), fmt.Sprintf("PANIC %v", r)
		}
	}()
	inputs := func(b engine.Backend) []engine.Tensor {
		var ts []engine.Tensor
		for j, s := range c.shapes {
			x, _ := enginetest.Tensor(b, seed*31+uint64(j), s)
			ts = append(ts, x)
		}
		return ts
	}
	want := c.run(host, inputs(host), false)
	got := c.run(g, inputs(g), true)
	// Each output is its own tensor with its own scale (dx and dw of a
	// convolution differ by orders of magnitude): the relative error is
	// per output, max|gpu−cpu| / max|cpu| in float64, and the case's error
	// is the worst output's. One shared denominator would let a small
	// output's error hide behind a large output's values.
	for k := range want {
		w, h := engine.ToHost(host, want[k]), engine.ToHost(g, got[k])
		var maxDiff, maxRef float64
		for i := range w {
			if math.IsNaN(float64(h[i])) || math.IsNaN(float64(w[i])) || math.IsInf(float64(h[i]), 0) {
				return math.NaN(), "FAIL (NaN/Inf)"
			}
			maxDiff = max(maxDiff, math.Abs(float64(h[i])-float64(w[i])))
			maxRef = max(maxRef, math.Abs(float64(w[i])))
		}
		rel = max(rel, maxDiff/max(maxRef, 1e-6))
	}
	if rel <= c.bound {
		return rel, "PASS"
	}
	return rel, "FAIL"
}

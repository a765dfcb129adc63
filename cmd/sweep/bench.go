package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"sweep/trainer/bench"
	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/cuda"
	"sweep/trainer/engine/cuda/devsched"
	"sweep/trainer/models"
)

// benchOptions are the flags of `sweep bench trainer`.
type benchOptions struct {
	env    *env
	Model  string
	Batch  int
	Steps  int
	Device string
	// Precision is the GEMM and convolution arithmetic: fp32, bf16 (CPU
	// and CUDA) or fp16 (CUDA only).
	Precision string
	Stem      string
	SE        bool
	Width     float64
	JSON      bool
}

func newBenchCmd(e *env, runF func(context.Context, *benchOptions) error) *cobra.Command {
	parent := &cobra.Command{
		Use:   "bench",
		Short: "Measure sweep's components",
	}
	opts := &benchOptions{env: e}
	cmd := &cobra.Command{
		Use:   "trainer",
		Short: "Measure training speed of a model on random data",
		Long: `Train a model on random 32x32 images and print per-layer forward and
backward times, training images per second, FLOPs per image, the achieved
GFLOP/s, the SGEMM GFLOP/s of the same backend measured in the same run
(1024³) and their ratio, allocations per step and peak RSS.

The CPU backend uses OpenBLAS when installed (SWEEP_BLAS=go forces the
pure-Go SGEMM, SWEEP_THREADS sets the thread count); --precision bf16 runs
its GEMMs and convolutions with bf16 operands and float32 accumulation
(AVX512-BF16 assembly, or Go where the CPU lacks it or SWEEP_BLAS=go).
On --device cuda, --precision bf16 or fp16 runs GEMM and convolutions on
16-bit tensor cores with float32 accumulation; SWEEP_TF32=1 allows TF32
for fp32 (see sweep doctor). In bf16 or fp16 the GEMM at that precision is
measured too (1024³, same run) with the training GFLOP/s's ratio to it.
fastnet is measured with its trainable 3x3 stem, since random data has no
whitening statistics; fastnet94 is examples/airbench94.yaml's network
(whitening stem fitted to random images and frozen, as after the run's
whiten_bias_epochs, GELU, frozen-scale batch norm) and fastnet95 the same
at airbench95's widths 128/384/384, examples/fastnet-94.yaml's network,
the speed that decides the 94% run's wall time.`,
		Example: `  sweep bench trainer
  sweep bench trainer --model resnet18 --steps 5 --json
  SWEEP_BLAS=go sweep bench trainer --batch 64
  sweep bench trainer --model fastnet --precision bf16 --batch 256 --json
  sweep bench trainer --model fastnet95 --precision bf16 --batch 1024 --steps 2
  sweep bench trainer --device cuda --model fastnet --precision bf16 --batch 256`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(bench.Models, opts.Model) {
				return usageErrorf("--model %q: want one of %s", opts.Model, strings.Join(bench.Models, ", "))
			}
			if _, ok := engine.ParsePrecision(opts.Precision); !ok {
				return usageErrorf("--precision %q: want fp32, bf16 or fp16", opts.Precision)
			}
			if opts.Batch < 1 || opts.Steps < 1 {
				return usageErrorf("--batch %d --steps %d: both must be ≥ 1", opts.Batch, opts.Steps)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runBench(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Model, "model", "tiny", "model: "+strings.Join(bench.Models, ", "))
	f.IntVar(&opts.Batch, "batch", 128, "images per step")
	f.IntVar(&opts.Steps, "steps", 10, "timed steps (after 2 warm-up steps)")
	f.StringVar(&opts.Device, "device", "cpu", "cpu, cuda or cuda:N")
	f.StringVar(&opts.Precision, "precision", "fp32", "GEMM and convolution precision: fp32, bf16, or fp16 (cuda only)")
	f.StringVar(&opts.Stem, "stem", "standard", "resnet stem: standard or article")
	f.BoolVar(&opts.SE, "se", false, "add squeeze-excitation to resnet blocks")
	f.Float64Var(&opts.Width, "width", 1, "channel width multiplier")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object")
	noFiles := cobra.ShellCompDirectiveNoFileComp
	_ = cmd.RegisterFlagCompletionFunc("model", cobra.FixedCompletions(bench.Models, noFiles))
	_ = cmd.RegisterFlagCompletionFunc("device", cobra.FixedCompletions([]string{"cpu", "cuda"}, noFiles))
	_ = cmd.RegisterFlagCompletionFunc("precision", cobra.FixedCompletions([]string{"fp32", "bf16", "fp16"}, noFiles))
	_ = cmd.RegisterFlagCompletionFunc("stem", cobra.FixedCompletions([]string{"standard", "article"}, noFiles))
	parent.AddCommand(cmd)
	return parent
}

func runBench(ctx context.Context, opts *benchOptions) error {
	b, closeB, err := openBenchBackend(opts)
	if err != nil {
		return err
	}
	defer closeB()
	r, err := bench.Run(ctx, b, bench.Config{
		Model:   opts.Model,
		Options: models.Options{Seed: 1, Stem: opts.Stem, SE: opts.SE, Width: opts.Width},
		Batch:   opts.Batch,
		Steps:   opts.Steps,
	})
	if err != nil {
		return err
	}
	if r.Precision == "" {
		r.Precision = opts.Precision
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.env.Out)
		return enc.Encode(r)
	}
	return r.WriteText(opts.env.Out)
}

func openBenchBackend(opts *benchOptions) (engine.Backend, func(), error) {
	switch dev := opts.Device; {
	case dev == "cpu":
		o := cpu.OptionsFromEnv(opts.env.Getenv)
		switch opts.Precision {
		case "", "fp32":
		case "bf16":
			o.GEMM = cpu.BF16
		default:
			return nil, nil, fmt.Errorf("--precision %s: the cpu backend computes in fp32 or bf16; use --device cuda", opts.Precision)
		}
		o.Log = opts.env.Err
		b, err := cpu.New(o)
		if err != nil {
			return nil, nil, fmt.Errorf("open cpu backend: %w", err)
		}
		return b, b.Close, nil
	case dev == "cuda" || strings.HasPrefix(dev, "cuda:"):
		if _, err := devsched.ParseSlot(dev); err != nil {
			return nil, nil, fmt.Errorf("--device %q: want cuda:N with N a GPU ordinal", dev)
		}
		b, err := cuda.Open(dev, opts.env.Getenv) // SWEEP_TF32, SWEEP_CUDNN, ...
		if err != nil {
			return nil, nil, fmt.Errorf("open cuda backend: %w", err)
		}
		dt, _ := engine.ParsePrecision(opts.Precision)
		if err := b.SetPrecision(dt); err != nil {
			b.Close()
			return nil, nil, fmt.Errorf("--precision %s: %w", opts.Precision, err)
		}
		return b, func() { b.Close() }, nil
	}
	return nil, nil, fmt.Errorf("--device %q: want cpu, cuda or cuda:N", opts.Device)
}

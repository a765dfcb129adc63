// Package bench measures the training engine: per-layer forward and
// backward times, training throughput, achieved GFLOP/s against the SGEMM
// GFLOP/s of the same backend measured in the same run, allocations per
// step and peak RSS. It backs `sweep bench trainer` and the engine's Go
// benchmarks. It does not judge the numbers; targets live in the issue and
// the report.
package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sweep/trainer/engine"
	"sweep/trainer/models"
)

// Config selects what to measure.
type Config struct {
	Model   string // a name of models.Names
	Options models.Options
	Batch   int // images per step; 0 means 128
	Steps   int // timed steps; 0 means 10
	Warmup  int // untimed steps first; 0 means 2
	// SGEMMSize is the n of the n×n×n SGEMM reference; 0 means 1024, -1
	// skips it.
	SGEMMSize int
}

// LayerTime is one top-level block's mean time per step.
type LayerTime struct {
	Name       string  `json:"name"`
	ForwardMS  float64 `json:"forward_ms"`
	BackwardMS float64 `json:"backward_ms"`
}

// Result is one measurement. FLOPs count multiply-adds as two; training
// FLOPs are three times the forward FLOPs of convolutions and linear layers
// (forward, input gradient, weight gradient), the usual convention.
type Result struct {
	Model         string  `json:"model"`
	Backend       string  `json:"backend"`
	Precision     string  `json:"precision,omitempty"` // GEMM/conv arithmetic: fp32, bf16, fp16
	Threads       int     `json:"threads"`
	Batch         int     `json:"batch"`
	Steps         int     `json:"steps"`
	StepMS        float64 `json:"step_ms"`
	CPUMSPerStep  float64 `json:"cpu_ms_per_step"` // process CPU time (all threads) per step
	ImgPerS       float64 `json:"img_per_s"`
	FwdFLOPsImg   int64   `json:"forward_flops_per_image"`
	TrainFLOPsImg int64   `json:"train_flops_per_image"`
	TrainGFLOPs   float64 `json:"train_gflops"`
	SGEMMGFLOPs   float64 `json:"sgemm_gflops"`
	Ratio         float64 `json:"ratio"`
	// GEMMGFLOPs is the GFLOP/s of the backend's GEMM at the run's 16-bit
	// precision (bf16 or fp16; SGEMMGFLOPs is always float32), measured
	// the same way in the same run, and GEMMRatio the training GFLOP/s
	// over it; both zero in fp32.
	GEMMGFLOPs float64 `json:"gemm_gflops,omitempty"`
	GEMMRatio  float64 `json:"gemm_ratio,omitempty"`
	// CPURatio is the same ratio with both rates per CPU-second (process
	// CPU time over all threads) instead of per wall second: on a shared
	// machine, where other processes inflate wall times unevenly, it is
	// the steadier measure of the engine's efficiency.
	CPURatio      float64     `json:"cpu_ratio"`
	AllocsPerStep float64     `json:"allocs_per_step"`
	PeakRSSMB     float64     `json:"peak_rss_mb"`
	FinalLoss     float64     `json:"final_loss"`
	Layers        []LayerTime `json:"layers"`
}

// Run builds cfg.Model on b and measures training steps on random data
// (SGD with momentum, so the optimizer update is part of a step).
func Run(ctx context.Context, b engine.Backend, cfg Config) (*Result, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = 128
	}
	if cfg.Steps <= 0 {
		cfg.Steps = 10
	}
	if cfg.Warmup <= 0 {
		cfg.Warmup = 2
	}
	m, err := newModel(cfg, b)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	s := newStepper(b, m, cfg.Batch)
	for i := 0; i < cfg.Warmup; i++ {
		s.step(nil)
	}
	if err := b.Sync(); err != nil {
		return nil, fmt.Errorf("bench: warm up: %w", err)
	}
	times := make([]LayerTime, len(m.Layers))
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	c0 := processCPU()
	t0 := time.Now()
	for i := 0; i < cfg.Steps; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.step(times)
	}
	if err := b.Sync(); err != nil {
		return nil, fmt.Errorf("bench: step: %w", err)
	}
	el := time.Since(t0)
	cpu := processCPU() - c0
	runtime.ReadMemStats(&ms1)
	r := &Result{Model: cfg.Model, Backend: b.Name(), Threads: runtime.GOMAXPROCS(0), Batch: cfg.Batch, Steps: cfg.Steps}
	if p, ok := b.(precisioner); ok {
		r.Precision = precisionName(p.Precision())
	}
	r.StepMS = el.Seconds() * 1000 / float64(cfg.Steps)
	r.CPUMSPerStep = cpu.Seconds() * 1000 / float64(cfg.Steps)
	r.ImgPerS = float64(cfg.Batch*cfg.Steps) / el.Seconds()
	r.FwdFLOPsImg = int64(engine.ForwardFLOPs(m))
	r.TrainFLOPsImg = 3 * r.FwdFLOPsImg
	r.TrainGFLOPs = float64(r.TrainFLOPsImg) * r.ImgPerS / 1e9
	r.AllocsPerStep = float64(ms1.Mallocs-ms0.Mallocs) / float64(cfg.Steps)
	r.FinalLoss = s.loss.Mean()
	for i, l := range m.Layers {
		times[i].Name = blockName(l, i)
		times[i].ForwardMS /= float64(cfg.Steps)
		times[i].BackwardMS /= float64(cfg.Steps)
	}
	r.Layers = times
	if cfg.SGEMMSize >= 0 {
		r.compareSGEMM(b, cfg, cpu)
	}
	r.PeakRSSMB = PeakRSSMB()
	return r, nil
}

// Models lists the models Run builds: models.Names, fastnet, fastnet94
// and fastnet95.
var Models = append(slices.Clone(models.Names), "fastnet", "fastnet94", "fastnet95")

// newModel builds cfg.Model on b. fastnet gets its trainable 3×3 stem
// (random data has no whitening statistics), so its FLOPs differ slightly
// from the whitened network the trainer builds. fastnet94 is the network
// of examples/airbench94.yaml: the whitening stem (fitted to random
// images: the filters differ, the work does not), GELU, frozen-scale batch
// norm and airbench's init, with the stem frozen as it is for most of the
// run. fastnet95 is the same network at airbench95's widths, 128/384/384,
// the network of examples/fastnet-94.yaml, whose speed decides the 94%
// run's wall time.
func newModel(cfg Config, b engine.Backend) (*models.Model, error) {
	o := models.FastNetOptions{Seed: cfg.Options.Seed, Width: cfg.Options.Width}
	switch cfg.Model {
	case "fastnet":
	case "fastnet94", "fastnet95":
		const n = 256
		r := engine.NewRand(cfg.Options.Seed + 1)
		o.Whiten, o.WhitenN = make([]float32, n*3*32*32), n
		for i := range o.Whiten {
			o.Whiten[i] = float32(r.NormFloat64())
		}
		o = o.Airbench94()
		if cfg.Model == "fastnet95" {
			o.Widths = [3]int{128, 384, 384}
		}
	default:
		return models.New(cfg.Model, b, cfg.Options)
	}
	f := models.NewFastNet(b, o)
	if cfg.Model != "fastnet" {
		// As in the recipe's epochs after whiten_bias_epochs (10 of 13):
		// the stem trains nothing and backward ends at stage1.
		f.FreezeStem()
	}
	return &models.Model{Sequential: f.Unwrap().(*engine.Sequential), Name: cfg.Model}, nil
}

// precisioner is a backend whose GEMM arithmetic is switchable (the CPU
// backend's bf16 GEMM, the CUDA backend's mixed precision).
type precisioner interface {
	Precision() engine.DType
	SetPrecision(engine.DType) error
}

// compareSGEMM measures the backend's SGEMM and sets the ratios. A backend
// training in 16 bits has its GEMM measured at that precision as well,
// and is switched to float32 for the SGEMM and back.
func (r *Result) compareSGEMM(b engine.Backend, cfg Config, cpu time.Duration) {
	n := cfg.SGEMMSize
	if n == 0 {
		n = 1024
	}
	if p, ok := b.(precisioner); ok && p.Precision() != engine.Float32 {
		dt := p.Precision()
		r.GEMMGFLOPs, _ = sgemm(b, n, 0)
		if r.GEMMGFLOPs > 0 {
			r.GEMMRatio = r.TrainGFLOPs / r.GEMMGFLOPs
		}
		if p.SetPrecision(engine.Float32) == nil {
			defer p.SetPrecision(dt)
		}
	}
	var perCPU float64
	r.SGEMMGFLOPs, perCPU = sgemm(b, n, 0)
	if r.SGEMMGFLOPs > 0 {
		r.Ratio = r.TrainGFLOPs / r.SGEMMGFLOPs
	}
	if perCPU > 0 && cpu > 0 {
		trainPerCPU := float64(r.TrainFLOPsImg) * float64(cfg.Batch*cfg.Steps) / cpu.Seconds() / 1e9
		r.CPURatio = trainPerCPU / perCPU
	}
}

// stepper holds one model's training state on random data.
type stepper struct {
	b         engine.Backend
	m         *models.Model
	x, labels engine.Tensor
	loss      *engine.SoftmaxCE
	params    []*engine.Param
	velocity  []engine.Tensor
}

func newStepper(b engine.Backend, m *models.Model, batch int) *stepper {
	s := &stepper{b: b, m: m, loss: engine.NewSoftmaxCE(b, 0.1), params: m.Params()}
	x := make([]float32, batch*3*32*32)
	var z uint64 = 1
	for i := range x {
		x[i] = engine.Uniform(z, uint64(i))*2 - 1
	}
	s.x = engine.FromHost(b, engine.Shape{batch, 3, 32, 32}, x)
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(i % 10)
	}
	s.labels = engine.New(b, engine.Int32, engine.Shape{batch})
	b.CopyInInt32(s.labels, labels)
	for _, p := range s.params {
		s.velocity = append(s.velocity, engine.New(b, engine.Float32, p.Value.Shape))
	}
	return s
}

// step runs forward, loss, zero-grad, backward and SGD; with times non-nil
// it adds each block's forward and backward milliseconds (synchronising
// after each block, which a GPU backend pays for).
func (s *stepper) step(times []LayerTime) {
	x := s.x
	for i, l := range s.m.Layers {
		t := time.Now()
		x = l.Forward(x, engine.Train)
		if times != nil {
			s.b.Sync()
			times[i].ForwardMS += ms(t)
		}
	}
	d := s.loss.Forward(x, s.labels, engine.Train)
	engine.ZeroGrad(s.b, s.params)
	for i := len(s.m.Layers) - 1; i >= 0 && !d.IsZero(); i-- { // zero: backward ends (a frozen stem)
		t := time.Now()
		d = s.m.Layers[i].Backward(d)
		if times != nil {
			s.b.Sync()
			times[i].BackwardMS += ms(t)
		}
	}
	h := engine.SGD{LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4}
	for i, p := range s.params {
		s.b.SGDStep(h, p.Value, p.Grad, s.velocity[i])
	}
}

// precisionName is the config spelling of a GEMM dtype (fp32, bf16, fp16).
func precisionName(dt engine.DType) string {
	switch dt {
	case engine.BFloat16:
		return "bf16"
	case engine.Float16:
		return "fp16"
	}
	return "fp32"
}

func ms(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// blockName names a top-level block by its first parameter's prefix, or by
// its type.
func blockName(l engine.Layer, i int) string {
	if ps := l.Params(); len(ps) > 0 {
		n := ps[0].Name
		if j := strings.LastIndex(n, "."); j > 0 {
			n = n[:j]
		}
		if strings.HasSuffix(n, ".conv1") || strings.HasSuffix(n, ".conv") {
			n = n[:strings.LastIndex(n, ".")]
		}
		return n
	}
	t := fmt.Sprintf("%T", l)
	return fmt.Sprintf("%d:%s", i, t[strings.LastIndex(t, ".")+1:])
}

// SGEMM returns the GFLOP/s of b.Gemm on n×n×n float32 matrices, the best of
// reps runs (0 means enough runs for about half a second).
func SGEMM(b engine.Backend, n, reps int) float64 {
	g, _ := sgemm(b, n, reps)
	return g
}

// sgemm returns SGEMM's best wall-clock GFLOP/s and its GFLOP per second of
// process CPU time over all runs.
func sgemm(b engine.Backend, n, reps int) (wall, perCPU float64) {
	s := engine.Shape{n, n}
	a, bm, c := engine.New(b, engine.Float32, s), engine.New(b, engine.Float32, s), engine.New(b, engine.Float32, s)
	defer func() { b.Free(a.Buf); b.Free(bm.Buf); b.Free(c.Buf) }()
	b.Fill(a, 0.5)
	b.Fill(bm, 0.25)
	b.Gemm(false, false, 1, a, bm, 0, c) // warm up: thread pools, packing buffers
	b.Sync()
	best, runs := 0.0, 0
	start, c0 := time.Now(), processCPU()
	flops := 2 * float64(n) * float64(n) * float64(n)
	for ; reps > 0 && runs < reps || reps == 0 && (runs < 3 || time.Since(start) < 500*time.Millisecond); runs++ {
		t := time.Now()
		b.Gemm(false, false, 1, a, bm, 0, c)
		b.Sync()
		best = max(best, flops/time.Since(t).Seconds()/1e9)
	}
	if cpu := processCPU() - c0; cpu > 0 {
		perCPU = flops * float64(runs) / cpu.Seconds() / 1e9
	}
	return best, perCPU
}

// processCPU returns the user and system CPU time of the process so far.
// On a shared machine it shows the work a step costs even when the wall
// clock is inflated by other processes.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PeakRSSMB returns the process's peak resident set size (VmHWM) in MiB, or
// 0 where /proc is unavailable.
func PeakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

package trainer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"sweep/trainer/engine"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/cuda"
	"sweep/trainer/engine/cuda/devsched"
	"sweep/trainer/models"
)

// Net is what Train needs of a model: an engine layer (the models of
// package models are engine.Sequential chains of blocks).
type Net = engine.Layer

// BlockOutputs is optionally implemented by a Net to expose each block's
// last output (after its ReLU) for monitoring: activation statistics and
// dead-unit fractions. Tensors are valid after a Forward.
type BlockOutputs interface {
	BlockOutputs() (names []string, outs []engine.Tensor)
}

// precisionSetter is optionally implemented by a backend that can keep
// activations in 16-bit floats (mixed precision) while weights and
// optimizer state stay float32.
type precisionSetter interface {
	SetPrecision(dt engine.DType) error
}

// openBackend returns the backend of c.Device and its release function.
func openBackend(c *Config, log io.Writer) (engine.Backend, func(), error) {
	if log == nil {
		log = io.Discard
	}
	var b engine.Backend
	closeB := func() {}
	switch dev := resolveDevice(c, log, cuda.Devices); {
	case dev == "" || dev == "cpu":
		o := cpu.OptionsFromEnv(os.Getenv) // SWEEP_BLAS, SWEEP_THREADS, as for sweep bench
		o.Log = log
		cb, err := cpu.New(o)
		if err != nil {
			return nil, nil, fmt.Errorf("open cpu backend: %w", err)
		}
		b, closeB = cb, cb.Close
	case dev == "cuda" || strings.HasPrefix(dev, "cuda:"):
		if _, err := devsched.ParseSlot(dev); err != nil {
			return nil, nil, &FieldError{Field: "device", Msg: fmt.Sprintf("%q: want cuda:N with N a GPU ordinal", dev)}
		}
		gb, err := cuda.Open(dev, nil) // SWEEP_TF32, SWEEP_CUDNN, ... (see cuda.OptionsFromEnv)
		if err != nil {
			return nil, nil, fmt.Errorf("open cuda backend: %w", err)
		}
		b, closeB = gb, func() { gb.Close() }
	default:
		return nil, nil, &FieldError{Field: "device", Msg: fmt.Sprintf("%q is not cpu, auto, cuda or cuda:N", dev)}
	}
	if dt, ok := engine.ParsePrecision(c.Precision); ok && dt != engine.Float32 {
		ps, ok := b.(precisionSetter)
		if !ok {
			closeB()
			return nil, nil, &FieldError{Field: "precision", Msg: fmt.Sprintf("%s needs device: cuda; backend %s computes in fp32 only", c.Precision, b.Name())}
		} else if err := ps.SetPrecision(dt); errors.Is(err, engine.ErrUnsupported) {
			closeB()
			return nil, nil, &FieldError{Field: "precision", Msg: fmt.Sprintf("backend %s cannot compute in %s (the CPU has fp32 and bf16; fp16 needs device: cuda)", b.Name(), c.Precision)}
		} else if err != nil {
			closeB()
			return nil, nil, fmt.Errorf("set precision %s: %w", c.Precision, err)
		}
	}
	return b, closeB, nil
}

// whitenImages is how many training images fit fastnet's whitening stem
// (airbench uses 5000; 2000 give the same 12×12 covariance to <1%).
const whitenImages = 2000

// buildModel constructs c.Model on b with seeded initialisation.
func buildModel(b engine.Backend, c *Config, d *splits) (Net, error) {
	switch c.Model {
	case "fastnet":
		imgs, n := d.sample(whitenImages)
		act, ok := engine.ParseAct(c.Act)
		if !ok { // "": the default
			act = engine.ReLU
		}
		o := models.FastNetOptions{Seed: c.Seed, Width: c.Width, Whiten: imgs, WhitenN: n,
			Act: act, Init: c.Init, BN: engine.BatchNormOptions{
				Eps: float32(c.BNEps), Momentum: float32(c.BNMomentum), FrozenScale: c.BNFrozenScale}}
		copy(o.Widths[:], c.Widths)
		return models.NewFastNet(b, o), nil
	}
	m, err := models.New(c.Model, b, models.Options{
		Seed: c.Seed, Classes: numClasses, Width: c.Width, Stem: c.Stem, SE: c.SE, SEReduction: c.SEReduction})
	if err != nil {
		return nil, &FieldError{Field: "model", Msg: err.Error()}
	}
	return m, nil
}

// saveCheckpoint writes the model's weights and buffers (batch-norm
// statistics) to path in the engine's checkpoint format, through a
// temporary file so that a crash never leaves half a checkpoint.
func saveCheckpoint(b engine.Backend, net Net, path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	ps := append(net.Params(), engine.Buffers(net)...)
	if err := engine.Save(f, b, ps); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

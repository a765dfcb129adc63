package data

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// CIFAR-10 training-set channel statistics (R, G, B) of pixels scaled to
// [0, 1], computed over all 50,000 training images (population std).
var (
	CIFAR10Mean = [3]float64{0.4913996786, 0.4821584084, 0.4465309145}
	CIFAR10Std  = [3]float64{0.2470322324, 0.2434851280, 0.2615878417}
)

// Config describes the training-time augmentation. Each transform is off at
// its zero value; Normalize's zero value means the CIFAR-10 statistics.
//
// Strength builds the whole config from one number s in [0, 1]
// (see [Classic] and [Cheap]). In YAML, `strength` (and `preset`) are applied
// first and every other key present overrides the value strength gave it:
//
//	augment:
//	  strength: 0.5        # classic recipe at half strength
//	  rotation: 0          # ... but no rotation
//	  jitter: {hue: 0}     # ... and no hue jitter
//
// The transforms run in this order (torchvision's classic CIFAR order):
// RandomResizedCrop, pad-and-crop, horizontal flip, colour jitter (its four
// parts in random order), grayscale, rotation, Normalize, erasing, cutout.
// The evaluation transform is Normalize alone.
type Config struct {
	// Preset is what Strength builds: "classic" (default) or "cheap".
	Preset   string  `yaml:"preset"`
	Strength float64 `yaml:"strength"`

	Crop    CropConfig    `yaml:"crop"`     // RandomResizedCrop(32, scale, ratio), bilinear
	PadCrop PadCropConfig `yaml:"pad_crop"` // pad, then random 32×32 crop
	Flip    float64       `yaml:"flip"`     // RandomHorizontalFlip probability
	// AltFlip replaces the random flip (Flip is then ignored) with
	// airbench94's alternating flip: each image gets a random flip state
	// once, drawn from the loader's seed, and is flipped in every other
	// epoch from there, so that over any two epochs it is seen both ways.
	AltFlip   bool            `yaml:"alt_flip"`
	Jitter    JitterConfig    `yaml:"jitter"`    // ColorJitter applied with probability P
	Grayscale float64         `yaml:"grayscale"` // RandomGrayscale probability
	Rotation  float64         `yaml:"rotation"`  // RandomRotation(±degrees), bilinear, fill 0
	Erasing   ErasingConfig   `yaml:"erasing"`   // RandomErasing after Normalize, value 0
	Cutout    CutoutConfig    `yaml:"cutout"`    // square cutout after Normalize, value 0
	Normalize NormalizeConfig `yaml:"normalize"` // per-channel (x-mean)/std
}

// CropConfig is RandomResizedCrop: a crop covering Scale of the image area
// with aspect ratio (w/h) drawn log-uniformly from Ratio, resized back to
// 32×32 with bilinear interpolation. A zero Scale turns it off.
type CropConfig struct {
	Scale [2]float64 `yaml:"scale"`
	Ratio [2]float64 `yaml:"ratio"`
}

// PadCropConfig pads by Pad pixels ("reflect", the default, or "zero") and
// crops 32×32 at a random offset, i.e. a random translation by ±Pad.
type PadCropConfig struct {
	Pad  int    `yaml:"pad"`
	Mode string `yaml:"mode"`
}

// JitterConfig is ColorJitter applied with probability P. Brightness,
// contrast and saturation factors are drawn from [max(0,1-x), 1+x], the hue
// shift from [-Hue, Hue] (a fraction of the colour wheel, at most 0.5).
type JitterConfig struct {
	P          float64 `yaml:"p"`
	Brightness float64 `yaml:"brightness"`
	Contrast   float64 `yaml:"contrast"`
	Saturation float64 `yaml:"saturation"`
	Hue        float64 `yaml:"hue"`
}

// ErasingConfig is RandomErasing: with probability P, a rectangle covering
// Scale of the area with aspect ratio (h/w) drawn log-uniformly from Ratio
// is set to 0 (the mean pixel, since it runs after Normalize).
type ErasingConfig struct {
	P     float64    `yaml:"p"`
	Scale [2]float64 `yaml:"scale"`
	Ratio [2]float64 `yaml:"ratio"`
}

// CutoutConfig zeroes a Size×Size square (clipped at the border) centred on
// a uniformly drawn pixel, with probability P, after Normalize.
type CutoutConfig struct {
	P    float64 `yaml:"p"`
	Size int     `yaml:"size"`
}

// NormalizeConfig holds per-channel mean and std of [0,1] pixels. A zero
// Std means CIFAR10Mean and CIFAR10Std.
type NormalizeConfig struct {
	Mean [3]float64 `yaml:"mean"`
	Std  [3]float64 `yaml:"std"`
}

// Classic returns the classic CIFAR-10 recipe scaled by strength s
// (clipped to [0, 1]). Every magnitude and probability is linear in s:
//
//	crop       scale (1-0.2s, 1), ratio (1-s/4, 1+s/3)  s=1: (0.8,1), (3/4,4/3)
//	flip       p 0.5s
//	jitter     p 0.8s; brightness, contrast, saturation 0.4s; hue 0.1s
//	grayscale  p 0.2s
//	rotation   ±15s degrees
//	erasing    p 0.5s, scale (0.02s, 0.1s), ratio (0.3, 3.3)
//
// s = 0 is the identity followed by Normalize.
func Classic(s float64) Config {
	s = math.Max(0, math.Min(1, s))
	return Config{
		Preset:    "classic",
		Strength:  s,
		Crop:      CropConfig{Scale: [2]float64{1 - 0.2*s, 1}, Ratio: [2]float64{1 - s/4, 1 + s/3}},
		Flip:      0.5 * s,
		Jitter:    JitterConfig{P: 0.8 * s, Brightness: 0.4 * s, Contrast: 0.4 * s, Saturation: 0.4 * s, Hue: 0.1 * s},
		Grayscale: 0.2 * s,
		Rotation:  15 * s,
		Erasing:   ErasingConfig{P: 0.5 * s, Scale: [2]float64{0.02 * s, 0.1 * s}, Ratio: [2]float64{0.3, 3.3}},
	}
}

// Cheap returns the inexpensive recipe scaled by strength s: reflect-pad by
// round(4s) and crop, flip with p 0.5s, and a round(16s)-pixel cutout
// (p 1 when its size is non-zero).
func Cheap(s float64) Config {
	s = math.Max(0, math.Min(1, s))
	c := Config{
		Preset:   "cheap",
		Strength: s,
		PadCrop:  PadCropConfig{Pad: int(math.Round(4 * s)), Mode: "reflect"},
		Flip:     0.5 * s,
		Cutout:   CutoutConfig{Size: int(math.Round(16 * s))},
	}
	if c.Cutout.Size > 0 {
		c.Cutout.P = 1
	}
	return c
}

// FromStrength builds the config of preset ("" means classic) at strength
// s, which must be in [0, 1].
func FromStrength(preset string, s float64) (Config, error) {
	if !(s >= 0 && s <= 1) {
		return Config{}, fmt.Errorf("augment: strength = %g, want [0, 1]", s)
	}
	switch preset {
	case "", "classic":
		return Classic(s), nil
	case "cheap":
		return Cheap(s), nil
	}
	return Config{}, fmt.Errorf("augment: unknown preset %q (want classic or cheap)", preset)
}

// UnmarshalYAML applies preset and strength first, then the explicit keys
// (see [Config.Override]).
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	var head struct {
		Preset   string  `yaml:"preset"`
		Strength float64 `yaml:"strength"`
	}
	if err := n.Decode(&head); err != nil {
		return err
	}
	base, err := FromStrength(head.Preset, head.Strength)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*c = base
	return c.Override(n)
}

// Override decodes the keys present in the YAML mapping n on top of c,
// leaving the other fields as they are; preset and strength keys, if any,
// are recorded but rebuild nothing. Unknown keys are errors, so that a typo
// does not silently turn a transform off.
func (c *Config) Override(n *yaml.Node) error {
	type plain Config
	if err := checkKeys(n, reflect.TypeFor[Config](), ""); err != nil {
		return err
	}
	return n.Decode((*plain)(c))
}

// checkKeys reports the first key of mapping n that names no field of the
// struct type t, recursing into nested structs. Non-mappings are left to
// the decoder.
func checkKeys(n *yaml.Node, t reflect.Type, prefix string) error {
	if n.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		f, ok := fieldByTag(t, key.Value)
		if !ok {
			return fmt.Errorf("line %d: augment: unknown key %q", key.Line, prefix+key.Value)
		}
		if err := checkKeys(val, f.Type, prefix+key.Value+"."); err != nil {
			return err
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// Validate reports the first out-of-range field, by its YAML name.
func (c *Config) Validate() error {
	checks := []struct {
		field string
		v     float64
		lo    float64
		hi    float64
	}{
		{"strength", c.Strength, 0, 1},
		{"flip", c.Flip, 0, 1},
		{"grayscale", c.Grayscale, 0, 1},
		{"rotation", c.Rotation, 0, 180},
		{"jitter.p", c.Jitter.P, 0, 1},
		{"jitter.brightness", c.Jitter.Brightness, 0, math.Inf(1)},
		{"jitter.contrast", c.Jitter.Contrast, 0, math.Inf(1)},
		{"jitter.saturation", c.Jitter.Saturation, 0, math.Inf(1)},
		{"jitter.hue", c.Jitter.Hue, 0, 0.5},
		{"erasing.p", c.Erasing.P, 0, 1},
		{"cutout.p", c.Cutout.P, 0, 1},
		{"cutout.size", float64(c.Cutout.Size), 0, Height},
		{"pad_crop.pad", float64(c.PadCrop.Pad), 0, Height / 2},
	}
	for _, ck := range checks {
		if !(ck.v >= ck.lo && ck.v <= ck.hi) {
			return fmt.Errorf("augment: %s = %g, want [%g, %g]", ck.field, ck.v, ck.lo, ck.hi)
		}
	}
	if c.Crop.Scale != [2]float64{} {
		if err := checkRange("crop.scale", c.Crop.Scale, 1); err != nil {
			return err
		}
		if err := checkRange("crop.ratio", c.Crop.Ratio, math.Inf(1)); err != nil {
			return err
		}
	}
	if c.Erasing.P > 0 {
		if err := checkRange("erasing.scale", c.Erasing.Scale, 1); err != nil {
			return err
		}
		if err := checkRange("erasing.ratio", c.Erasing.Ratio, math.Inf(1)); err != nil {
			return err
		}
	}
	if m := c.PadCrop.Mode; m != "" && m != "reflect" && m != "zero" {
		return fmt.Errorf("augment: pad_crop.mode = %q, want reflect or zero", m)
	}
	for i, s := range c.Normalize.Std {
		if s < 0 || (s == 0 && c.Normalize.Std != [3]float64{}) {
			return fmt.Errorf("augment: normalize.std[%d] = %g, want > 0", i, s)
		}
	}
	return nil
}

// checkRange wants 0 < lo <= hi <= max.
func checkRange(field string, r [2]float64, max float64) error {
	if !(r[0] > 0 && r[0] <= r[1] && r[1] <= max) {
		return fmt.Errorf("augment: %s = [%g, %g], want 0 < lo <= hi <= %g", field, r[0], r[1], max)
	}
	return nil
}

// Pipeline is a validated Config ready to run. It is immutable and safe for
// concurrent use; per-goroutine state lives in a Scratch.
type Pipeline struct {
	cfg Config
	// lut maps a byte of channel c straight to its normalized value, for
	// the evaluation path; mean and invStd serve the training path.
	lut    [Channels][256]float32
	mean   [Channels]float32
	invStd [Channels]float32
}

// Scratch holds one goroutine's working images. The zero value is ready.
type Scratch struct {
	a, b [PixelsPerImage]float32
}

// NewPipeline validates cfg and precomputes what the transforms need.
func NewPipeline(cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Normalize.Std == [3]float64{} {
		cfg.Normalize = NormalizeConfig{Mean: CIFAR10Mean, Std: CIFAR10Std}
	}
	if cfg.PadCrop.Mode == "" {
		cfg.PadCrop.Mode = "reflect"
	}
	p := &Pipeline{cfg: cfg}
	for c := range Channels {
		p.mean[c] = float32(cfg.Normalize.Mean[c])
		p.invStd[c] = float32(1 / cfg.Normalize.Std[c])
		for v := range 256 {
			p.lut[c][v] = (float32(v)/255 - p.mean[c]) * p.invStd[c]
		}
	}
	return p, nil
}

// Config returns the configuration with defaults filled in.
func (p *Pipeline) Config() Config { return p.cfg }

// Eval writes the deterministic evaluation transform of src (one image of
// PixelsPerImage bytes) into dst (PixelsPerImage float32, CHW): Normalize.
func (p *Pipeline) Eval(dst []float32, src []byte) {
	checkSizes("Eval", dst, src)
	for c := range Channels {
		lut := &p.lut[c]
		d, s := dst[c*Height*Width:(c+1)*Height*Width], src[c*Height*Width:(c+1)*Height*Width]
		for i, v := range s {
			d[i] = lut[v]
		}
	}
}

// Train writes one random augmentation of src into dst, drawing from r.
// The result depends only on src, the config and r's state. AltFlip needs
// the image's identity: the loader calls [Pipeline.TrainSample].
func (p *Pipeline) Train(dst []float32, src []byte, r *Rand, s *Scratch) {
	p.train(dst, src, r, s, -1)
}

// TrainSample writes the augmentation of image index in epoch (from 0)
// under seed: Train with the sample's own generator ([SampleRand]) and,
// with AltFlip, the flip [AltFlipped] decides.
func (p *Pipeline) TrainSample(dst []float32, src []byte, seed uint64, epoch, index int, s *Scratch) {
	r := SampleRand(seed, epoch, index)
	flip := -1
	if p.cfg.AltFlip {
		flip = 0
		if AltFlipped(seed, epoch, index) {
			flip = 1
		}
	}
	p.train(dst, src, &r, s, flip)
}

// AltFlipped reports whether alternating flips show image index flipped in
// epoch (from 0) under seed: a per-image coin drawn once, inverted in odd
// epochs.
func AltFlipped(seed uint64, epoch, index int) bool {
	return (mix(seed^0xa17f1e, uint64(index))&1 == 1) != (epoch%2 == 1)
}

// train is Train with the flip forced (flip 0 or 1) or drawn (flip −1).
func (p *Pipeline) train(dst []float32, src []byte, r *Rand, s *Scratch, flip int) {
	checkSizes("Train", dst, src)
	c := &p.cfg
	cur, tmp := s.a[:], s.b[:]
	toFloat(cur, src)
	if c.Crop.Scale != [2]float64{} {
		if resizedCrop(tmp, cur, c.Crop, r) {
			cur, tmp = tmp, cur
		}
	}
	if c.PadCrop.Pad > 0 {
		padCrop(tmp, cur, c.PadCrop.Pad, c.PadCrop.Mode == "zero", r)
		cur, tmp = tmp, cur
	}
	if flip == 1 || (flip < 0 && r.Bernoulli(c.Flip)) {
		flipH(cur)
	}
	if r.Bernoulli(c.Jitter.P) {
		jitter(cur, c.Jitter, r)
	}
	if r.Bernoulli(c.Grayscale) {
		grayscale(cur)
	}
	if c.Rotation > 0 {
		deg := r.Uniform(-c.Rotation, c.Rotation)
		rotate(tmp, cur, deg)
		cur, tmp = tmp, cur
	}
	p.normalize(dst, cur)
	if r.Bernoulli(c.Erasing.P) {
		erase(dst, c.Erasing, r)
	}
	if r.Bernoulli(c.Cutout.P) && c.Cutout.Size > 0 {
		cutout(dst, c.Cutout.Size, r)
	}
}

func (p *Pipeline) normalize(dst, src []float32) {
	const plane = Height * Width
	for c := range Channels {
		m, k := p.mean[c], p.invStd[c]
		d, s := dst[c*plane:(c+1)*plane], src[c*plane:(c+1)*plane]
		for i, v := range s {
			d[i] = (v - m) * k
		}
	}
}

// Denormalize maps a normalized image back to [0,1] pixels in place (for
// previews).
func (p *Pipeline) Denormalize(img []float32) {
	const plane = Height * Width
	for c := range Channels {
		m, k := p.mean[c], 1/p.invStd[c]
		for i := c * plane; i < (c+1)*plane; i++ {
			img[i] = img[i]*k + m
		}
	}
}

func checkSizes(op string, dst []float32, src []byte) {
	if len(dst) != PixelsPerImage || len(src) != PixelsPerImage {
		panic(fmt.Sprintf("data: Pipeline.%s: dst has %d floats, src %d bytes, want %d each",
			op, len(dst), len(src), PixelsPerImage))
	}
}

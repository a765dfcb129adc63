package data

import (
	"math"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func mustPipeline(tb testing.TB, cfg Config) *Pipeline {
	tb.Helper()
	p, err := NewPipeline(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// floatImage returns image i of ds as [0,1] floats.
func floatImage(ds *Dataset, i int) []float32 {
	img := make([]float32, PixelsPerImage)
	toFloat(img, ds.Image(i))
	return img
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func TestPipeline_Eval(t *testing.T) {
	ds := loadSlice(t, 1000)
	p := mustPipeline(t, Config{})
	dst := make([]float32, PixelsPerImage)
	p.Eval(dst, ds.Image(3))
	for _, i := range []int{0, 500, 1024 + 17, 2048 + 1000} {
		c := i / plane
		want := (float64(ds.Image(3)[i])/255 - CIFAR10Mean[c]) / CIFAR10Std[c]
		if math.Abs(float64(dst[i])-want) > 1e-5 {
			t.Errorf("pixel %d = %g, want %g", i, dst[i], want)
		}
	}
	p.Denormalize(dst)
	if d := maxDiff(dst, floatImage(ds, 3)); d > 1e-5 {
		t.Errorf("Denormalize(Eval(x)) differs from x by %g", d)
	}
}

// TestPipeline_Identity checks configurations that must reduce to Eval.
func TestPipeline_Identity(t *testing.T) {
	ds := loadSlice(t, 1000)
	jitterOff := Classic(1)
	jitterOff = Config{Jitter: jitterOff.Jitter}
	jitterOff.Jitter.P = 0
	cases := map[string]Config{
		"Strength0":       Classic(0),
		"CheapStrength0":  Cheap(0),
		"JitterP0":        jitterOff,
		"CropScale1":      {Crop: CropConfig{Scale: [2]float64{1, 1}, Ratio: [2]float64{1, 1}}},
		"ErasingP0":       {Erasing: ErasingConfig{P: 0, Scale: [2]float64{0.02, 0.1}, Ratio: [2]float64{0.3, 3.3}}},
		"JitterZeroRange": {Jitter: JitterConfig{P: 1}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			p := mustPipeline(t, cfg)
			want := make([]float32, PixelsPerImage)
			got := make([]float32, PixelsPerImage)
			var s Scratch
			for i := range 20 {
				p.Eval(want, ds.Image(i))
				r := SampleRand(1, 0, i)
				p.Train(got, ds.Image(i), &r, &s)
				if d := maxDiff(got, want); d > 1e-5 {
					t.Fatalf("image %d differs from Eval by %g", i, d)
				}
			}
		})
	}
}

func TestPipeline_TrainDeterministic(t *testing.T) {
	ds := loadSlice(t, 1000)
	p := mustPipeline(t, Classic(1))
	a, b := make([]float32, PixelsPerImage), make([]float32, PixelsPerImage)
	var s1, s2 Scratch
	changed := 0
	for i := range 50 {
		r1, r2 := SampleRand(9, 2, i), SampleRand(9, 2, i)
		p.Train(a, ds.Image(i), &r1, &s1)
		p.Train(b, ds.Image(i), &r2, &s2)
		if !slices.Equal(a, b) {
			t.Fatalf("image %d: same seed, different output", i)
		}
		p.Eval(b, ds.Image(i))
		if maxDiff(a, b) > 1e-3 {
			changed++
		}
		for _, v := range a {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("image %d has non-finite value %g", i, v)
			}
		}
	}
	if changed < 45 { // P(no transform changes an image) is tiny at strength 1
		t.Errorf("only %d of 50 images changed at strength 1", changed)
	}
}

func TestFlipH(t *testing.T) {
	ds := loadSlice(t, 1000)
	img := floatImage(ds, 5)
	orig := slices.Clone(img)
	flipH(img)
	if img[0] != orig[Width-1] || img[plane+Width+3] != orig[plane+Width+Width-4] {
		t.Error("flip did not mirror rows")
	}
	flipH(img)
	if !slices.Equal(img, orig) {
		t.Error("flip twice is not the identity")
	}
}

func TestRotate(t *testing.T) {
	ds := loadSlice(t, 1000)
	src := floatImage(ds, 7)
	dst := make([]float32, PixelsPerImage)
	rotate(dst, src, 0)
	if !slices.Equal(dst, src) {
		t.Error("rotation by 0 degrees is not the identity")
	}
	rotate(dst, src, 90)
	// Counter-clockwise by 90°: out[y][x] = src[x][31-y].
	var d float64
	for c := range Channels {
		for y := range Height {
			for x := range Width {
				d = math.Max(d, math.Abs(float64(dst[c*plane+y*Width+x]-src[c*plane+x*Width+31-y])))
			}
		}
	}
	if d > 1e-5 {
		t.Errorf("rotate 90 differs from the exact rotation by %g", d)
	}
	rotate(dst, src, 45)
	if dst[0] != 0 || dst[plane-1] != 0 {
		t.Errorf("corners after 45° = %g, %g, want fill 0", dst[0], dst[plane-1])
	}
}

func TestResizedCrop(t *testing.T) {
	ds := loadSlice(t, 1000)
	src := floatImage(ds, 11)
	lo, hi := slices.Min(src), slices.Max(src)
	cfg := CropConfig{Scale: [2]float64{0.08, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3}}
	dst := make([]float32, PixelsPerImage)
	r := NewRand(3)
	for range 200 {
		r2 := r
		top, left, h, w := cropBox(cfg, &r2)
		if top < 0 || left < 0 || top+h > Height || left+w > Width || h < 1 || w < 1 {
			t.Fatalf("box %d,%d %dx%d outside the image", top, left, h, w)
		}
		if frac := float64(h*w) / plane; frac < 0.08*0.8 || frac > 1 {
			t.Fatalf("box area fraction %g outside scale (0.08, 1) beyond rounding", frac)
		}
		if !resizedCrop(dst, src, cfg, &r) {
			continue
		}
		for _, v := range dst { // bilinear output is a convex blend of inputs
			if v < lo-1e-6 || v > hi+1e-6 {
				t.Fatalf("crop value %g outside the source range [%g, %g]", v, lo, hi)
			}
		}
	}
}

// TestResizedCrop_Ramp crops ramps (channel 0 = x, channel 1 = y), where
// bilinear resizing is exact: output x of a box at left, w wide reads
// left + clamp((x+0.5)·w/32 - 0.5, 0, w-1).
func TestResizedCrop_Ramp(t *testing.T) {
	src := make([]float32, PixelsPerImage)
	for y := range Height {
		for x := range Width {
			src[y*Width+x], src[plane+y*Width+x] = float32(x), float32(y)
		}
	}
	want := func(start, size, o int) float64 {
		s := (float64(o)+0.5)*float64(size)/32 - 0.5
		return float64(start) + math.Min(math.Max(s, 0), float64(size-1))
	}
	cfg := CropConfig{Scale: [2]float64{0.1, 0.9}, Ratio: [2]float64{0.5, 2}}
	dst := make([]float32, PixelsPerImage)
	r := NewRand(17)
	for range 100 {
		r2 := r
		top, left, h, w := cropBox(cfg, &r2)
		if !resizedCrop(dst, src, cfg, &r) {
			t.Fatal("crop below full scale reported the identity")
		}
		for y := range Height {
			for x := range Width {
				gx, gy := float64(dst[y*Width+x]), float64(dst[plane+y*Width+x])
				if math.Abs(gx-want(left, w, x)) > 1e-4 || math.Abs(gy-want(top, h, y)) > 1e-4 {
					t.Fatalf("box %d,%d %dx%d: out(%d,%d) = (%g,%g), want (%g,%g)",
						top, left, h, w, x, y, gx, gy, want(left, w, x), want(top, h, y))
				}
			}
		}
	}
}

func TestPadCrop(t *testing.T) {
	ds := loadSlice(t, 1000)
	src := floatImage(ds, 13)
	dst := make([]float32, PixelsPerImage)
	for _, zero := range []bool{true, false} {
		r := NewRand(5)
		for range 20 {
			padCrop(dst, src, 4, zero, &r)
			if !isTranslation(dst, src, 4, zero) {
				t.Fatalf("zero=%v: output is not a translation of the input by ±4", zero)
			}
		}
	}
}

// isTranslation reports whether dst is src shifted by some (dx, dy) within
// ±pad, with the inner part exact and the border reflected or zero.
func isTranslation(dst, src []float32, pad int, zero bool) bool {
	for dy := -pad; dy <= pad; dy++ {
	next:
		for dx := -pad; dx <= pad; dx++ {
			for c := range Channels {
				for y := range Height {
					for x := range Width {
						sy, okY := reflectIndex(y+dy, Height)
						sx, okX := reflectIndex(x+dx, Width)
						want := src[c*plane+sy*Width+sx]
						if zero && !(okX && okY) {
							want = 0
						}
						if dst[c*plane+y*Width+x] != want {
							continue next
						}
					}
				}
			}
			return true
		}
	}
	return false
}

func TestGrayscale(t *testing.T) {
	ds := loadSlice(t, 1000)
	img := floatImage(ds, 17)
	grayscale(img)
	if !slices.Equal(img[:plane], img[plane:2*plane]) || !slices.Equal(img[:plane], img[2*plane:]) {
		t.Error("grayscale channels differ")
	}
}

func TestHue(t *testing.T) {
	ds := loadSlice(t, 1000)
	img := floatImage(ds, 19)
	orig := slices.Clone(img)
	hue(img, 0)
	if d := maxDiff(img, orig); d > 1e-5 {
		t.Errorf("hue shift 0 changed the image by %g", d)
	}
	hue(img, 0.25)
	hue(img, -0.25)
	if d := maxDiff(img, orig); d > 1e-4 {
		t.Errorf("hue +0.25 then -0.25 changed the image by %g", d)
	}
	red := []float32{1, 0.5}
	px := make([]float32, PixelsPerImage)
	px[0], px[1] = red[0], red[1] // pixel 0 pure red, pixel 1 half red
	hue(px, 1.0/3)
	if px[0] != 0 || px[plane] != 1 || px[2*plane] != 0 {
		t.Errorf("red shifted by 1/3 turn = (%g,%g,%g), want green", px[0], px[plane], px[2*plane])
	}
}

func TestJitter_Factors(t *testing.T) {
	ds := loadSlice(t, 1000)
	img := floatImage(ds, 23)
	orig := slices.Clone(img)
	brightness(img, 1)
	contrast(img, 1)
	saturation(img, 1)
	if d := maxDiff(img, orig); d > 1e-6 {
		t.Errorf("factor 1 changed the image by %g", d)
	}
	saturation(img, 0)
	if !slices.Equal(img[:plane], img[plane:2*plane]) {
		t.Error("saturation 0 is not gray")
	}
	brightness(img, 0)
	if slices.Max(img) != 0 {
		t.Error("brightness 0 is not black")
	}
}

// zeroRect returns the bounding box and count of exact zeros in channel 0.
func zeroRect(img []float32) (h, w, n int) {
	y0, x0, y1, x1 := Height, Width, -1, -1
	for i, v := range img[:plane] {
		if v == 0 {
			y, x := i/Width, i%Width
			y0, y1, x0, x1 = min(y0, y), max(y1, y), min(x0, x), max(x1, x)
			n++
		}
	}
	if n == 0 {
		return 0, 0, 0
	}
	return y1 - y0 + 1, x1 - x0 + 1, n
}

func TestErase(t *testing.T) {
	cfg := ErasingConfig{P: 1, Scale: [2]float64{0.02, 0.1}, Ratio: [2]float64{0.3, 3.3}}
	img := make([]float32, PixelsPerImage)
	r := NewRand(11)
	for range 300 {
		for i := range img {
			img[i] = 1
		}
		erase(img, cfg, &r)
		h, w, n := zeroRect(img)
		if n != h*w {
			t.Fatalf("erased %d pixels in a %dx%d bounding box: not a rectangle", n, h, w)
		}
		// Rounding h and w to whole pixels can move the area a little
		// beyond scale·1024; allow one row and one column.
		if n > 0 && (float64(n) > 0.1*plane+float64(h+w) || float64(n) < 0.02*plane-float64(h+w)) {
			t.Fatalf("erased %d pixels (%dx%d), want within scale (0.02, 0.1) of 1024", n, h, w)
		}
		if n == 0 {
			t.Fatal("erasing with p 1 erased nothing")
		}
	}
}

func TestCutout(t *testing.T) {
	img := make([]float32, PixelsPerImage)
	r := NewRand(13)
	for range 100 {
		for i := range img {
			img[i] = 1
		}
		cutout(img, 8, &r)
		h, w, n := zeroRect(img)
		if n != h*w || h > 8 || w > 8 || n == 0 {
			t.Fatalf("cutout 8 zeroed %d pixels in %dx%d", n, h, w)
		}
	}
}

func TestClassic_Strength1(t *testing.T) {
	c := Classic(1)
	if c.Crop.Scale != [2]float64{0.8, 1} || c.Jitter.P != 0.8 || c.Jitter.Hue != 0.1 ||
		c.Grayscale != 0.2 || c.Rotation != 15 || c.Erasing.P != 0.5 || c.Erasing.Scale != [2]float64{0.02, 0.1} {
		t.Errorf("Classic(1) = %+v, not the classic recipe", c)
	}
	if h := Classic(0.5); h.Rotation != 7.5 || h.Crop.Scale[0] != 0.9 || h.Flip != 0.25 {
		t.Errorf("Classic(0.5) = %+v, not halfway", h)
	}
}

func TestConfig_UnmarshalYAML(t *testing.T) {
	var c Config
	src := "strength: 0.5\nrotation: 0\njitter: {hue: 0}\n"
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	want := Classic(0.5)
	want.Rotation = 0
	want.Jitter.Hue = 0
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	if err := yaml.Unmarshal([]byte("preset: cheap\nstrength: 1\n"), &c); err != nil || c != Cheap(1) {
		t.Errorf("cheap preset = %+v, %v", c, err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("rotation: 3\nerasing: {p: 0.1}\n"), &n); err != nil {
		t.Fatal(err)
	}
	c = Classic(1)
	if err := c.Override(n.Content[0]); err != nil {
		t.Fatal(err)
	}
	want = Classic(1)
	want.Rotation, want.Erasing.P = 3, 0.1
	if c != want {
		t.Errorf("Override: got %+v\nwant %+v", c, want)
	}
	for src, want := range map[string]string{
		"preset: fancy\n":                     `unknown preset "fancy"`,
		"strength: 2\n":                       "strength = 2, want [0, 1]",
		"strength: 1\nrotaton: 10\n":          `line 2: augment: unknown key "rotaton"`,
		"jitter:\n  p: 1\n  saturaton: 0.2\n": `line 3: augment: unknown key "jitter.saturaton"`,
	} {
		err := yaml.Unmarshal([]byte(src), &c)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", src, err, want)
		}
	}
}

func TestConfig_Validate(t *testing.T) {
	for field, cfg := range map[string]Config{
		"flip":          {Flip: 1.5},
		"jitter.hue":    {Jitter: JitterConfig{Hue: 0.6}},
		"crop.scale":    {Crop: CropConfig{Scale: [2]float64{0.9, 0.8}, Ratio: [2]float64{1, 1}}},
		"erasing.ratio": {Erasing: ErasingConfig{P: 1, Scale: [2]float64{0.1, 0.2}}},
		"pad_crop.mode": {PadCrop: PadCropConfig{Pad: 2, Mode: "wrap"}},
	} {
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: err = %v, want one naming the field", field, err)
		}
	}
	for s := 0.0; s <= 1; s += 0.25 {
		for _, c := range []Config{Classic(s), Cheap(s)} {
			if err := c.Validate(); err != nil {
				t.Errorf("%s(%g): %v", c.Preset, s, err)
			}
		}
	}
}

// TestPipeline_Probabilities checks that each random transform fires at
// its configured rate, telling its effect apart from the others'.
func TestPipeline_Probabilities(t *testing.T) {
	ds := loadSlice(t, 1000)
	const n = 2000
	isGray := func(out, _ []float32) bool {
		return maxDiff(out[:plane], out[plane:2*plane]) < 1e-5 && maxDiff(out[:plane], out[2*plane:]) < 1e-5
	}
	isFlipped := func(out, in []float32) bool {
		flipH(in)
		defer flipH(in)
		return maxDiff(out, in) < 1e-5
	}
	changed := func(out, in []float32) bool { return maxDiff(out, in) > 1e-5 }
	hasZeroBox := func(out, _ []float32) bool { _, _, z := zeroRect(out); return z > 0 }
	for name, tc := range map[string]struct {
		cfg  Config
		hit  func(out, in []float32) bool
		want float64
	}{
		"Grayscale0.2": {Config{Grayscale: 0.2}, isGray, 0.2},
		"Flip0.5":      {Config{Flip: 0.5}, isFlipped, 0.5},
		"Jitter0.8":    {Config{Jitter: JitterConfig{P: 0.8, Brightness: 0.4}}, changed, 0.8},
		"Erasing0.25":  {Config{Erasing: ErasingConfig{P: 0.25, Scale: [2]float64{0.05, 0.1}, Ratio: [2]float64{0.5, 2}}}, hasZeroBox, 0.25},
	} {
		t.Run(name, func(t *testing.T) {
			p := mustPipeline(t, tc.cfg)
			out := make([]float32, PixelsPerImage)
			in := make([]float32, PixelsPerImage)
			var s Scratch
			hits := 0
			for i := range n {
				img := ds.Image(i % ds.Len())
				r := SampleRand(3, i/ds.Len(), i)
				p.Train(out, img, &r, &s)
				if name == "Erasing0.25" { // compare in normalized space
					if tc.hit(out, nil) {
						hits++
					}
					continue
				}
				p.Denormalize(out)
				toFloat(in, img)
				if tc.hit(out, in) {
					hits++
				}
			}
			// Binomial standard deviation is at most 0.011 at n = 2000.
			if got := float64(hits) / n; math.Abs(got-tc.want) > 0.04 {
				t.Errorf("fired in %.3f of %d images, want %.2f", got, n, tc.want)
			}
		})
	}
}

// Alternating flips: every image is shown flipped in exactly one of any two
// consecutive epochs, about half of them in epoch 0, and the pipeline
// output matches the flip AltFlipped decides (the random flip probability
// is ignored).
func TestPipeline_AltFlip(t *testing.T) {
	ds := loadSlice(t, 1000)
	p := mustPipeline(t, Config{AltFlip: true, Flip: 1})
	out, want := make([]float32, PixelsPerImage), make([]float32, PixelsPerImage)
	var s Scratch
	flipped0 := 0
	for i := range 200 {
		if AltFlipped(7, 0, i) {
			flipped0++
		}
		for e := range 4 {
			if AltFlipped(7, e, i) == AltFlipped(7, e+1, i) {
				t.Fatalf("image %d: same flip in epochs %d and %d", i, e, e+1)
			}
		}
		if i >= 20 {
			continue
		}
		for e := range 2 {
			p.TrainSample(out, ds.Image(i), 7, e, i, &s)
			p.Eval(want, ds.Image(i))
			if AltFlipped(7, e, i) {
				for c := range Channels * Height {
					slices.Reverse(want[c*Width : (c+1)*Width])
				}
			}
			if maxDiff(out, want) > 1e-6 {
				t.Fatalf("image %d epoch %d: output is not the decided flip (flipped=%v)", i, e, AltFlipped(7, e, i))
			}
		}
	}
	if flipped0 < 70 || flipped0 > 130 {
		t.Errorf("%d of 200 images flipped in epoch 0, want about half", flipped0)
	}
}

package data

import "math"

// Colour transforms work in place on one CHW image of [0,1] floats, and the
// erasing transforms on a normalized one. Luma weights are torchvision's.
const lumaR, lumaG, lumaB = 0.2989, 0.587, 0.114

// jitter is ColorJitter: brightness, contrast, saturation and hue, each
// with a factor drawn from its range, applied in a random order.
func jitter(img []float32, cfg JitterConfig, r *Rand) {
	order := [4]int{0, 1, 2, 3}
	for i := 3; i > 0; i-- {
		j := r.Intn(i + 1)
		order[i], order[j] = order[j], order[i]
	}
	b := factor(cfg.Brightness, r)
	c := factor(cfg.Contrast, r)
	s := factor(cfg.Saturation, r)
	h := r.Uniform(-cfg.Hue, cfg.Hue)
	for _, op := range order {
		switch {
		case op == 0 && cfg.Brightness > 0:
			brightness(img, float32(b))
		case op == 1 && cfg.Contrast > 0:
			contrast(img, float32(c))
		case op == 2 && cfg.Saturation > 0:
			saturation(img, float32(s))
		case op == 3 && cfg.Hue > 0:
			hue(img, float32(h))
		}
	}
}

// factor draws a multiplicative factor from [max(0, 1-x), 1+x].
func factor(x float64, r *Rand) float64 {
	return r.Uniform(math.Max(0, 1-x), 1+x)
}

// clamp01 clips v to [0, 1]. Plain comparisons, unlike the min and max
// builtins, compile to branch-free code without NaN handling.
func clamp01(v float32) float32 {
	if v < 0 {
		v = 0
	}
	if v > 1 {
		v = 1
	}
	return v
}

// brightness scales every value by f.
func brightness(img []float32, f float32) {
	for i, v := range img {
		img[i] = clamp01(v * f)
	}
}

// contrast blends the image with its mean luma.
func contrast(img []float32, f float32) {
	r, g, b := img[:plane], img[plane:2*plane], img[2*plane:]
	var sum float32
	for i := range r {
		sum += lumaR*r[i] + lumaG*g[i] + lumaB*b[i]
	}
	m := (1 - f) * sum / plane
	for i, v := range img {
		img[i] = clamp01(f*v + m)
	}
}

// saturation blends each pixel with its own luma.
func saturation(img []float32, f float32) {
	r, g, b := img[:plane], img[plane:2*plane], img[2*plane:]
	for i := range r {
		l := (1 - f) * (lumaR*r[i] + lumaG*g[i] + lumaB*b[i])
		r[i] = clamp01(f*r[i] + l)
		g[i] = clamp01(f*g[i] + l)
		b[i] = clamp01(f*b[i] + l)
	}
}

// hue rotates every pixel's hue by shift (a fraction of a turn) in HSV.
func hue(img []float32, shift float32) {
	r, g, b := img[:plane], img[plane:2*plane], img[2*plane:]
	for i := range r {
		h, s, v := rgbToHSV(r[i], g[i], b[i])
		h += shift
		h -= float32(math.Floor(float64(h)))
		r[i], g[i], b[i] = hsvToRGB(h, s, v)
	}
}

// rgbToHSV returns hue in [0,1), saturation and value.
func rgbToHSV(r, g, b float32) (h, s, v float32) {
	mx, mn := max(r, g, b), min(r, g, b)
	if mx == mn {
		return 0, 0, mx
	}
	d := mx - mn
	switch mx {
	case r:
		h = (g - b) / d
	case g:
		h = 2 + (b-r)/d
	default:
		h = 4 + (r-g)/d
	}
	h /= 6
	if h < 0 {
		h++
	}
	return h, d / mx, mx
}

// hsvToRGB is the inverse of rgbToHSV.
func hsvToRGB(h, s, v float32) (r, g, b float32) {
	h6 := h * 6
	i := int(h6)
	f := h6 - float32(i)
	// v, s and f are in [0, 1], so p, q and t are too.
	p := v * (1 - s)
	q := v * (1 - s*f)
	t := v * (1 - s*(1-f))
	switch i % 6 {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	}
	return v, p, q
}

// grayscale replaces every channel by the luma.
func grayscale(img []float32) {
	r, g, b := img[:plane], img[plane:2*plane], img[2*plane:]
	for i := range r {
		l := lumaR*r[i] + lumaG*g[i] + lumaB*b[i]
		r[i], g[i], b[i] = l, l, l
	}
}

// eraseBox is RandomErasing.get_params: a box of the drawn area fraction
// and aspect ratio (h/w) at a random position, from 10 tries; ok is false
// when no try fitted (then nothing is erased).
func eraseBox(cfg ErasingConfig, r *Rand) (top, left, h, w int, ok bool) {
	const area = Height * Width
	for range 10 {
		target := area * r.Uniform(cfg.Scale[0], cfg.Scale[1])
		aspect := r.LogUniform(cfg.Ratio[0], cfg.Ratio[1])
		h = int(math.Round(math.Sqrt(target * aspect)))
		w = int(math.Round(math.Sqrt(target / aspect)))
		if h < Height && w < Width {
			return r.Intn(Height - h + 1), r.Intn(Width - w + 1), h, w, true
		}
	}
	return 0, 0, 0, 0, false
}

// erase is RandomErasing with value 0 on a normalized image.
func erase(img []float32, cfg ErasingConfig, r *Rand) {
	if top, left, h, w, ok := eraseBox(cfg, r); ok {
		zeroBox(img, top, left, h, w)
	}
}

// cutout zeroes a size×size square centred on a random pixel, clipped to
// the image.
func cutout(img []float32, size int, r *Rand) {
	cy, cx := r.Intn(Height), r.Intn(Width)
	y0, x0 := max(cy-size/2, 0), max(cx-size/2, 0)
	y1, x1 := min(cy-size/2+size, Height), min(cx-size/2+size, Width)
	zeroBox(img, y0, x0, y1-y0, x1-x0)
}

func zeroBox(img []float32, top, left, h, w int) {
	for c := range Channels {
		for y := top; y < top+h; y++ {
			clear(img[c*plane+y*Width+left:][:w])
		}
	}
}

package data

import "math"

// Geometric transforms on one CHW float32 image of PixelsPerImage values.
// Each writes dst from src (never in place unless it says so) and draws its
// parameters from r exactly as torchvision's transform of the same name.

const plane = Height * Width

// byteToFloat maps a pixel byte to [0, 1].
var byteToFloat = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// toFloat converts an image of bytes to [0,1] floats.
func toFloat(dst []float32, src []byte) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = byteToFloat[v]
	}
}

// cropBox is RandomResizedCrop.get_params: the crop's top, left, height and
// width in pixels, from 10 tries at the drawn area and aspect ratio, falling
// back to the centre crop closest to the allowed ratios.
func cropBox(cfg CropConfig, r *Rand) (top, left, h, w int) {
	const area = Height * Width
	for range 10 {
		target := area * r.Uniform(cfg.Scale[0], cfg.Scale[1])
		aspect := r.LogUniform(cfg.Ratio[0], cfg.Ratio[1])
		w = int(math.Round(math.Sqrt(target * aspect)))
		h = int(math.Round(math.Sqrt(target / aspect)))
		if w > 0 && w <= Width && h > 0 && h <= Height {
			top = r.Intn(Height - h + 1)
			left = r.Intn(Width - w + 1)
			return top, left, h, w
		}
	}
	w, h = Width, Height // the image is square, so ratio 1 fits
	if cfg.Ratio[0] > 1 {
		h = int(math.Round(float64(w) / cfg.Ratio[0]))
	} else if cfg.Ratio[1] < 1 {
		w = int(math.Round(float64(h) * cfg.Ratio[1]))
	}
	return (Height - h) / 2, (Width - w) / 2, h, w
}

// axisMap holds, for each output coordinate, the two source coordinates
// and the weight of the second one, for bilinear resampling along one axis.
type axisMap struct {
	i0, i1 [Width]int32
	f      [Width]float32
}

// fill maps n output pixels onto the source span [start, start+size) with
// half-pixel centres (align_corners=False), clamping at the span's ends.
func (m *axisMap) fill(start, size, n int) {
	scale := float64(size) / float64(n)
	for o := range n {
		s := math.Max((float64(o)+0.5)*scale-0.5, 0)
		i := int(s)
		j := min(i+1, size-1)
		m.i0[o], m.i1[o] = int32(start+i), int32(start+j)
		m.f[o] = float32(s - float64(i))
	}
}

// resizedCrop is RandomResizedCrop(32): it crops a random box and resizes
// it to 32×32 bilinearly. It reports false, leaving dst alone, when the box
// is the whole image (then resizing is the identity).
func resizedCrop(dst, src []float32, cfg CropConfig, r *Rand) bool {
	top, left, h, w := cropBox(cfg, r)
	if h == Height && w == Width {
		return false
	}
	var ys, xs axisMap
	ys.fill(top, h, Height)
	xs.fill(left, w, Width)
	for c := range Channels {
		s, d := src[c*plane:(c+1)*plane], dst[c*plane:(c+1)*plane]
		for oy := range Height {
			r0, r1 := s[int(ys.i0[oy])*Width:][:Width], s[int(ys.i1[oy])*Width:][:Width]
			fy := ys.f[oy]
			row := d[oy*Width : (oy+1)*Width]
			for ox := range row {
				a, b, fx := xs.i0[ox], xs.i1[ox], xs.f[ox]
				top := r0[a] + (r0[b]-r0[a])*fx
				bot := r1[a] + (r1[b]-r1[a])*fx
				row[ox] = top + (bot-top)*fy
			}
		}
	}
	return true
}

// padCrop pads src by pad pixels (reflected without repeating the edge, or
// zeros) and crops a random 32×32 window: a translation by up to ±pad.
func padCrop(dst, src []float32, pad int, zero bool, r *Rand) {
	dy := r.Intn(2*pad+1) - pad
	dx := r.Intn(2*pad+1) - pad
	for c := range Channels {
		s, d := src[c*plane:(c+1)*plane], dst[c*plane:(c+1)*plane]
		for y := range Height {
			sy, okY := reflectIndex(y+dy, Height)
			row := d[y*Width : (y+1)*Width]
			for x := range row {
				sx, okX := reflectIndex(x+dx, Width)
				if zero && !(okX && okY) {
					row[x] = 0
					continue
				}
				row[x] = s[sy*Width+sx]
			}
		}
	}
}

// reflectIndex reflects i into [0, n) (numpy "reflect" mode) and reports
// whether i was inside already.
func reflectIndex(i, n int) (int, bool) {
	switch {
	case i < 0:
		return -i, false
	case i >= n:
		return 2*(n-1) - i, false
	}
	return i, true
}

// flipH mirrors the image left-right in place.
func flipH(img []float32) {
	for row := 0; row < len(img); row += Width {
		r := img[row : row+Width]
		for i, j := 0, Width-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
	}
}

// rotate turns src by deg degrees counter-clockwise about the image centre
// into dst, with bilinear interpolation; pixels from outside the image are
// 0 (torchvision's rotate with fill 0).
func rotate(dst, src []float32, deg float64) {
	sin, cos := math.Sincos(deg * math.Pi / 180)
	const cx, cy = (Width - 1) / 2.0, (Height - 1) / 2.0
	for y := range Height {
		dy := float64(y) - cy
		// Inverse map: output (x, y) reads the source at the output
		// position rotated clockwise, which is linear in x.
		sx0, sy0 := cx-cos*cx-sin*dy, cy-sin*cx+cos*dy
		for x := range Width {
			sx, sy := sx0+cos*float64(x), sy0+sin*float64(x)
			// Source positions lie within (-16, 48), so truncating
			// after a shift by 16 is floor.
			ix, iy := int(sx+16)-16, int(sy+16)-16
			fx, fy := float32(sx-float64(ix)), float32(sy-float64(iy))
			o := y*Width + x
			if ix >= 0 && ix < Width-1 && iy >= 0 && iy < Height-1 {
				i := iy*Width + ix
				for c := 0; c < Channels*plane; c += plane {
					s := src[c+i : c+i+Width+2]
					top := s[0] + (s[1]-s[0])*fx
					bot := s[Width] + (s[Width+1]-s[Width])*fx
					dst[c+o] = top + (bot-top)*fy
				}
				continue
			}
			rotateEdge(dst, src, o, ix, iy, fx, fy)
		}
	}
}

// rotateEdge is rotate's slow path for a source position whose 2×2
// neighbourhood is partly outside the image; outside pixels count as 0.
func rotateEdge(dst, src []float32, o, ix, iy int, fx, fy float32) {
	w := [4]float32{(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy}
	var idx [4]int
	for k, off := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
		px, py := ix+off[0], iy+off[1]
		if px < 0 || px >= Width || py < 0 || py >= Height {
			w[k] = 0
			continue
		}
		idx[k] = py*Width + px
	}
	for c := 0; c < Channels*plane; c += plane {
		s := src[c : c+plane]
		dst[c+o] = w[0]*s[idx[0]] + w[1]*s[idx[1]] + w[2]*s[idx[2]] + w[3]*s[idx[3]]
	}
}

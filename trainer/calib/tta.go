package calib

import "fmt"

// View is one test-time view of an image batch: an optional horizontal flip
// followed by a translation of (DX, DY) pixels (positive DX moves content
// right, positive DY down), with reflected borders as in airbench.
type View struct {
	Flip   bool
	DX, DY int
}

// shifts lists the translations [TTA] draws from, in order: one pixel along
// each axis first, then the diagonals.
var shifts = [...][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, 1}, {-1, -1}, {1, -1}, {-1, 1}}

// MaxTranslations is the most translations [TTA] can use.
const MaxTranslations = len(shifts)

// TTA selects test-time augmentation views: the identity, its horizontal
// flip when Flip is set, and Translations one-pixel shifts (each also
// flipped when Flip is set). The zero value is the identity alone.
type TTA struct {
	Flip         bool
	Translations int // 0..MaxTranslations
}

// Views returns the views in a fixed order, identity first.
func (t TTA) Views() []View {
	vs := []View{{}}
	if t.Flip {
		vs = append(vs, View{Flip: true})
	}
	for _, s := range shifts[:min(max(t.Translations, 0), MaxTranslations)] {
		vs = append(vs, View{DX: s[0], DY: s[1]})
		if t.Flip {
			vs = append(vs, View{Flip: true, DX: s[0], DY: s[1]})
		}
	}
	return vs
}

// Apply writes the view of src into dst; both are NCHW batches of shape
// (n, c, h, w) and must not overlap.
func (v View) Apply(dst, src []float32, n, c, h, w int) {
	if len(src) != n*c*h*w || len(dst) != len(src) {
		panic(fmt.Sprintf("calib: view of (%d,%d,%d,%d) got src %d dst %d values", n, c, h, w, len(src), len(dst)))
	}
	for p := 0; p < n*c; p++ {
		plane, out := src[p*h*w:(p+1)*h*w], dst[p*h*w:(p+1)*h*w]
		for y := 0; y < h; y++ {
			sy := reflect(y-v.DY, h)
			for x := 0; x < w; x++ {
				sx := reflect(x-v.DX, w)
				if v.Flip {
					sx = w - 1 - sx
				}
				out[y*w+x] = plane[sy*w+sx]
			}
		}
	}
}

// reflect maps an index one step outside [0, n) back inside, mirroring
// about the border pixel (-1 → 1, n → n-2), as reflect padding does.
func reflect(i, n int) int {
	switch {
	case n == 1:
		return 0
	case i < 0:
		return -i
	case i >= n:
		return 2*(n-1) - i
	}
	return i
}

// MeanLogits averages the logits of several views (or models) element-wise;
// all must have the same length.
func MeanLogits(views [][]float32) []float32 {
	if len(views) == 0 {
		return nil
	}
	out := make([]float32, len(views[0]))
	for _, v := range views {
		if len(v) != len(out) {
			panic(fmt.Sprintf("calib: averaging %d logits with %d", len(v), len(out)))
		}
		for i, x := range v {
			out[i] += x
		}
	}
	inv := 1 / float32(len(views))
	for i := range out {
		out[i] *= inv
	}
	return out
}

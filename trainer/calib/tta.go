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
// flipped when Flip is set), averaged with equal weights. Level > 0 selects
// airbench94's views and weights instead (its tta_level), ignoring Flip
// and Translations: 1 is the identity and its mirror image, 2 adds both
// diagonal one-pixel translations (up-left and down-right) of each, with
// the untranslated pair weighted as much as the four translated views
// together. The zero value is the identity alone.
type TTA struct {
	Flip         bool
	Translations int // 0..MaxTranslations
	Level        int // 0..MaxLevel; 0 = use Flip and Translations
}

// MaxLevel is the highest airbench TTA level.
const MaxLevel = 2

// Views returns the views in a fixed order, identity first.
func (t TTA) Views() []View {
	switch {
	case t.Level == 1:
		return []View{{}, {Flip: true}}
	case t.Level >= 2:
		// airbench flips the translated image; flipping first and
		// translating the other way is the same view.
		return []View{{}, {Flip: true}, {DX: 1, DY: 1}, {Flip: true, DX: -1, DY: 1},
			{DX: -1, DY: -1}, {Flip: true, DX: 1, DY: -1}}
	}
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

// Weights returns the weight of each view of [TTA.Views] in the average
// (they sum to 1).
func (t TTA) Weights() []float64 {
	n := len(t.Views())
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(n)
		if t.Level >= 2 {
			w[i] = map[bool]float64{true: 0.25, false: 0.125}[i < 2]
		}
	}
	return w
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
	w := make([]float64, len(views))
	for i := range w {
		w[i] = 1 / float64(len(views))
	}
	return WeightedLogits(views, w)
}

// WeightedLogits returns Σ w[i]·views[i] element-wise; all views must have
// the same length, and w one weight per view.
func WeightedLogits(views [][]float32, w []float64) []float32 {
	if len(views) == 0 {
		return nil
	}
	if len(w) != len(views) {
		panic(fmt.Sprintf("calib: %d weights for %d views", len(w), len(views)))
	}
	out := make([]float32, len(views[0]))
	for k, v := range views {
		if len(v) != len(out) {
			panic(fmt.Sprintf("calib: averaging %d logits with %d", len(v), len(out)))
		}
		wk := float32(w[k])
		for i, x := range v {
			out[i] += wk * x
		}
	}
	return out
}

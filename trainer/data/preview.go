package data

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// PreviewOptions sets the size of a preview grid. Zero fields take the
// defaults in brackets.
type PreviewOptions struct {
	Rows  int    // images, one per row, distinct classes first [8]
	Cols  int    // augmented copies per image, beside the original [7]
	Scale int    // screen pixels per image pixel (nearest neighbour) [3]
	Seed  uint64 // picks the images and the augmentations
	Title string // drawn above the grid
}

const (
	previewGap    = 4
	previewLabelW = 84 // "automobile" in 7-pixel glyphs, plus margin
	previewHeadH  = 34 // title line and column headings
)

// Preview renders a grid for a person to check augmentations: each row
// shows one training image (labelled with its class) as stored, then Cols
// augmentations of it by pipe, denormalized back to colours. Erased boxes
// therefore show the mean colour, not black.
func Preview(ds *Dataset, pipe *Pipeline, opts PreviewOptions) *image.RGBA {
	if opts.Rows <= 0 {
		opts.Rows = 8
	}
	if opts.Cols <= 0 {
		opts.Cols = 7
	}
	if opts.Scale <= 0 {
		opts.Scale = 3
	}
	rows := pickImages(ds, opts.Rows, opts.Seed)
	cell := Width * opts.Scale
	w := previewLabelW + (opts.Cols+1)*(cell+previewGap)
	h := previewHeadH + len(rows)*(cell+previewGap)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	drawText(img, 4, 13, opts.Title)
	drawText(img, previewLabelW, 29, "original")
	for c := 1; c <= opts.Cols; c++ {
		drawText(img, previewLabelW+c*(cell+previewGap), 29, fmt.Sprintf("aug %d", c))
	}
	buf := make([]float32, PixelsPerImage)
	var s Scratch
	for row, i := range rows {
		y := previewHeadH + row*(cell+previewGap)
		name := fmt.Sprint(ds.Labels[i])
		if int(ds.Labels[i]) < len(ds.Classes) {
			name = ds.Classes[ds.Labels[i]]
		}
		drawText(img, 4, y+cell/2+4, name)
		for col := 0; col <= opts.Cols; col++ {
			if col == 0 {
				toFloat(buf, ds.Image(i))
			} else {
				r := SampleRand(opts.Seed, col, i)
				pipe.Train(buf, ds.Image(i), &r, &s)
				pipe.Denormalize(buf)
			}
			blit(img, buf, previewLabelW+col*(cell+previewGap), y, opts.Scale)
		}
	}
	return img
}

// pickImages chooses n image indices at random, one per class until every
// class has appeared.
func pickImages(ds *Dataset, n int, seed uint64) []int {
	r := NewRand(mix(seed, 0x9e41e3))
	perm := r.Perm(ds.Len())
	n = min(n, ds.Len())
	var picked []int
	used := make(map[int]bool)
	seen := make(map[uint8]bool)
	for _, i := range perm { // first pass: new classes only
		if len(picked) < n && !seen[ds.Labels[i]] {
			seen[ds.Labels[i]] = true
			used[i] = true
			picked = append(picked, i)
		}
	}
	for _, i := range perm {
		if len(picked) < n && !used[i] {
			picked = append(picked, i)
		}
	}
	return picked
}

// blit draws a CHW [0,1] image at (x, y), each pixel as a scale×scale block.
func blit(dst *image.RGBA, img []float32, x, y, scale int) {
	to8 := func(v float32) uint8 { return uint8(clamp01(v)*255 + 0.5) }
	for py := range Height {
		for px := range Width {
			i := py*Width + px
			c := color.RGBA{to8(img[i]), to8(img[plane+i]), to8(img[2*plane+i]), 255}
			r := image.Rect(x+px*scale, y+py*scale, x+(px+1)*scale, y+(py+1)*scale)
			draw.Draw(dst, r, &image.Uniform{c}, image.Point{}, draw.Src)
		}
	}
}

func drawText(dst *image.RGBA, x, y int, s string) {
	d := font.Drawer{Dst: dst, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

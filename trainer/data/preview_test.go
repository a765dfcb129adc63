package data

import (
	"image"
	"testing"
)

// cellPixel returns the colour of image pixel (px, py) in grid cell
// (row, col) of a preview at scale.
func cellPixel(img *image.RGBA, row, col, px, py, scale int) [3]uint8 {
	cell := Width * scale
	x := previewLabelW + col*(cell+previewGap) + px*scale
	y := previewHeadH + row*(cell+previewGap) + py*scale
	c := img.RGBAAt(x+scale/2, y+scale/2)
	return [3]uint8{c.R, c.G, c.B}
}

func TestPreview(t *testing.T) {
	ds := loadSlice(t, 1000)
	opts := PreviewOptions{Rows: 4, Cols: 3, Scale: 2, Seed: 5, Title: "test"}
	img := Preview(ds, mustPipeline(t, Classic(1)), opts)
	cell := Width * 2
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != previewLabelW+4*(cell+previewGap) || h != previewHeadH+4*(cell+previewGap) {
		t.Fatalf("grid is %dx%d", w, h)
	}
	rows := pickImages(ds, 4, 5)
	classes := map[uint8]bool{}
	for _, i := range rows {
		classes[ds.Labels[i]] = true
	}
	if len(classes) != 4 {
		t.Errorf("rows show %d distinct classes, want 4", len(classes))
	}
	differs := 0
	for row, i := range rows {
		src := ds.Image(i)
		for _, p := range [][2]int{{0, 0}, {31, 0}, {13, 20}} {
			got := cellPixel(img, row, 0, p[0], p[1], 2)
			o := p[1]*Width + p[0]
			if got != [3]uint8{src[o], src[plane+o], src[2*plane+o]} {
				t.Fatalf("row %d original pixel %v = %v, want the stored bytes", row, p, got)
			}
			if cellPixel(img, row, 1, p[0], p[1], 2) != got {
				differs++
			}
		}
	}
	if differs == 0 {
		t.Error("augmented column identical to the originals at strength 1")
	}

	// At strength 0 every column reproduces the original (up to rounding).
	img = Preview(ds, mustPipeline(t, Classic(0)), opts)
	for row := range rows {
		for col := 1; col <= 3; col++ {
			a, b := cellPixel(img, row, 0, 7, 9, 2), cellPixel(img, row, col, 7, 9, 2)
			for k := range a {
				if d := int(a[k]) - int(b[k]); d > 1 || d < -1 {
					t.Fatalf("strength 0: row %d col %d pixel %v, original %v", row, col, b, a)
				}
			}
		}
	}
}

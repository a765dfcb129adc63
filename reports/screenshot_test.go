package reports_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sweep/reports"
)

const chromium = "/usr/bin/chromium"

// TestHTML_Screenshot opens the HTML report of the fixture study in headless
// Chromium, saves a screenshot and checks that the page drew its charts:
// the optimisation-history colours must cover a fair number of pixels.
// docs/report-screenshot.png is a real study's report, not this fixture's
// (make report-screenshot).
func TestHTML_Screenshot(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("headless Chromium not installed (%s): apt-get install -y chromium", chromium)
	}
	db := fixtureDB(t)
	r := build(t, db, "cifar-tpe", reports.Options{})
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := reports.Render(&buf, r, "html"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--hide-scrollbars", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--screenshot="+shot, "--window-size=1240,2000", "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1240 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d, want 1240x2000", b.Dx(), b.Dy())
	}
	// Blue (#0072b2) dots and orange (#e69f00) best-so-far lines.
	if n := countNear(img, 0x00, 0x72, 0xb2); n < 500 {
		t.Errorf("screenshot has %d blue chart pixels, want at least 500: charts did not render", n)
	}
	if n := countNear(img, 0xe6, 0x9f, 0x00); n < 200 {
		t.Errorf("screenshot has %d orange chart pixels, want at least 200: charts did not render", n)
	}
}

func countNear(img image.Image, r, g, b uint8) int {
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if near(cr>>8, r) && near(cg>>8, g) && near(cb>>8, b) {
				n++
			}
		}
	}
	return n
}

func near(a uint32, b uint8) bool { d := int(a) - int(b); return d > -24 && d < 24 }

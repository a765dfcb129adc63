package cdp_test

import (
	"bytes"
	"context"
	"image/png"
	"os/exec"
	"strings"
	"testing"
	"time"

	"sweep/internal/cdp"
)

// chromium finds the browser, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no headless Chromium (apt-get install -y chromium)")
	return ""
}

func TestPage_EvalClickScreenshot(t *testing.T) {
	path := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := cdp.Start(ctx, path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	page := `data:text/html,<button onclick="document.title='clicked'">go</button><div style="background:%23f00;width:100px;height:50px"></div>`
	p, err := b.NewPage(ctx, page, 320, 200)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `document.querySelector("button") !== null`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	var sum int
	if err := p.Eval(ctx, "Promise.resolve(20 + 22)", &sum); err != nil || sum != 42 {
		t.Fatalf("Eval = %d, %v; want 42", sum, err)
	}
	if err := p.Eval(ctx, `document.querySelector("button").click()`, nil); err != nil {
		t.Fatal(err)
	}
	var title string
	if err := p.Eval(ctx, "document.title", &title); err != nil || title != "clicked" {
		t.Errorf("title after click = %q, %v", title, err)
	}
	if err := p.Eval(ctx, "nosuchname.x", nil); err == nil || !strings.Contains(err.Error(), "nosuchname") {
		t.Errorf("a throwing expression: err = %v; want the exception", err)
	}
	shot, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if bd := img.Bounds(); bd.Dx() != 320 || bd.Dy() != 200 {
		t.Errorf("screenshot %dx%d, want 320x200", bd.Dx(), bd.Dy())
	}
	// The red box is at the top left, under the button.
	red := 0
	for y := 0; y < 100; y++ {
		for x := 0; x < 120; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 230 && g>>8 < 30 && bl>>8 < 30 {
				red++
			}
		}
	}
	if red < 3000 {
		t.Errorf("%d red pixels; want the 100x50 box drawn", red)
	}
}

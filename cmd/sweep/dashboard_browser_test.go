package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sweep/internal/cdp"
	"sweep/internal/pgtest"
)

// screenshotEnv names the file TestDashboard_Browser writes its screenshot
// to (make dashboard-screenshot sets it to docs/dashboard.png).
const screenshotEnv = "SWEEP_DASHBOARD_SCREENSHOT"

// browserStudy is a synthetic study slow enough to watch: 40 trials of
// 8 epochs of 100 ms on 2 slots, about 16 seconds in all. The test stops
// it once it has seen the page follow it, unless it takes the screenshot.
const browserStudy = `study: live-demo
direction: maximize
metric: val_acc
trials: 40
workers: 2
sampler: {type: tpe, seed: 7, startup_trials: 6}
pruner: {type: median, startup_trials: 4, warmup_steps: 2}
objective: {type: synthetic, epochs: 8, epoch_seconds: 0.1}
params:
  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
  momentum: {type: float, low: 0.8, high: 0.99}
  batch_size: {type: categorical, choices: [64, 128, 256]}
  optimizer: {type: categorical, choices: [sgd, adamw]}
`

// TestDashboard_Browser opens a study's page in headless Chromium while
// the study runs, sees its trial count and trial table grow without a
// reload, takes a screenshot, and clicks into a trial.
func TestDashboard_Browser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser and a study")
	}
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no headless Chromium (apt-get install -y chromium)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := pgtest.DSN(t)
	e, _, errOut, sigs := newTestEnv(false)
	spec := writeFile(t, t.TempDir(), "live.yaml", browserStudy)
	started := make(chan int, 1)
	go func() { started <- run(ctx, e, []string{"start", spec, "--db", dsn}) }()
	defer func() {
		sigs <- os.Interrupt // let running trials finish, then stop
		if code := <-started; code != 0 && code != exitInterrupted {
			t.Errorf("sweep start: exit %d\n%s", code, errOut)
		}
	}()
	waitRunning(t, dsn, 1)
	base := serveDashboard(t, dsn, false, 300*time.Millisecond)

	b, err := cdp.Start(ctx, browser, filepath.Join(t.TempDir(), "profile"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	page, err := b.NewPage(ctx, base+"/study/live-demo", 1280, 1400)
	if err != nil {
		t.Fatal(err)
	}
	count := `Number(document.querySelector('#live [data-live="trials"]').textContent)`
	if err := page.WaitFor(ctx, count+` > 0 && document.readyState === "complete"`, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	var first, firstRows int
	// A mark that a reload would erase.
	if err := page.Eval(ctx, `window.sweepMark = 1; `+count, &first); err != nil {
		t.Fatal(err)
	}
	if first >= 40 {
		t.Fatalf("the study had all its %d trials before the page loaded: nothing left to watch (machine too loaded?)", first)
	}
	rows := `document.querySelectorAll("table.trials tbody tr").length`
	if err := page.Eval(ctx, rows, &firstRows); err != nil {
		t.Fatal(err)
	}
	grown := fmt.Sprintf(`%s > %d && %s > %d && window.sweepMark === 1`, count, first, rows, firstRows)
	if err := page.WaitFor(ctx, grown, 60*time.Second); err != nil {
		var now, nowRows int
		page.Eval(ctx, count, &now)
		page.Eval(ctx, rows, &nowRows)
		t.Fatalf("trial count %d → %d, table rows %d → %d without a reload: %v", first, now, firstRows, nowRows, err)
	}
	out := os.Getenv(screenshotEnv)
	if out != "" {
		// Let the study finish, so the screenshot shows full charts.
		page.WaitFor(ctx, `document.querySelector('#live [data-live="running"]').textContent === "0" && `+count+` === 40 && `+
			`document.querySelector("table.summary").textContent.includes(" 0 running")`, 60*time.Second)
	}
	shot, err := page.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if out != "" {
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot written to %s", out)
	}

	if err := page.Eval(ctx, `document.querySelector("table.trials a.trial").click()`, nil); err != nil {
		t.Fatal(err)
	}
	onTrial := `location.pathname.startsWith("/study/live-demo/trial/") && document.querySelector("h1").textContent.startsWith("Trial ") && document.querySelector("figure svg") !== null`
	if err := page.WaitFor(ctx, onTrial, 20*time.Second); err != nil {
		var html string
		page.Eval(ctx, `document.body.innerText.slice(0, 500)`, &html)
		t.Fatalf("after clicking a trial: %v\n%s", err, html)
	}
	var title string
	page.Eval(ctx, `document.title`, &title)
	if !strings.Contains(title, "live-demo trial") {
		t.Errorf("trial page title %q", title)
	}
}

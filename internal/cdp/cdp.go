// Package cdp drives a headless Chromium through the Chrome DevTools
// Protocol over a pipe (--remote-debugging-pipe), for tests that need a
// real browser: open a page, run JavaScript in it, click, take a
// screenshot.
//
// The pipe carries NUL-terminated JSON messages on the browser's file
// descriptors 3 (commands in) and 4 (replies out), so no port is opened and
// no WebSocket client is needed: the package has no dependencies. It
// implements the few commands tests use, not the protocol; events are
// read and dropped.
package cdp

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Browser is a running headless Chromium. Its methods are safe for
// concurrent use.
type Browser struct {
	cmd *exec.Cmd
	in  io.WriteCloser // the browser's fd 3

	mu      sync.Mutex
	next    int
	pending map[int]chan reply
	err     error // set when the reply pipe closes
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Start runs the Chromium binary at path headless with a fresh profile in
// dir. The browser is killed when ctx ends or Close is called.
func Start(ctx context.Context, path, dir string) (*Browser, error) {
	cmdIn, in, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	out, cmdOut, err := os.Pipe()
	if err != nil {
		cmdIn.Close()
		in.Close()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	cmd := exec.CommandContext(ctx, path, "--headless", "--remote-debugging-pipe", "--no-sandbox",
		"--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-quic", "--hide-scrollbars", "--user-data-dir="+dir, "about:blank")
	cmd.ExtraFiles = []*os.File{cmdIn, cmdOut} // fds 3 and 4
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{cmdIn, cmdOut, in, out} {
			f.Close()
		}
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	cmdIn.Close()
	cmdOut.Close()
	b := &Browser{cmd: cmd, in: in, pending: map[int]chan reply{}}
	go b.read(out)
	return b, nil
}

// read dispatches replies to their callers until the pipe closes.
func (b *Browser) read(out io.ReadCloser) {
	defer out.Close()
	r := bufio.NewReaderSize(out, 1<<20)
	for {
		msg, err := r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.err = fmt.Errorf("chromium closed its pipe: %w", err)
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m struct {
			ID *int `json:"id"`
			reply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == nil {
			continue // an event
		}
		b.mu.Lock()
		ch := b.pending[*m.ID]
		delete(b.pending, *m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.reply
		}
	}
}

// Call sends one command (to a page when session is set) and decodes its
// result into result, when not nil.
func (b *Browser) Call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return b.err
	}
	b.next++
	id := b.next
	ch := make(chan reply, 1)
	b.pending[id] = ch
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err == nil {
		_, err = b.in.Write(append(data, 0))
	}
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("send %s: %w", method, err)
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	case rep, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: %w", method, b.err)
		}
		if rep.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, rep.Error.Message, rep.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(rep.Result, result)
		}
		return nil
	}
}

// Close asks the browser to quit, so that it removes its own files and
// helper processes, and kills it after 5 seconds if it has not.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.Call(ctx, "", "Browser.close", nil, nil) // the reply may not come: it quits
	exited := make(chan error, 1)
	go func() { exited <- b.cmd.Wait() }()
	select {
	case <-exited:
	case <-ctx.Done():
		b.cmd.Process.Kill()
		<-exited
	}
	b.in.Close()
	return nil
}

// Page is one browser tab.
type Page struct {
	b       *Browser
	session string
}

// NewPage opens url in a new tab of width × height CSS pixels.
func (b *Browser) NewPage(ctx context.Context, url string, width, height int) (*Page, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.Call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.Call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: att.SessionID}
	if err := b.Call(ctx, p.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		return nil, err
	}
	return p, p.Navigate(ctx, url)
}

// Navigate loads url in the page (without waiting for it to load: use
// WaitFor).
func (p *Page) Navigate(ctx context.Context, url string) error {
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.b.Call(ctx, p.session, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("navigate to %s: %s", url, nav.ErrorText)
	}
	return nil
}

// Eval runs a JavaScript expression in the page, awaiting a promise, and
// decodes its value (JSON-serialisable) into out, when not nil.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.b.Call(ctx, p.session, "Runtime.evaluate",
		map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res)
	if err != nil {
		return err
	}
	if res.Exception != nil {
		return fmt.Errorf("evaluate %q: %s %s", expr, res.Exception.Text, res.Exception.Exception.Description)
	}
	if out != nil && len(res.Result.Value) > 0 {
		return json.Unmarshal(res.Result.Value, out)
	}
	return nil
}

// ErrTimeout means WaitFor's condition never held.
var ErrTimeout = errors.New("cdp: condition not met in time")

// WaitFor evaluates a boolean expression every 50 ms until it is true
// (errors while the page loads count as false), for at most d.
func (p *Page) WaitFor(ctx context.Context, expr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		var ok bool
		if err := p.Eval(ctx, expr, &ok); err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for %s: %w", expr, ErrTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Screenshot returns the page's viewport as PNG.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var res struct {
		Data string `json:"data"`
	}
	if err := p.b.Call(ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &res); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(res.Data)
}

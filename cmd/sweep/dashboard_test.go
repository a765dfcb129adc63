package main

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNewDashboardCmd(t *testing.T) {
	for _, c := range []struct {
		argv    string
		want    dashboardOptions
		wantErr string
	}{
		{argv: "", want: dashboardOptions{Listen: "127.0.0.1:8080", Refresh: 2 * time.Second}},
		{argv: "--listen localhost:9000 --allow-writes --refresh 500ms --db postgres://x",
			want: dashboardOptions{Listen: "localhost:9000", AllowWrites: true, Refresh: 500 * time.Millisecond, DB: "postgres://x"}},
		{argv: "--listen 0.0.0.0:8080 --token t0k", want: dashboardOptions{Listen: "0.0.0.0:8080", Token: "t0k", Refresh: 2 * time.Second}},
		{argv: "--listen 0.0.0.0:8080",
			wantErr: "listen on 0.0.0.0:8080: dashboard: a non-loopback address needs a token (--token or SWEEP_DASHBOARD_TOKEN), or listen on 127.0.0.1"},
		{argv: "--listen :8080", wantErr: "listen on :8080: dashboard: a non-loopback address needs a token (--token or SWEEP_DASHBOARD_TOKEN), or listen on 127.0.0.1"},
		{argv: "--listen 8080", wantErr: `--listen "8080": want HOST:PORT, e.g. 127.0.0.1:8080`},
		{argv: "--refresh 10ms", wantErr: "--refresh 10ms: want at least 200ms"},
		{argv: "demo", wantErr: `unknown command "demo" for "dashboard"`},
	} {
		t.Run(c.argv, func(t *testing.T) {
			got, err := parseArgv(t, newDashboardCmd, c.argv)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			type flags struct {
				Listen, Token, DB string
				Writes            bool
				Refresh           time.Duration
			}
			g := flags{got.Listen, got.Token, got.DB, got.AllowWrites, got.Refresh}
			w := flags{c.want.Listen, c.want.Token, c.want.DB, c.want.AllowWrites, c.want.Refresh}
			if g != w {
				t.Errorf("options %+v, want %+v", *got, c.want)
			}
		})
	}
	t.Run("TokenFromEnv", func(t *testing.T) {
		e, _, _, _ := newTestEnv(false)
		e.Getenv = func(k string) string { return map[string]string{tokenEnv: "from-env"}[k] }
		var got *dashboardOptions
		cmd := newDashboardCmd(e, func(_ context.Context, o *dashboardOptions) error { got = o; return nil })
		cmd.SetArgs([]string{"--listen", "0.0.0.0:8080"})
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		if err := cmd.Execute(); err != nil || got.Token != "from-env" {
			t.Fatalf("err %v, token %q; want the token from $%s", err, got.Token, tokenEnv)
		}
	})
}

// serveDashboard runs runDashboard on a free loopback port until the test
// ends and returns its base URL.
func serveDashboard(t *testing.T, dsn string, writes bool, refresh time.Duration) string {
	t.Helper()
	e, _, _, _ := newTestEnv(false)
	e.Err = io.Discard // the server's goroutines log here
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	opts := &dashboardOptions{env: e, Listen: "127.0.0.1:0", AllowWrites: writes, Refresh: refresh, DB: dsn,
		listening: func(a net.Addr) { addr <- a }}
	done := make(chan error, 1)
	go func() { done <- runDashboard(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("dashboard after shutdown: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("dashboard did not shut down within 10s of its context ending")
		}
	})
	select {
	case a := <-addr:
		return "http://" + a.String()
	case err := <-done:
		t.Fatalf("dashboard: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("dashboard never listened")
	}
	return ""
}

func TestRunDashboard(t *testing.T) {
	dsn := startStudy(t, smallStudy)
	base := serveDashboard(t, dsn, true, time.Second)
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, `href="/study/cli-small"`) {
		t.Fatalf("GET /: %d\n%.500s", code, body)
	}
	if code, body := get("/study/cli-small/trial/2"); code != 200 || !strings.Contains(body, "val_acc of trial 2") {
		t.Errorf("GET trial 2: %d\n%.500s", code, body)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// The study used its whole budget: an enqueue is refused, as sweep
	// enqueue refuses it, until the budget grows.
	params := url.Values{"params": {`{"lr": 0.01, "opt": "adam"}`}}
	if code, body := post("/study/cli-small/enqueue", params); code != 400 || !strings.Contains(body, "has all its 6 trials") {
		t.Errorf("enqueue past the budget: %d %s", code, body)
	}
	if _, err := db.Exec(`UPDATE studies SET trial_budget = 7`); err != nil {
		t.Fatal(err)
	}
	if code, body := post("/study/cli-small/enqueue", url.Values{"params": {`{"lr": 7}`}}); code != 400 || !strings.Contains(body, "lr") {
		t.Errorf("enqueue lr=7 outside the space: %d %s", code, body)
	}
	if code, body := post("/study/cli-small/enqueue", params); code != 200 || !strings.Contains(body, "trial 6 queued") {
		t.Errorf("enqueue: %d %s", code, body)
	}
	if n := countStates(t, dsn)["WAITING"]; n != 1 {
		t.Errorf("%d WAITING trials after enqueue, want 1", n)
	}
	if code, body := post("/study/nope/note", url.Values{"text": {"x"}}); code != 404 {
		t.Errorf("note on an unknown study: %d %s", code, body)
	}
	post("/study/cli-small/note", url.Values{"text": {"first"}})
	if code, body := post("/study/cli-small/note", url.Values{"text": {"second"}, "append": {"1"}}); code != 200 {
		t.Errorf("note: %d %s", code, body)
	}
	if code, body := post("/study/cli-small/stop", nil); code != 200 {
		t.Errorf("stop: %d %s", code, body)
	}
	var note, reason string
	if err := db.QueryRow(`SELECT note, stop_reason FROM studies WHERE name = 'cli-small'`).Scan(&note, &reason); err != nil {
		t.Fatal(err)
	}
	if note != "first\nsecond" || reason != "stopped from sweep dashboard" {
		t.Errorf("stored note %q, stop reason %q", note, reason)
	}
}

func TestRunDashboard_NoDatabase(t *testing.T) {
	e, _, _, _ := newTestEnv(false)
	err := runDashboard(context.Background(), &dashboardOptions{env: e, Listen: "127.0.0.1:0", PGDir: t.TempDir(), Refresh: time.Second})
	if err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want the missing cluster reported", err)
	}
}

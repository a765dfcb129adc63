// Package dashboard serves `sweep dashboard`: web pages that follow
// running studies live. It lists the studies with their progress, shows one
// study's report (the tables and SVG charts of package reports) updating
// without a reload, one trial's params, curves, attrs and paths, filters
// and sorts the trial table, and compares two studies.
//
// It reads only through package reports' loaders (one query layer, two
// renderers: reports writes files, dashboard serves pages), so it holds no
// SQL of its own. Pages are server-rendered html/template with one small
// embedded script; every asset is embedded, so it works offline.
//
// It does not run trials, and it changes nothing unless it is given a
// [Writer] (sweep dashboard --allow-writes). It does not do TLS: put it
// behind a reverse proxy, or an SSH tunnel, to reach it from elsewhere.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"

	"sweep/reports"
)

// Sentinel errors. A Writer wraps them so that the dashboard answers with
// the right status.
var (
	// ErrInvalid means the request's input is wrong (a param value outside
	// the space, a note too long): 400.
	ErrInvalid = errors.New("dashboard: invalid request")
	// ErrNotFound means the study is not stored: 404.
	ErrNotFound = errors.New("dashboard: not found")
	// ErrNoToken means a non-loopback listen address was given no token.
	ErrNoToken = errors.New("dashboard: a non-loopback address needs a token")
)

// Writer makes the changes that --allow-writes enables; cmd/sweep
// implements it with the functions `sweep enqueue`, `sweep study note` and
// the spec's stop conditions use. Methods are called concurrently, one
// call per request; study is the name as stored. Errors wrap ErrInvalid or
// ErrNotFound when the request, not the store, is at fault.
type Writer interface {
	// Enqueue queues a WAITING trial with the given params (name → value
	// as text, checked against the stored space) and returns its number.
	Enqueue(ctx context.Context, study string, params map[string]string) (int, error)
	// SetNote replaces the study's note, or adds text as a new line of it.
	SetNote(ctx context.Context, study, text string, appendLine bool) error
	// Stop makes the study's workers start no new trial (running ones
	// finish), recording reason as the study's stop reason.
	Stop(ctx context.Context, study, reason string) error
}

// Config is what a Server needs. DB is required; the zero value of every
// other field is read-only, no token, a 2-second refresh.
type Config struct {
	// DB is the sweep database, read through package reports.
	DB *sqlx.DB
	// Writer enables the POST endpoints; nil answers them 403.
	Writer Writer
	// Token, when set, must come with every request (see [Server.Handler]).
	// Without one the server answers only requests addressed to a loopback
	// host name, so that a web page cannot reach it by DNS rebinding.
	Token string
	// Refresh is how often pages poll for changes (default 2s).
	Refresh time.Duration
	// Report selects what the study pages show, as for sweep report.
	Report reports.Options
	// Logf logs what a page cannot show (database errors); nil discards.
	Logf func(format string, args ...any)
}

//go:embed assets
var assets embed.FS

// Server serves the dashboard. It is safe for concurrent use; it keeps no
// state between requests beyond its Config.
type Server struct {
	cfg   Config
	pages *template.Template
}

// New checks cfg and parses the embedded templates.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("dashboard: no database")
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 2 * time.Second
	}
	t, err := template.New("").Funcs(funcs).ParseFS(assets, "assets/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	return &Server{cfg: cfg, pages: t}, nil
}

// Handler returns the dashboard's routes behind its security checks:
// headers (a Content-Security-Policy allowing only this origin), the
// loopback host check or the token, and the same-origin check of POSTs.
// With a token, a request carries it as "Authorization: Bearer TOKEN", or
// in the cookie that opening any page with ?token=TOKEN sets.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /studies.json", s.studiesJSON)
	mux.HandleFunc("GET /study/{name}", s.study)
	mux.HandleFunc("GET /study/{name}/live", s.live)
	mux.HandleFunc("GET /study/{name}/trial/{number}", s.trial)
	mux.HandleFunc("GET /compare", s.compare)
	mux.HandleFunc("POST /study/{name}/enqueue", s.enqueue)
	mux.HandleFunc("POST /study/{name}/note", s.note)
	mux.HandleFunc("POST /study/{name}/stop", s.stop)
	return s.secure(mux)
}

// CheckListen refuses a listen address that other machines can reach
// when there is no token: anyone there could read every study.
func CheckListen(addr, token string) error {
	if token != "" || isLoopback(addr) {
		return nil
	}
	return fmt.Errorf("listen on %s: %w (--token or SWEEP_DASHBOARD_TOKEN), or listen on 127.0.0.1", addr, ErrNoToken)
}

// isLoopback says whether a listen address (host:port) binds only the
// loopback interface. An empty host binds every interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve serves h on ln until ctx ends, then shuts down gracefully: it
// stops accepting, lets requests in flight finish for up to 5 seconds,
// and returns nil. Another error of the server is returned as it happens.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve dashboard: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down dashboard: %w", err)
	}
	return nil
}

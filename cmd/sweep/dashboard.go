package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sweep/dashboard"
	"sweep/internal/safetext"
	"sweep/search"
	"sweep/sweep"
	"sweep/sweep/postgres"
)

// tokenEnv names the variable that holds the dashboard's token, so that it
// need not appear in ps output.
const tokenEnv = "SWEEP_DASHBOARD_TOKEN"

// dashboardOptions are the flags of `sweep dashboard`.
type dashboardOptions struct {
	env         *env
	Listen      string
	Token       string // --token, else $SWEEP_DASHBOARD_TOKEN
	AllowWrites bool
	Refresh     time.Duration
	DB          string
	PGDir       string
	// listening, when set, is told the bound address (tests listen on
	// port 0).
	listening func(net.Addr)
}

func newDashboardCmd(e *env, runF func(context.Context, *dashboardOptions) error) *cobra.Command {
	opts := &dashboardOptions{env: e}
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Serve web pages that follow running studies live",
		Long: `Serve the dashboard: a page listing the studies (trials by state, best
value, progress, ETA); a page per study with the report's tables and charts,
updating without a reload while workers run, and its trial table with
filters and sorting; a page per trial (params, every metric curve, reason,
attrs and checkpoint paths); and a comparison of two studies.

It is read-only unless --allow-writes adds forms to enqueue a trial, set
the study's note and stop the study. It listens on 127.0.0.1 by default. A
--listen address other machines can reach needs a token (--token or
$SWEEP_DASHBOARD_TOKEN); every request must then carry it: open the
dashboard once with ?token=TOKEN (it sets a cookie), or send
"Authorization: Bearer TOKEN". It does not do TLS: use an SSH tunnel or a
reverse proxy across networks. See docs/dashboard.md.`,
		Example: `  sweep dashboard                              # http://127.0.0.1:8080/
  sweep dashboard --listen 127.0.0.1:9000 --allow-writes
  SWEEP_DASHBOARD_TOKEN=$(openssl rand -hex 16) sweep dashboard --listen 0.0.0.0:8080
  ssh -L 8080:127.0.0.1:8080 gpu-box   # then open http://127.0.0.1:8080/ here`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Token == "" {
				opts.Token = e.Getenv(tokenEnv)
			}
			if _, _, err := net.SplitHostPort(opts.Listen); err != nil {
				return usageErrorf("--listen %q: want HOST:PORT, e.g. 127.0.0.1:8080", opts.Listen)
			}
			if err := dashboard.CheckListen(opts.Listen, opts.Token); err != nil {
				return withExit(exitUsage, err)
			}
			if opts.Refresh < 200*time.Millisecond {
				return usageErrorf("--refresh %s: want at least 200ms", opts.Refresh)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDashboard(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:8080", "`HOST:PORT` to serve on; a non-loopback host needs a token")
	f.StringVar(&opts.Token, "token", "", "require this token on every request (default $"+tokenEnv+"); visible in ps, prefer the variable")
	f.BoolVar(&opts.AllowWrites, "allow-writes", false, "enable enqueue, note and stop-study forms (POST)")
	f.DurationVar(&opts.Refresh, "refresh", 2*time.Second, "how often open pages poll for changes")
	addDBFlags(f, &opts.DB, &opts.PGDir)
	return cmd
}

// runDashboard serves until ctx ends (Ctrl-C), then shuts down gracefully.
func runDashboard(ctx context.Context, opts *dashboardOptions) error {
	e := opts.env
	store, err := openExistingStore(ctx, e, opts.DB, opts.PGDir)
	if err != nil {
		return err
	}
	defer store.Close()
	cfg := dashboard.Config{DB: store.DB(), Token: opts.Token, Refresh: opts.Refresh,
		Logf: func(format string, args ...any) { fmt.Fprintf(e.Err, format+"\n", args...) }}
	if opts.AllowWrites {
		cfg.Writer = storeWriter{store}
	}
	srv, err := dashboard.New(cfg)
	if err != nil {
		return err
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	mode := "read-only"
	if opts.AllowWrites {
		mode = "writes allowed"
	}
	auth := ""
	if opts.Token != "" {
		auth = " (open it once with ?token=TOKEN)"
	}
	fmt.Fprintf(e.Err, "dashboard on http://%s/ (%s)%s; Ctrl-C stops it\n", ln.Addr(), mode, auth)
	if opts.listening != nil {
		opts.listening(ln.Addr())
	}
	return dashboard.Serve(ctx, ln, srv.Handler())
}

// storeWriter is the dashboard's Writer over the store, doing what
// `sweep enqueue` and `sweep study note` do, and what a stop condition of
// the spec does (sweep.StopRecorder).
type storeWriter struct{ store *postgres.Storage }

var _ dashboard.Writer = storeWriter{}

// Enqueue implements dashboard.Writer as runEnqueue does.
func (w storeWriter) Enqueue(ctx context.Context, study string, params map[string]string) (int, error) {
	info, spec, err := w.load(ctx, study)
	if err != nil {
		return 0, err
	}
	internal, err := search.Assign(spec.Params, params)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", dashboard.ErrInvalid, err)
	}
	t, err := sweep.Enqueue(ctx, w.store, info, spec.Params, internal)
	if errors.Is(err, sweep.ErrBudgetExhausted) {
		return 0, fmt.Errorf("%w: the study has all its %d trials; raise trials in its spec to queue more", dashboard.ErrInvalid, info.Trials)
	}
	if err != nil {
		return 0, err
	}
	return t.Number, nil
}

// SetNote implements dashboard.Writer as runStudyNote does.
func (w storeWriter) SetNote(ctx context.Context, study, text string, appendLine bool) error {
	info, _, err := w.load(ctx, study)
	if err != nil {
		return err
	}
	text = strings.TrimRight(text, "\r\n")
	if appendLine && text == "" {
		return fmt.Errorf("%w: append needs text", dashboard.ErrInvalid)
	}
	cur, err := w.store.StudyNote(ctx, info.ID)
	if err != nil {
		return err
	}
	if n := len(text) + len(cur) + 1; len(text) > maxNote || (appendLine && n > maxNote) {
		return fmt.Errorf("%w: a note holds at most %d bytes", dashboard.ErrInvalid, maxNote)
	}
	_, err = w.store.SetStudyNote(ctx, info.ID, text, appendLine)
	return err
}

// Stop implements dashboard.Writer: it records the stop reason that the
// study's workers check before each claim (sweep.Worker).
func (w storeWriter) Stop(ctx context.Context, study, reason string) error {
	info, _, err := w.load(ctx, study)
	if err != nil {
		return err
	}
	return w.store.RecordStop(ctx, info.ID, reason)
}

// load finds the study, wrapping dashboard.ErrNotFound when there is none.
func (w storeWriter) load(ctx context.Context, study string) (sweep.StudyInfo, *search.Spec, error) {
	info, err := w.store.Study(ctx, study)
	if errors.Is(err, sweep.ErrStudyNotFound) {
		return info, nil, fmt.Errorf("study %q: %w", safetext.Terminal(study), dashboard.ErrNotFound)
	}
	if err != nil {
		return info, nil, fmt.Errorf("load study: %w", err)
	}
	spec, err := search.ParseSpec("stored spec of "+study, info.Spec)
	if err != nil {
		return info, nil, fmt.Errorf("parse stored spec: %w", err)
	}
	return info, spec, nil
}

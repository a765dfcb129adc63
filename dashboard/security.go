package dashboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// tokenCookie holds the token after a page was opened with ?token=.
const tokenCookie = "sweep_dashboard_token"

// csp allows nothing from outside this origin: the pages' script, style
// sheet and fetches come from the dashboard itself, charts are inline SVG.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secure wraps the routes in the dashboard's checks, in this order:
// response headers, then the token (or, without one, the loopback host
// check), then for POSTs the same-origin check.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		bearer := false
		if s.cfg.Token == "" {
			if !loopbackHost(r.Host) {
				http.Error(w, "403 forbidden: this dashboard answers only requests to localhost, 127.0.0.1 or [::1] (start it with --token to serve other names)", http.StatusForbidden)
				return
			}
		} else {
			var ok bool
			if ok, bearer = s.authorized(w, r); !ok {
				return
			}
		}
		if r.Method == http.MethodPost && !bearer && !sameOrigin(r) {
			http.Error(w, "403 forbidden: a POST must come from a dashboard page (same origin) or carry the token in an Authorization header", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorized checks the token of a request and says whether it came in an
// Authorization header (which a browser never adds on its own, so such a
// request cannot be cross-site). A valid ?token= sets the cookie and
// redirects to the same URL without it, keeping it out of history and
// logs. It writes the 401 itself.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) (ok, bearer bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		got, found := strings.CutPrefix(auth, "Bearer ")
		if found && s.tokenMatches(got) {
			return true, true
		}
		unauthorized(w)
		return false, false
	}
	if q := r.URL.Query(); q.Has("token") {
		if !s.tokenMatches(q.Get("token")) || r.Method != http.MethodGet {
			unauthorized(w)
			return false, false
		}
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: q.Get("token"), Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		q.Del("token")
		u := url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return false, false
	}
	if c, err := r.Cookie(tokenCookie); err == nil && s.tokenMatches(c.Value) {
		return true, false
	}
	unauthorized(w)
	return false, false
}

// tokenMatches compares in constant time; hashing first makes the time
// independent of the lengths too.
func (s *Server) tokenMatches(got string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.cfg.Token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="sweep dashboard"`)
	http.Error(w, "401 unauthorized: open the dashboard with ?token=TOKEN once, or send Authorization: Bearer TOKEN", http.StatusUnauthorized)
}

// loopbackHost says whether a Host header names this machine's loopback.
func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin says whether a browser request comes from one of the
// dashboard's own pages: its Origin is this host, or, where a browser
// sends no Origin, Sec-Fetch-Site says same-origin. A request with
// neither (curl) is refused: it must send the token as a header.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host == r.Host
	}
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}

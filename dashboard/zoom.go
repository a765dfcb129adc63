package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"sweep/internal/safetext"
	"sweep/reports"
)

// Zooming. A page's script turns a dragged rectangle into data values and
// asks for that one chart redrawn on the server, so that its ticks label
// the zoomed range and it holds only the marks inside it:
//
//	fig=ID                the chart (a data-fig of the page): answers its <figure> only
//	xmin=A&xmax=B         the x range, both or neither, A < B
//	ymin=C&ymax=D         the y range, likewise
//
// fig without a range draws the chart unzoomed (the reset).

// zoomQuery is a parsed zoom request.
type zoomQuery struct {
	fig  string
	zoom reports.Zoom
}

// parseZoom reads the zoom parameters; it returns nil when there is no
// fig. Errors wrap ErrInvalid and name the parameter at fault.
func parseZoom(q url.Values) (*zoomQuery, error) {
	if !q.Has("fig") {
		for _, k := range []string{"xmin", "xmax", "ymin", "ymax"} {
			if q.Has(k) {
				return nil, fmt.Errorf("%w: %s without fig (the chart to zoom)", ErrInvalid, k)
			}
		}
		return nil, nil
	}
	zq := &zoomQuery{fig: q.Get("fig")}
	if zq.fig == "" {
		return nil, fmt.Errorf("%w: fig is empty: want a chart's id", ErrInvalid)
	}
	var err error
	if zq.zoom.X, err = parseRange(q, "xmin", "xmax"); err != nil {
		return nil, err
	}
	if zq.zoom.Y, err = parseRange(q, "ymin", "ymax"); err != nil {
		return nil, err
	}
	return zq, nil
}

// parseRange reads one axis's bounds: neither (nil) or both, finite, lo
// below hi.
func parseRange(q url.Values, lo, hi string) (*reports.Range, error) {
	if !q.Has(lo) && !q.Has(hi) {
		return nil, nil
	}
	var r [2]float64
	for i, k := range []string{lo, hi} {
		if !q.Has(k) {
			return nil, fmt.Errorf("%w: %s without %s", ErrInvalid, []string{hi, lo}[i], k)
		}
		f, err := strconv.ParseFloat(q.Get(k), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: %s=%q: want a finite number", ErrInvalid, k, q.Get(k))
		}
		r[i] = f
	}
	if !(r[0] < r[1]) {
		return nil, fmt.Errorf("%w: %s=%g is not below %s=%g", ErrInvalid, lo, r[0], hi, r[1])
	}
	return &reports.Range{Lo: r[0], Hi: r[1]}, nil
}

// serveZoom answers a zoom request with the one <figure> that draw
// renders, or 400 when the chart does not exist, cannot zoom, or cannot
// zoom the axis asked for.
func (s *Server) serveZoom(w http.ResponseWriter, zq *zoomQuery, draw func(string, reports.Zoom) (reports.Figure, error)) {
	f, err := draw(zq.fig, zq.zoom)
	if errors.Is(err, reports.ErrNoFigure) {
		s.fail(w, fmt.Errorf("%w: fig=%q: no zoomable chart of that id here", ErrInvalid, safetext.Terminal(zq.fig)))
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	switch {
	case zq.zoom.X != nil && !f.Axes.ZoomX:
		s.fail(w, fmt.Errorf("%w: xmin, xmax: chart %s does not zoom its x axis", ErrInvalid, safetext.Terminal(f.ID)))
		return
	case zq.zoom.Y != nil && !f.Axes.ZoomY:
		s.fail(w, fmt.Errorf("%w: ymin, ymax: chart %s does not zoom its y axis", ErrInvalid, safetext.Terminal(f.ID)))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.pages.ExecuteTemplate(w, "figure", toFigure(f)); err != nil {
		s.cfg.Logf("dashboard: render figure %s: %v", f.ID, err)
	}
}

// axesJSON is a chart's Axes for its data-axes attribute ("" without).
func axesJSON(a *reports.Axes) string {
	if a == nil {
		return ""
	}
	b, err := json.Marshal(a)
	if err != nil { // only plain numbers and bools: cannot happen
		return ""
	}
	return string(b)
}

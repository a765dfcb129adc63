package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sweep/internal/safetext"
	"sweep/reports"
)

// funcs are the templates' helpers. Links escape names as one path
// segment, so a study called "a/b" or "<script>" still has its own page.
var funcs = template.FuncMap{
	"studyURL": studyURL,
	"trialURL": func(study string, n int) string { return studyURL(study) + "/trial/" + strconv.Itoa(n) },
}

func studyURL(name string) string { return "/study/" + url.PathEscape(name) }

// table is a reports.Table ready for the template: control characters
// gone (html/template escapes markup), right-aligned columns marked.
type table struct {
	Name, Title string
	Header      []cell
	Rows        [][]cell
}

type cell struct {
	Text, Class, Link string
}

func toTable(t reports.Table) table {
	out := table{Name: t.Name, Title: safetext.Terminal(t.Title)}
	class := func(i int) string {
		if i < len(t.Right) && t.Right[i] {
			return "r"
		}
		return ""
	}
	for i, h := range t.Header {
		out.Header = append(out.Header, cell{Text: safetext.Terminal(h), Class: class(i)})
	}
	for _, row := range t.Rows {
		cells := make([]cell, len(row))
		for i, c := range row {
			cells[i] = cell{Text: safetext.Terminal(c), Class: class(i)}
		}
		out.Rows = append(out.Rows, cells)
	}
	return out
}

func toTables(ts []reports.Table) []table {
	out := make([]table, len(ts))
	for i, t := range ts {
		out[i] = toTable(t)
	}
	return out
}

// figure is a reports.Figure for the template. Axes, the chart's
// reports.Axes as JSON, marks a chart the script can zoom.
type figure struct {
	ID     string
	SVG    template.HTML
	Note   string
	Axes   string
	Zoomed bool
}

func toFigure(f reports.Figure) figure {
	// Package reports builds the SVG and escapes every text it embeds
	// (names, choices, titles).
	return figure{ID: f.ID, SVG: template.HTML(f.SVG), Note: safetext.Terminal(f.Note),
		Axes: axesJSON(f.Axes), Zoomed: f.Axes != nil && f.Axes.Zoomed}
}

func toFigures(fs []reports.Figure) []figure {
	out := make([]figure, len(fs))
	for i, f := range fs {
		out[i] = toFigure(f)
	}
	return out
}

// page is what every template gets: a title, the refresh interval and
// whether write forms are shown, plus the page's own data.
type page struct {
	Title     string
	RefreshMS int64
	Writes    bool
	Data      any
}

func (s *Server) render(w http.ResponseWriter, name, title string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	p := page{Title: safetext.Terminal(title), RefreshMS: s.cfg.Refresh.Milliseconds(), Writes: s.cfg.Writer != nil, Data: data}
	if err := s.pages.ExecuteTemplate(w, name, p); err != nil {
		s.cfg.Logf("dashboard: render %s: %v", name, err)
	}
}

// fail answers an error: 404 for an unknown study or trial, 400 for bad
// input, 500 (logged, not shown) for the rest.
func (s *Server) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, reports.ErrNoStudy), errors.Is(err, reports.ErrNoTrial), errors.Is(err, ErrNotFound):
		http.Error(w, "404 not found: "+safetext.Terminal(err.Error()), http.StatusNotFound)
	case errors.Is(err, ErrInvalid), errors.Is(err, reports.ErrUnknownParam):
		http.Error(w, "400 bad request: "+safetext.Terminal(err.Error()), http.StatusBadRequest)
	default:
		s.cfg.Logf("dashboard: %v", err)
		http.Error(w, "500 internal server error (see the dashboard's log)", http.StatusInternalServerError)
	}
}

// studyRow is one line of the study list.
type studyRow struct {
	reports.StudyListRow
	Finished int    `json:"finished"`
	Progress int    `json:"progress"` // percent of the budget finished
	BestText string `json:"best_text"`
	ETA      string `json:"eta"`
}

func listRow(r reports.StudyListRow) studyRow {
	out := studyRow{StudyListRow: r, Finished: r.Complete + r.Pruned + r.Failed, BestText: reports.FormatMetric(r.Best), ETA: "-"}
	if r.Budget > 0 {
		out.Progress = min(100, 100*out.Finished/r.Budget)
	}
	if eta, ok := estimate(r); ok {
		out.ETA = reports.FormatDuration(eta.Seconds())
	}
	return out
}

// estimate is the live display's ETA (sweep/progress.go) from stored rows:
// mean finished-trial duration × trials left ÷ trials running at once.
// Only a study with running trials has one: a stopped study has no end.
func estimate(r reports.StudyListRow) (time.Duration, bool) {
	left := r.Budget - (r.Complete + r.Pruned + r.Failed)
	if r.Budget == 0 || left <= 0 || r.Running == 0 || r.MeanTrialS <= 0 {
		return 0, false
	}
	parallel := max(1, min(r.Running, left))
	return time.Duration(r.MeanTrialS * float64(left) / float64(parallel) * float64(time.Second)), true
}

func (s *Server) studies(r *http.Request) ([]studyRow, error) {
	rows, err := reports.LoadStudies(r.Context(), s.cfg.DB)
	if err != nil {
		return nil, err
	}
	out := make([]studyRow, len(rows))
	for i, row := range rows {
		out[i] = listRow(row)
	}
	return out, nil
}

// index lists the studies.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	rows, err := s.studies(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.render(w, "index", "sweep dashboard", rows)
}

// studiesJSON is the study list for scripts and the index page's refresh.
func (s *Server) studiesJSON(w http.ResponseWriter, r *http.Request) {
	rows, err := s.studies(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.writeJSON(w, rows)
}

// liveState is what a study page polls: the counts it shows, and a
// version that changes whenever the report would.
type liveState struct {
	Trials   int    `json:"trials"`
	Complete int    `json:"complete"`
	Pruned   int    `json:"pruned"`
	Failed   int    `json:"failed"`
	Running  int    `json:"running"`
	Waiting  int    `json:"waiting"`
	Best     string `json:"best"`
	ETA      string `json:"eta"`
	Progress int    `json:"progress"`
	Status   string `json:"status"`
	Stopped  string `json:"stopped"`
	Version  string `json:"version"`
}

// live answers a study page's poll from the study list's row (one light
// query), so a page refetches its report only when something changed.
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	rows, err := reports.LoadStudies(r.Context(), s.cfg.DB)
	if err != nil {
		s.fail(w, err)
		return
	}
	for _, row := range rows {
		if row.Name != name {
			continue
		}
		l := listRow(row)
		st := liveState{Trials: row.Trials, Complete: row.Complete, Pruned: row.Pruned, Failed: row.Failed,
			Running: row.Running, Waiting: row.Waiting, Best: l.BestText, ETA: l.ETA, Progress: l.Progress,
			Status: safetext.Terminal(row.Status), Stopped: safetext.Terminal(row.StopReason)}
		st.Version = fmt.Sprintf("%d/%d/%d/%d/%d/%d/%s/%s/%s", st.Trials, st.Complete, st.Pruned, st.Failed,
			st.Running, st.Waiting, st.Best, row.Status, row.StopReason)
		s.writeJSON(w, st)
		return
	}
	s.fail(w, fmt.Errorf("study %q: %w", name, reports.ErrNoStudy))
}

func (s *Server) writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.cfg.Logf("dashboard: write json: %v", err)
	}
}

// stripLines applies safetext.Terminal line by line, keeping the lines.
func stripLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safetext.Terminal(l)
	}
	return strings.Join(lines, "\n")
}

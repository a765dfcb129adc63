package dashboard

import (
	"fmt"
	"net/http"
	"strconv"

	"sweep/internal/safetext"
	"sweep/reports"
)

// studyPage is a study's report with its filtered trial table.
type studyPage struct {
	Name, Metric, Direction, Status string
	URL                             string
	Note, Stopped                   string
	Live                            liveState
	Summary                         table
	Figures                         []figure
	Tables                          []table
	BestConfig                      string
	Trials                          trialTable
}

// study serves /study/{name}; with ?fragment=1 only the part the page's
// script swaps in when the study changes, with ?fig=ID one chart, zoomed
// (see parseZoom).
func (s *Server) study(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ctx := r.Context()
	zq, err := parseZoom(r.URL.Query())
	if err != nil {
		s.fail(w, err)
		return
	}
	d, err := reports.Load(ctx, s.cfg.DB, name)
	if err != nil {
		s.fail(w, err)
		return
	}
	rep, err := reports.Build(d, s.cfg.Report)
	if err != nil {
		s.fail(w, err)
		return
	}
	if zq != nil {
		s.serveZoom(w, zq, rep.ZoomFigure)
		return
	}
	q, err := parseTrialQuery(r.URL.Query(), rep.Params)
	if err != nil {
		s.fail(w, err)
		return
	}
	tables := rep.Tables()
	sum := rep.Summary
	p := studyPage{
		Name: safetext.Terminal(name), Metric: safetext.Terminal(rep.Study.Metric), Direction: rep.Study.Direction,
		Status: safetext.Terminal(rep.Study.Status), URL: studyURL(name),
		Live: liveState{Trials: sum.Trials, Complete: sum.Complete, Pruned: sum.Pruned, Failed: sum.Failed,
			Running: sum.Running, Waiting: sum.Waiting, Best: "-"},
		Summary:    toTable(tables[0]),
		Figures:    toFigures(rep.Figures()),
		Tables:     toTables(tables[1:]),
		BestConfig: stripLines(rep.BestConfig),
		Trials:     q.table(rep, name),
	}
	if rep.Best != nil {
		p.Live.Best = reports.FormatMetric(&rep.Best.Value)
	}
	if rows, err := reports.LoadStudies(ctx, s.cfg.DB); err == nil {
		for _, row := range rows {
			if row.Name == name {
				p.Note, p.Stopped = safetext.Terminal(row.Note), safetext.Terminal(row.StopReason)
				l := listRow(row)
				p.Live.ETA, p.Live.Progress = l.ETA, l.Progress
			}
		}
	}
	if r.URL.Query().Get("fragment") == "1" {
		s.render(w, "study-body", name, p)
		return
	}
	s.render(w, "study", "sweep: "+name, p)
}

// trialPage is one trial's params, curves, attrs and paths.
type trialPage struct {
	Study, StudyURL string
	Number          int
	State           string
	Reason          string
	Tables          []table
	Figures         []figure
}

// trial serves /study/{name}/trial/{number}; with ?fragment=1 only the
// part the page's script swaps in (the study's live state tells it when),
// with ?fig=ID one chart, zoomed.
func (s *Server) trial(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || n < 0 {
		http.Error(w, fmt.Sprintf("404 not found: no trial %q", safetext.Terminal(r.PathValue("number"))), http.StatusNotFound)
		return
	}
	zq, err := parseZoom(r.URL.Query())
	if err != nil {
		s.fail(w, err)
		return
	}
	d, err := reports.LoadTrial(r.Context(), s.cfg.DB, name, n)
	if err != nil {
		s.fail(w, err)
		return
	}
	if zq != nil {
		s.serveZoom(w, zq, d.ZoomFigure)
		return
	}
	p := trialPage{Study: safetext.Terminal(name), StudyURL: studyURL(name), Number: n, State: d.Trial.State,
		Reason: stripLines(d.Trial.Reason), Tables: toTables(d.Tables()), Figures: toFigures(d.Figures())}
	if r.URL.Query().Get("fragment") == "1" {
		s.render(w, "trial-body", name, p)
		return
	}
	s.render(w, "trial", fmt.Sprintf("sweep: %s trial %d", name, n), p)
}

// comparePage puts two studies side by side.
type comparePage struct {
	A, B    string
	AURL    string
	BURL    string
	Studies []string
	Tables  []table
	Figures []figure
	Best    [][3]string // param, best of A, best of B
}

// compare serves /compare?a=X&b=Y; without both, a form to pick them;
// with fig=compare too, the chart zoomed.
func (s *Server) compare(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a, b := q.Get("a"), q.Get("b")
	zq, err := parseZoom(q)
	if err != nil {
		s.fail(w, err)
		return
	}
	p := comparePage{A: safetext.Terminal(a), B: safetext.Terminal(b)}
	rows, err := reports.LoadStudies(r.Context(), s.cfg.DB)
	if err != nil {
		s.fail(w, err)
		return
	}
	for _, row := range rows {
		p.Studies = append(p.Studies, row.Name)
	}
	if a == "" || b == "" {
		if zq != nil {
			s.fail(w, fmt.Errorf("%w: fig needs two studies, a and b", ErrInvalid))
			return
		}
		s.render(w, "compare", "sweep: compare studies", p)
		return
	}
	var built [2]*reports.Report
	for i, name := range []string{a, b} {
		d, err := reports.Load(r.Context(), s.cfg.DB, name)
		if err != nil {
			s.fail(w, err)
			return
		}
		if built[i], err = reports.Build(d, s.cfg.Report); err != nil {
			s.fail(w, err)
			return
		}
	}
	c := reports.Compare(built[0], built[1])
	if zq != nil {
		s.serveZoom(w, zq, c.ZoomFigure)
		return
	}
	p.AURL, p.BURL = studyURL(a), studyURL(b)
	p.Tables, p.Figures = toTables(c.Tables()), toFigures(c.Figures())
	p.Best = bestSideBySide(built[0], built[1])
	s.render(w, "compare", fmt.Sprintf("sweep: %s vs %s", a, b), p)
}

// bestSideBySide lists every param of either study with the value in each
// study's best trial ("-" where it has none).
func bestSideBySide(a, b *reports.Report) [][3]string {
	var out [][3]string
	seen := map[string]bool{}
	for _, rep := range []*reports.Report{a, b} {
		for _, p := range rep.Params {
			if seen[p.Name] {
				continue
			}
			seen[p.Name] = true
			row := [3]string{safetext.Terminal(p.Name), "-", "-"}
			for i, x := range []*reports.Report{a, b} {
				if x.Best == nil {
					continue
				}
				if v, ok := x.Best.Params[p.Name]; ok {
					row[i+1] = safetext.Terminal(reports.FormatParam(p, v))
				}
			}
			out = append(out, row)
		}
	}
	return out
}

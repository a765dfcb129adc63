package reports

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"sweep/internal/safetext"
)

// htmlPage is one self-contained, offline HTML file: inline CSS, inline
// SVG, no scripts, no external fonts or images.
var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
.sub{color:#666;margin:0 0 16px}
table{border-collapse:collapse;margin:6px 0 4px;font-variant-numeric:tabular-nums}
th,td{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:left;white-space:nowrap}
th{background:#f4f6f8;font-weight:600}td.r,th.r{text-align:right}
td.wrap{white-space:normal;max-width:520px}
.figs{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:0;border:1px solid #e4e4e4;border-radius:4px;padding:6px;background:#fff}
figcaption{color:#777;font-size:12px;max-width:560px}
svg text{font-family:inherit}svg .title{font-size:13px;font-weight:600;fill:#222}
svg .tick{font-size:10px;fill:#555}svg .label{font-size:11px;fill:#333}
svg .grid{stroke:#eee}svg .axis{stroke:#888}svg .frame{fill:none;stroke:#bbb}
pre{background:#f6f8fa;padding:10px;border-radius:4px;overflow:auto}
.bar{color:#0072b2;letter-spacing:-1px}
</style></head><body>
<h1>{{.Title}}</h1>
<p class="sub">{{.Subtitle}}</p>
{{range .Sections}}<h2>{{.Title}}</h2>
{{if .Figures}}<div class="figs">{{range .Figures}}<figure>{{.SVG}}<figcaption>{{.Note}}</figcaption></figure>{{end}}</div>{{end}}
{{range .Tables}}{{if .Title}}<h3>{{.Title}}</h3>{{end}}<table><thead><tr>{{range .Header}}<th class="{{.Class}}">{{.Text}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td class="{{.Class}}">{{.Text}}</td>{{end}}</tr>{{end}}</tbody></table>
{{end}}{{if .Pre}}<pre>{{.Pre}}</pre>{{end}}{{end}}
</body></html>
`))

type htmlCell struct{ Text, Class string }

type htmlTable struct {
	Title  string
	Header []htmlCell
	Rows   [][]htmlCell
}

type htmlFigure struct {
	SVG  template.HTML
	Note string
}

type htmlSection struct {
	Title   string
	Figures []htmlFigure
	Tables  []htmlTable
	Pre     string
}

type htmlDoc struct {
	Title, Subtitle string
	Sections        []htmlSection
}

func toHTMLTable(t Table, withTitle bool) htmlTable {
	// html/template escapes markup; control characters go here.
	t = cleanTable(t, safetext.Terminal)
	class := func(i int) string {
		if i < len(t.Right) && t.Right[i] {
			return "r"
		}
		return ""
	}
	ht := htmlTable{}
	if withTitle {
		ht.Title = t.Title
	}
	for i, h := range t.Header {
		ht.Header = append(ht.Header, htmlCell{h, class(i)})
	}
	for _, row := range t.Rows {
		var cells []htmlCell
		for i, c := range row {
			cl := class(i)
			switch {
			case t.Name == "importance" && i == 2:
				cl = "bar"
			case t.Name == "summary" && i > 0:
				cl = "wrap"
			}
			cells = append(cells, htmlCell{c, cl})
		}
		ht.Rows = append(ht.Rows, cells)
	}
	return ht
}

func toHTMLFigures(figs []Figure) []htmlFigure {
	out := make([]htmlFigure, len(figs))
	for i, f := range figs {
		// The SVG is built by plot, which escapes every text it embeds;
		// notes quote the metric name, so control characters go here.
		out[i] = htmlFigure{SVG: template.HTML(f.SVG), Note: safetext.Terminal(f.Note)}
	}
	return out
}

func writeHTML(w io.Writer, r *Report) error {
	tables := r.Tables()
	figs := r.Figures()
	doc := htmlDoc{
		Title:    "sweep report: " + safetext.Terminal(r.Study.Name),
		Subtitle: fmt.Sprintf("%s %s · %d trials · every number comes from the report_* SQL views", r.Study.Direction, safetext.Terminal(r.Study.Metric), r.Summary.Trials),
	}
	// Figures first, so the top of the page (and its screenshot) shows the
	// whole study at a glance; tables follow for the exact numbers.
	doc.Sections = append(doc.Sections,
		htmlSection{Title: "Summary", Tables: []htmlTable{toHTMLTable(tables[0], false)}},
		htmlSection{Title: "Optimisation", Figures: toHTMLFigures(figs[:len(figs)-len(metricFigs(figs))])},
		htmlSection{Title: "Best trial training curves", Figures: toHTMLFigures(metricFigs(figs))},
		htmlSection{Title: tables[1].Title, Tables: []htmlTable{toHTMLTable(tables[1], false)}},
	)
	var groups []htmlTable
	for _, t := range tables[2:] {
		if t.Name != "importance" {
			groups = append(groups, toHTMLTable(t, true))
		}
	}
	doc.Sections = append(doc.Sections, htmlSection{Title: "Comparison tables", Tables: groups})
	if len(r.Importance) > 0 {
		doc.Sections = append(doc.Sections, htmlSection{Title: "Parameter importance",
			Tables: []htmlTable{toHTMLTable(tables[len(tables)-1], false)}})
	}
	if r.BestConfig != "" {
		doc.Sections = append(doc.Sections, htmlSection{Title: "Best configuration (sweep train best.yaml)", Pre: stripEscapes(r.BestConfig)})
	}
	if err := htmlPage.Execute(w, doc); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

// metricFigs returns the trailing training-curve figures of Figures.
func metricFigs(figs []Figure) []Figure {
	i := len(figs)
	for i > 0 && (figs[i-1].ID == "lr" || figs[i-1].ID == "grad_norm" || figs[i-1].ID == "loss" || figs[i-1].ID == "metrics") {
		i--
	}
	return figs[i:]
}

// stripEscapes applies safetext.Terminal line by line, keeping the lines.
func stripEscapes(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safetext.Terminal(l)
	}
	return strings.Join(lines, "\n")
}

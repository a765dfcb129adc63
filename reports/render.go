package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"sweep/internal/safetext"
)

// Formats lists the output formats Render accepts; "table" is the default.
// "yaml" is only the best configuration, a config file for `sweep train`.
var Formats = []string{"table", "markdown", "csv", "json", "html", "yaml"}

// Render writes the report in format (one of Formats).
func Render(w io.Writer, r *Report, format string) error {
	switch format {
	case "", "table":
		return writeText(w, r.Tables(), r.BestConfig, false)
	case "markdown", "md":
		return writeText(w, r.Tables(), r.BestConfig, true)
	case "csv":
		return writeCSV(w, append(r.Tables(), r.trialsTable()))
	case "json":
		return writeJSON(w, r)
	case "html":
		return writeHTML(w, r)
	case "yaml":
		if r.BestConfig == "" {
			return fmt.Errorf("render best config of study %q: %w", r.Study.Name, ErrNoComplete)
		}
		_, err := io.WriteString(w, r.BestConfig)
		return err
	}
	return fmt.Errorf("render %q: %w (want one of %s)", format, ErrUnknownFormat, strings.Join(Formats, ", "))
}

// writeText prints titled tables for a terminal, or Markdown sections.
// Names, choices, workers and reasons are untrusted: every title and cell
// goes through safetext (escape sequences stripped; Markdown's table and
// HTML characters escaped).
func writeText(w io.Writer, tables []Table, config string, markdown bool) error {
	ew := &errWriter{w: w}
	clean := safetext.Terminal
	if markdown {
		clean = safetext.Markdown
	}
	for i, t := range tables {
		t = cleanTable(t, clean)
		if markdown {
			fmt.Fprintf(ew, "## %s\n\n", t.Title)
		} else {
			if i > 0 {
				fmt.Fprintln(ew)
			}
			fmt.Fprintf(ew, "%s\n", t.Title)
		}
		if err := writeTable(ew, t, markdown); err != nil {
			return fmt.Errorf("render table %s: %w", t.Name, err)
		}
		if markdown {
			fmt.Fprintln(ew)
		}
	}
	if config != "" {
		if markdown {
			// A fence longer than any backtick run in the config, so that no
			// name inside it can close the code block.
			fence := "```"
			for strings.Contains(config, fence) {
				fence += "`"
			}
			fmt.Fprintf(ew, "## Best configuration\n\n%syaml\n%s%s\n", fence, config, fence)
		} else {
			fmt.Fprintf(ew, "\nBest configuration (save as best.yaml)\n%s", config)
		}
	}
	return ew.err
}

func writeTable(w io.Writer, t Table, markdown bool) error {
	align := make([]tw.Align, len(t.Header))
	for i := range align {
		align[i] = tw.AlignLeft
		if i < len(t.Right) && t.Right[i] {
			align[i] = tw.AlignRight
		}
	}
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithTrimSpace(tw.Off),
	}
	if markdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	} else {
		// Long cells (the best params of a big search space) wrap at word
		// boundaries so the table fits a terminal.
		opts = append(opts, tablewriter.WithRowAutoWrap(tw.WrapNormal), tablewriter.WithRowMaxWidth(90))
	}
	tab := tablewriter.NewTable(w, opts...)
	tab.Header(t.Header)
	if err := tab.Bulk(t.Rows); err != nil {
		return err
	}
	return tab.Render()
}

// cleanTable returns t with clean applied to its title, header and cells.
func cleanTable(t Table, clean func(string) string) Table {
	out := t
	out.Title = clean(t.Title)
	out.Header = make([]string, len(t.Header))
	for i, h := range t.Header {
		out.Header[i] = clean(h)
	}
	out.Rows = make([][]string, len(t.Rows))
	for i, row := range t.Rows {
		out.Rows[i] = make([]string, len(row))
		for j, c := range row {
			out.Rows[i][j] = clean(c)
		}
	}
	return out
}

// writeCSV writes each table as a CSV block: a "# name" line, the header,
// the rows and a blank line. Readers that skip "#" comment lines (pandas'
// comment="#") get each block as a plain table. Cells that a spreadsheet
// would run as formulas get a leading apostrophe (safetext.CSV).
func writeCSV(w io.Writer, tables []Table) error {
	ew := &errWriter{w: w}
	for i, t := range tables {
		t = cleanTable(t, safetext.CSV)
		t.Name = safetext.Terminal(t.Name)
		if i > 0 {
			fmt.Fprintln(ew)
		}
		fmt.Fprintf(ew, "# %s\n", t.Name)
		cw := csv.NewWriter(ew)
		header := append([]string{}, t.Header...)
		for j, h := range header {
			if h == "" {
				header[j] = "bar"
			}
		}
		cw.Write(header)
		cw.WriteAll(t.Rows)
		if err := cw.Error(); err != nil {
			return fmt.Errorf("render csv %s: %w", t.Name, err)
		}
	}
	return ew.err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("render json: %w", err)
	}
	return nil
}

// errWriter remembers the first write error so that a sequence of Fprintf
// calls can be checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

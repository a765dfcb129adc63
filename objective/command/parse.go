package command

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"sweep/internal/pyjson"
)

// Record is what one line of a program's stdout reported.
type Record struct {
	Step    int  // the report's step (epoch); meaningful when HasStep
	HasStep bool // false: a final report, or metrics without a step
	// Values holds every numeric key of the line but the step, the study's
	// metric included (under its own name).
	Values map[string]float64
}

// Parser turns one stdout line (without its newline) into a Record. ok is
// false for lines that are not reports: they are the trial's log.
type Parser func(line string) (rec Record, ok bool)

// Report formats, the spec's `report:` values.
const (
	FormatAuto     = "auto"     // JSON for lines starting with {, else key=value
	FormatJSON     = "json"     // {"step": 3, "val_acc": 0.71}
	FormatKeyValue = "keyvalue" // step=3 val_acc=0.71 (Katib's stdout collector)
	FormatRegex    = "regex"    // named groups: step, value (or the metric's name), others
)

// Formats lists the report formats in the order messages show them.
var Formats = []string{FormatAuto, FormatJSON, FormatKeyValue, FormatRegex}

// NewParser returns the parser of format for a study whose metric is
// metric. A JSON or key=value line is a report when it holds the metric or
// a step; "epoch" stands in for "step" when a line has no "step". A regex
// line is a report when the expression matches it; its named group `value`
// (or one named like the metric) is the metric, `step` (or `epoch`) the
// step, and other named groups are metrics. Numbers may be nan or inf
// (also NaN and Infinity, as Python's json module writes them): the
// objective decides what to do with them.
func NewParser(format, expr, metric string) (Parser, error) {
	switch format {
	case FormatAuto, "":
		return func(line string) (Record, bool) {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "{") {
				return parseJSON(t, metric)
			}
			return parseKeyValue(line, metric)
		}, nil
	case FormatJSON:
		return func(line string) (Record, bool) { return parseJSON(strings.TrimSpace(line), metric) }, nil
	case FormatKeyValue:
		return func(line string) (Record, bool) { return parseKeyValue(line, metric) }, nil
	case FormatRegex:
		re, err := CompileReport(expr, metric)
		if err != nil {
			return nil, err
		}
		return func(line string) (Record, bool) { return parseRegex(re, line, metric) }, nil
	}
	return nil, fmt.Errorf("unknown report format %q (want %s)", format, strings.Join(Formats, ", "))
}

// CompileReport compiles a report regex and checks that it captures the
// metric, as group `value` or under the metric's own name.
func CompileReport(expr, metric string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, fmt.Errorf("report: regex needs a regex with a named group value, such as 'val_acc=(?P<value>[0-9.]+)'")
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("compile regex: %w", err)
	}
	if re.SubexpIndex("value") < 0 && re.SubexpIndex(metric) < 0 {
		return nil, fmt.Errorf("regex must have a named group (?P<value>...) for the metric")
	}
	return re, nil
}

// finish turns parsed key/number pairs into a Record: it takes out the
// step and says whether the line is a report at all.
func finish(vals map[string]float64, metric string) (Record, bool) {
	rec := Record{Values: vals}
	key := "step"
	if _, ok := vals[key]; !ok {
		key = "epoch"
	}
	if s, ok := vals[key]; ok {
		if s != math.Trunc(s) || s < 0 || s > math.MaxInt32 {
			return Record{}, false // a step must be a whole number
		}
		rec.Step, rec.HasStep = int(s), true
		delete(vals, key)
	}
	_, hasMetric := vals[metric]
	return rec, rec.HasStep || hasMetric
}

// parseJSON reads a JSON object line; numeric top-level members count.
func parseJSON(line, metric string) (Record, bool) {
	var obj map[string]any
	if err := json.Unmarshal(pyjson.Quote([]byte(line)), &obj); err != nil {
		return Record{}, false
	}
	vals := map[string]float64{}
	for k, v := range obj {
		switch x := v.(type) {
		case float64:
			vals[k] = x
		case string:
			if f, ok := pyjson.Special(x); ok {
				vals[k] = f
			}
		}
	}
	return finish(vals, metric)
}

// keyValue matches key=number pairs. A key starts with a letter or _ and
// may hold letters, digits, _ . - and /; the number may be nan or inf.
var keyValue = regexp.MustCompile(`([A-Za-z_][\w.\-/]*)\s*=\s*([+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[Nn][Aa][Nn]|[Ii][Nn][Ff](?:[Ii][Nn][Ii][Tt][Yy])?))`)

// parseKeyValue reads the key=number pairs of a line. A pair must stand
// alone: lr=0.1abc and xval=1 inside a word are not pairs.
func parseKeyValue(line, metric string) (Record, bool) {
	vals := map[string]float64{}
	for _, m := range keyValue.FindAllStringSubmatchIndex(line, -1) {
		if m[0] > 0 && !isSeparator(line[m[0]-1]) || m[1] < len(line) && !isSeparator(line[m[1]]) {
			continue
		}
		f, err := strconv.ParseFloat(line[m[4]:m[5]], 64)
		if err != nil {
			continue
		}
		vals[line[m[2]:m[3]]] = f
	}
	return finish(vals, metric)
}

// isSeparator reports whether c may border a key=value pair.
func isSeparator(c byte) bool {
	return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '|' || c == '(' || c == ')' || c == '[' || c == ']' || c == '\r'
}

// parseRegex reads the named groups of re's first match in line.
func parseRegex(re *regexp.Regexp, line, metric string) (Record, bool) {
	m := re.FindStringSubmatch(line)
	if m == nil {
		return Record{}, false
	}
	vals := map[string]float64{}
	for i, name := range re.SubexpNames() {
		if name == "" || m[i] == "" {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(m[i]), 64)
		if err != nil {
			return Record{}, false
		}
		if name == "value" {
			name = metric
		}
		vals[name] = f
	}
	rec, _ := finish(vals, metric)
	if _, ok := rec.Values[metric]; !ok && !rec.HasStep {
		return Record{}, false
	}
	return rec, true
}

package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"sweep/search"
	"sweep/sweep/postgres"
)

// flatTrial is one trial of the flat exports (sweep trials --format
// csv|json|jsonl): the trial_summary columns plus its params, typed as the
// spec writes them, and its user attrs.
type flatTrial struct {
	Number     int
	State      string
	Value      sql.NullFloat64
	Steps      int
	Duration   sql.NullFloat64
	Start, End sql.NullTime
	Reason     string
	Worker     string
	Attempt    int
	RetryOf    sql.NullInt64
	Params     map[string]any    // name → value; absent when the trial has no such param
	Attrs      map[string]string // user attrs as stored
}

// flatTable is a study's trials with the param and attr names over all of
// them: one column each, in spec order (params no longer in the spec after
// them, by name), attrs by name.
type flatTable struct {
	Params, Attrs []string
	Trials        []flatTrial
}

// loadFlat reads the study's trials (state "" = all) for the flat exports.
// Params come from trial_params' internal values through the spec, so a
// categorical 64 is the integer 64 and a log int an int; a param the spec
// no longer has keeps its stored external value.
func loadFlat(ctx context.Context, store *postgres.Storage, study, state string, space []search.Param) (*flatTable, error) {
	db := store.DB()
	rows, err := db.QueryContext(ctx, `SELECT number, state, value, steps, duration_s, started, finished,
	COALESCE(reason, ''), COALESCE(worker, ''), attempt, retry_of, trial_id
FROM trial_summary WHERE study = $1 AND ($2 = '' OR state = $2) ORDER BY number`, study, state)
	if err != nil {
		return nil, fmt.Errorf("query trial_summary: %w", err)
	}
	defer rows.Close()
	ft := &flatTable{}
	byID := map[int]*flatTrial{}
	var ids []int
	for rows.Next() {
		var t flatTrial
		var id int
		if err := rows.Scan(&t.Number, &t.State, &t.Value, &t.Steps, &t.Duration, &t.Start, &t.End,
			&t.Reason, &t.Worker, &t.Attempt, &t.RetryOf, &id); err != nil {
			return nil, fmt.Errorf("scan trial_summary: %w", err)
		}
		t.Params, t.Attrs = map[string]any{}, map[string]string{}
		ft.Trials = append(ft.Trials, t)
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan trial_summary: %w", err)
	}
	for i, id := range ids {
		byID[id] = &ft.Trials[i]
	}
	if err := loadFlatParams(ctx, db.DB, study, byID, space, ft); err != nil {
		return nil, err
	}
	return ft, loadFlatAttrs(ctx, db.DB, study, byID, ft)
}

func loadFlatParams(ctx context.Context, db *sql.DB, study string, byID map[int]*flatTrial, space []search.Param, ft *flatTable) error {
	specParams := map[string]search.Param{}
	var order []string
	var walk func([]search.Param)
	walk = func(ps []search.Param) {
		for _, p := range ps {
			specParams[p.Name] = p
			order = append(order, p.Name)
			for _, c := range p.Choices {
				walk(p.Conditional[search.ChoiceString(c)])
			}
		}
	}
	walk(space)
	rows, err := db.QueryContext(ctx, `SELECT p.trial_id, p.name, p.value, p.external FROM trial_params p
JOIN trials t ON t.id = p.trial_id JOIN studies s ON s.id = t.study_id WHERE s.name = $1`, study)
	if err != nil {
		return fmt.Errorf("query trial params: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id int
		var name string
		var internal float64
		var external []byte
		if err := rows.Scan(&id, &name, &internal, &external); err != nil {
			return fmt.Errorf("scan trial params: %w", err)
		}
		t := byID[id]
		if t == nil {
			continue // another state
		}
		v, err := flatParam(specParams, name, internal, external)
		if err != nil {
			return fmt.Errorf("param %s of trial %d: %w", name, t.Number, err)
		}
		t.Params[name], seen[name] = v, true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan trial params: %w", err)
	}
	var extra []string
	for name := range seen {
		if !slices.Contains(order, name) {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	ft.Params = append(order, extra...)
	return nil
}

// flatParam is a param's value as the objective received it.
func flatParam(space map[string]search.Param, name string, internal float64, external []byte) (any, error) {
	if p, ok := space[name]; ok {
		if v, err := p.Value(internal); err == nil {
			return v, nil
		}
	}
	var v any
	if err := json.Unmarshal(external, &v); err != nil {
		return nil, fmt.Errorf("decode stored value: %w", err)
	}
	return v, nil
}

func loadFlatAttrs(ctx context.Context, db *sql.DB, study string, byID map[int]*flatTrial, ft *flatTable) error {
	rows, err := db.QueryContext(ctx, `SELECT a.trial_id, a.key, a.value FROM trial_user_attrs a
JOIN trials t ON t.id = a.trial_id JOIN studies s ON s.id = t.study_id WHERE s.name = $1`, study)
	if err != nil {
		return fmt.Errorf("query trial attrs: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id int
		var k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return fmt.Errorf("scan trial attrs: %w", err)
		}
		if t := byID[id]; t != nil {
			t.Attrs[k], seen[k] = v, true
		}
	}
	for k := range seen {
		ft.Attrs = append(ft.Attrs, k)
	}
	slices.Sort(ft.Attrs)
	return rows.Err()
}

// flatColumns are the fixed columns of the flat exports, before the
// params_NAME and user_attrs_KEY columns (Optuna's trials_dataframe names,
// so pandas code reads either).
var flatColumns = []string{"number", "state", "value", "steps", "duration_s", "datetime_start", "datetime_complete"}

// flatTail are the fixed columns after the params and attrs.
var flatTail = []string{"reason", "worker", "attempt", "retry_of"}

func (ft *flatTable) header() []string {
	h := slices.Clone(flatColumns)
	for _, p := range ft.Params {
		h = append(h, "params_"+p)
	}
	for _, a := range ft.Attrs {
		h = append(h, "user_attrs_"+a)
	}
	return append(h, flatTail...)
}

// values returns t's cells in header order as JSON-ready values: nil for
// what is absent (a conditional param the trial did not use, a value not
// set or NaN), numbers as numbers.
func (ft *flatTable) values(t flatTrial) []any {
	v := []any{t.Number, t.State, nullFloat(t.Value), t.Steps, nullFloat(t.Duration), flatTime(t.Start), flatTime(t.End)}
	for _, p := range ft.Params {
		v = append(v, t.Params[p]) // nil when absent
	}
	for _, a := range ft.Attrs {
		s, ok := t.Attrs[a]
		switch {
		case !ok:
			v = append(v, nil)
		case jsonNumber.MatchString(s):
			v = append(v, json.Number(s))
		default:
			v = append(v, s)
		}
	}
	var retryOf any
	if t.RetryOf.Valid {
		retryOf = t.RetryOf.Int64
	}
	return append(v, t.Reason, t.Worker, t.Attempt, retryOf)
}

// jsonNumber matches attr text that is a JSON number (test_acc "0.8120"),
// which the JSON exports write as a number, as the optuna views do.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

func nullFloat(v sql.NullFloat64) any {
	if !v.Valid || math.IsNaN(v.Float64) || math.IsInf(v.Float64, 0) {
		return nil // JSON has no NaN or Infinity
	}
	return v.Float64
}

func flatTime(t sql.NullTime) any {
	if !t.Valid {
		return nil
	}
	return t.Time.UTC().Format(time.RFC3339Nano)
}

// writeFlat writes the table as csv (header line, empty cells for absent
// values), json (an array of objects) or jsonl (one object a line).
func writeFlat(w io.Writer, ft *flatTable, format string) error {
	header := ft.header()
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(header)
		for _, t := range ft.Trials {
			cells := make([]string, len(header))
			for i, v := range ft.values(t) {
				cells[i] = csvCell(v)
			}
			cw.Write(cells)
		}
		cw.Flush()
		return cw.Error()
	case "json", "jsonl":
		if format == "json" {
			io.WriteString(w, "[")
		}
		for i, t := range ft.Trials {
			b := []byte{'{'}
			for j, v := range ft.values(t) {
				if j > 0 {
					b = append(b, ',')
				}
				k, _ := json.Marshal(header[j])
				x, err := flatJSON(v)
				if err != nil {
					return fmt.Errorf("encode trial %d: %w", t.Number, err)
				}
				b = append(append(append(b, k...), ':'), x...)
			}
			b = append(b, '}')
			sep := "\n"
			if format == "json" && i < len(ft.Trials)-1 {
				sep = ",\n"
			}
			if _, err := w.Write(append(b, sep...)); err != nil {
				return err
			}
		}
		if format == "json" {
			_, err := io.WriteString(w, "]\n")
			return err
		}
		return nil
	}
	return fmt.Errorf("unknown format %q", format)
}

// flatJSON encodes a cell value; a float stays a float in JSON even when
// integral (dropout 0 is 0.0), so readers keep the spec's type.
func flatJSON(v any) ([]byte, error) {
	f, ok := v.(float64)
	if !ok {
		return json.Marshal(v)
	}
	b := strconv.AppendFloat(nil, f, 'g', -1, 64)
	if !strings.ContainsAny(string(b), ".eEn") {
		b = append(b, ".0"...)
	}
	return b, nil
}

// csvCell renders a value for CSV: empty for absent, numbers in their
// shortest exact form, booleans as true/false.
func csvCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

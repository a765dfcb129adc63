package reports

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseDistribution reads a stored distribution into p. It accepts goptuna's
// form {"name": "LogUniformDistribution", "attributes": {"low": .., "high": ..}}
// and a flat form {"type": "float", "low": .., "high": .., "log": true}, so
// reports keep working whichever the storage writes.
func parseDistribution(raw []byte, p *ParamRow) error {
	var top map[string]any
	if err := json.Unmarshal(raw, &top); err != nil {
		return err
	}
	attrs := map[string]any{}
	for k, v := range top {
		attrs[k] = v
	}
	if a, ok := top["attributes"].(map[string]any); ok {
		for k, v := range a {
			attrs[k] = v
		}
	}
	name, _ := attrs["name"].(string)
	if t, ok := attrs["type"].(string); ok {
		name += " " + t
	}
	name = strings.ToLower(name)
	num := func(k string) float64 { f, _ := attrs[k].(float64); return f }
	switch {
	case strings.Contains(name, "categorical") || attrs["choices"] != nil:
		p.Kind = "categorical"
		p.Choices, _ = attrs["choices"].([]any)
	case strings.Contains(name, "int"):
		p.Kind = "int"
	default:
		p.Kind = "float"
	}
	if p.Kind != "categorical" {
		p.Low, p.High = num("low"), num("high")
		l, _ := attrs["log"].(bool)
		p.Log = l || strings.Contains(name, "log")
	}
	return nil
}

// orderBySpec sorts params into the order of the spec's params mapping,
// conditional params right after their parent; names the spec lacks go
// last, alphabetically. A spec that does not parse leaves the order alone.
func orderBySpec(ps []ParamRow, spec string) {
	rank := map[string]int{}
	var root yaml.Node
	if yaml.Unmarshal([]byte(spec), &root) == nil && len(root.Content) == 1 {
		walkParams(mappingValue(root.Content[0], "params"), rank)
	}
	sort.SliceStable(ps, func(i, j int) bool {
		ri, iok := rank[ps[i].Name]
		rj, jok := rank[ps[j].Name]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return ps[i].Name < ps[j].Name
	})
}

func walkParams(m *yaml.Node, rank map[string]int) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if _, seen := rank[m.Content[i].Value]; !seen {
			rank[m.Content[i].Value] = len(rank)
		}
		cond := mappingValue(m.Content[i+1], "conditional")
		if cond == nil || cond.Kind != yaml.MappingNode {
			continue
		}
		for j := 1; j < len(cond.Content); j += 2 {
			walkParams(cond.Content[j], rank)
		}
	}
}

// mappingValue returns the value node of key in mapping m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// paramFloat returns a numeric parameter value as float64.
func paramFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// formatValue prints a parameter value for tables: ints without a decimal
// point, floats with 4 significant digits, anything else as text.
func formatValue(p ParamRow, v any) string {
	if v == nil {
		return "-"
	}
	if f, ok := paramFloat(v); ok {
		if p.Kind == "int" || (f == math.Trunc(f) && math.Abs(f) < 1e15 && p.Kind != "float") {
			return strconv.FormatInt(int64(f), 10)
		}
		return formatFloat(f)
	}
	return fmt.Sprint(v)
}

// formatFloat prints 4 significant digits, in exponent form only for very
// small or large magnitudes.
func formatFloat(f float64) string {
	a := math.Abs(f)
	if a != 0 && (a < 1e-3 || a >= 1e6) {
		return strconv.FormatFloat(f, 'e', 2, 64)
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

// formatMetric prints a metric value with 4 decimals.
func formatMetric(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 4, 64)
}

func paramByName(ps []ParamRow, name string) (ParamRow, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return ParamRow{}, false
}

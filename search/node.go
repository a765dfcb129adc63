package search

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks a YAML node tree, converting scalars and collecting every
// problem as a SpecError instead of stopping at the first. It resolves
// aliases itself, so the node budget charged up front (see charge) bounds
// all later work, YAML bombs included.
type decoder struct {
	file   string
	errs   SpecErrors
	budget int
}

// failf records a problem at n's line.
func (d *decoder) failf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &SpecError{File: d.file, Line: line, Field: field, Err: fmt.Errorf(format, args...)})
}

// charge counts the nodes of the fully expanded tree below n, following
// aliases, and reports whether it stayed within the budget. Counting stops
// as soon as the budget is spent, so a billion-laughs document costs at
// most MaxSpecNodes steps.
func (d *decoder) charge(n *yaml.Node) bool {
	if n == nil {
		return true
	}
	d.budget--
	if d.budget < 0 {
		return false
	}
	if n.Kind == yaml.AliasNode {
		return d.charge(n.Alias)
	}
	for _, c := range n.Content {
		if !d.charge(c) {
			return false
		}
	}
	return true
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// describe says what a node is, for "got ..." in messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		if n.ShortTag() == "!!str" {
			return strconv.Quote(clip(n.Value))
		}
		return clip(n.Value)
	}
	return "an unsupported node"
}

// clip shortens a user value quoted back in a message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// join appends key to a dotted field path.
func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// mapping calls fn for each key of a mapping node in file order. It reports
// a node that is not a mapping, non-string keys, merge keys and duplicates.
func (d *decoder) mapping(n *yaml.Node, field string, fn func(key string, k, v *yaml.Node)) bool {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.failf(n, field, "must be a mapping (got %s)", describe(n))
		return false
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.failf(k, field, "keys must be strings (got %s)", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.failf(k, field, "merge keys (<<) are not supported")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.failf(k, join(field, k.Value), "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k.Value, k, v)
	}
	return true
}

// str converts a scalar to a string. Numbers and booleans are accepted in
// their written form only where a name is expected, so they are rejected
// here: `study: 123` is more likely a mistake than a name.
func (d *decoder) str(n *yaml.Node, field string) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.failf(n, field, "must be a string (got %s)", describe(n))
		return "", false
	}
	return n.Value, true
}

// float converts an int or float scalar; NaN and infinities are rejected.
func (d *decoder) number(n *yaml.Node, field string) (float64, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		d.failf(n, field, "must be a number (got %s)", describe(n))
		return 0, false
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		d.failf(n, field, "must be a number (got %s)", describe(n))
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.failf(n, field, "must be finite (got %s)", n.Value)
		return 0, false
	}
	return f, true
}

// maxExactInt is the largest integer a float64 holds exactly (2^53).
const maxExactInt = 1 << 53

// int converts an integer scalar. A float with no fractional part (1e3) is
// accepted, so `trials: 1e12` fails on its size, not on its spelling.
func (d *decoder) integer(n *yaml.Node, field string) (int, bool) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil && i >= -maxExactInt && i <= maxExactInt {
			return int(i), true
		}
		d.failf(n, field, "must be an integer between %g and %g (got %s)", -float64(maxExactInt), float64(maxExactInt), clip(n.Value))
		return 0, false
	}
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
		var f float64
		if err := n.Decode(&f); err == nil && f == math.Trunc(f) && math.Abs(f) <= maxExactInt {
			return int(f), true
		}
	}
	d.failf(n, field, "must be an integer (got %s)", describe(n))
	return 0, false
}

// bool converts a boolean scalar (true/false).
func (d *decoder) boolean(n *yaml.Node, field string) (bool, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.failf(n, field, "must be true or false (got %s)", describe(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		d.failf(n, field, "must be true or false (got %s)", describe(n))
		return false, false
	}
	return b, true
}

// scalar converts any scalar to its Go value: string, int, float64 or bool.
func (d *decoder) scalar(n *yaml.Node, field string) (any, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		d.failf(n, field, "must be a scalar (got %s)", describe(n))
		return nil, false
	}
	switch n.ShortTag() {
	case "!!str":
		return n.Value, true
	case "!!int":
		return d.integer(n, field)
	case "!!float":
		return d.number(n, field)
	case "!!bool":
		return d.boolean(n, field)
	}
	d.failf(n, field, "must be a string, number or boolean (got %s)", describe(n))
	return nil, false
}

// value converts any node to plain Go values (map[string]any, []any,
// scalars) with aliases resolved; used for options whose schema belongs to
// someone else.
func (d *decoder) value(n *yaml.Node, field string) (any, bool) {
	n = resolve(n)
	if n == nil {
		return nil, true
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		ok := d.mapping(n, field, func(key string, _, v *yaml.Node) {
			if x, good := d.value(v, join(field, key)); good {
				m[key] = x
			}
		})
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			x, ok := d.value(c, fmt.Sprintf("%s[%d]", field, i))
			if !ok {
				return nil, false
			}
			s = append(s, x)
		}
		return s, true
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return nil, true
		}
		return d.scalar(n, field)
	}
	d.failf(n, field, "unsupported YAML node")
	return nil, false
}

// structFields maps yaml tag names to field index paths of a struct type
// (for reflect.Value.FieldByIndex). The keys of an embedded struct tagged
// `yaml:",inline"` count as the outer struct's, as for the YAML decoder,
// so an objective's options may embed the configuration they fill.
func structFields(t reflect.Type) (names []string, index map[string][]int) {
	index = map[string][]int{}
	var walk func(t reflect.Type, path []int)
	walk = func(t reflect.Type, path []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			p := append(slices.Clone(path), i)
			if f.Anonymous && opts == "inline" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, p) // an embedded struct's keys are the outer struct's
				continue
			}
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			if old, dup := index[tag]; !dup {
				names = append(names, tag)
			} else if len(old) <= len(p) {
				continue // as in Go, the shallower field wins
			}
			index[tag] = p
		}
	}
	walk(t, nil)
	return names, index
}

// decodeStruct fills the struct v points to from a mapping node, matching
// keys to `yaml` tags. Unknown keys and wrongly typed values are problems;
// fields whose key is absent keep their value (the caller's default).
func (d *decoder) decodeStruct(n *yaml.Node, field string, v any) {
	rv := reflect.ValueOf(v).Elem()
	names, index := structFields(rv.Type())
	d.mapping(n, field, func(key string, k, val *yaml.Node) {
		i, ok := index[key]
		if !ok {
			d.failf(k, join(field, key), "unknown key (want one of %s)%s", strings.Join(names, ", "), DidYouMean(key, names))
			return
		}
		d.set(val, join(field, key), rv.FieldByIndex(i))
	})
}

// set decodes one node into a struct field of a supported kind.
func (d *decoder) set(n *yaml.Node, field string, f reflect.Value) {
	if f.Kind() == reflect.Pointer {
		if r := resolve(n); r != nil && r.ShortTag() == "!!null" {
			f.SetZero()
			return
		}
		p := reflect.New(f.Type().Elem())
		d.set(n, field, p.Elem())
		f.Set(p)
		return
	}
	if f.Type() == durationType {
		if dur, ok := d.duration(n, field); ok {
			f.SetInt(int64(dur))
		}
		return
	}
	switch f.Kind() {
	case reflect.String:
		if s, ok := d.str(n, field); ok {
			f.SetString(s)
		}
	case reflect.Bool:
		if b, ok := d.boolean(n, field); ok {
			f.SetBool(b)
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if i, ok := d.integer(n, field); ok {
			f.SetInt(int64(i))
		}
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		if i, ok := d.integer(n, field); ok {
			if i < 0 {
				d.failf(n, field, "must not be negative (got %d)", i)
				return
			}
			f.SetUint(uint64(i))
		}
	case reflect.Float64, reflect.Float32:
		if x, ok := d.number(n, field); ok {
			f.SetFloat(x)
		}
	case reflect.Slice:
		d.setSlice(n, field, f)
	case reflect.Map:
		d.setMap(n, field, f)
	case reflect.Interface:
		if x, ok := d.value(n, field); ok && x != nil {
			f.Set(reflect.ValueOf(x))
		}
	default:
		panic(fmt.Sprintf("search: decodeStruct: unsupported field kind %s at %s", f.Kind(), field))
	}
}

// setSlice decodes a YAML list into a slice of a supported element kind.
func (d *decoder) setSlice(n *yaml.Node, field string, f reflect.Value) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.SequenceNode {
		d.failf(r, field, "must be a list (got %s)", describe(r))
		return
	}
	s := reflect.MakeSlice(f.Type(), len(r.Content), len(r.Content))
	for i, c := range r.Content {
		d.set(c, fmt.Sprintf("%s[%d]", field, i), s.Index(i))
	}
	f.Set(s)
}

// setMap decodes a YAML mapping into a map with string keys. A string
// element takes any scalar in its written form (`OMP_NUM_THREADS: 4` is
// "4"), since such maps hold environment variables and similar text.
func (d *decoder) setMap(n *yaml.Node, field string, f reflect.Value) {
	if f.Type().Key().Kind() != reflect.String {
		panic(fmt.Sprintf("search: decodeStruct: map key kind %s at %s", f.Type().Key().Kind(), field))
	}
	m := reflect.MakeMap(f.Type())
	ok := d.mapping(n, field, func(key string, _, v *yaml.Node) {
		e := reflect.New(f.Type().Elem()).Elem()
		if r := resolve(v); e.Kind() == reflect.String && r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() != "!!null" {
			e.SetString(r.Value)
		} else {
			d.set(v, join(field, key), e)
		}
		m.SetMapIndex(reflect.ValueOf(key).Convert(f.Type().Key()), e)
	})
	if ok {
		f.Set(m)
	}
}

// durationType is time.Duration, which set decodes with duration.
var durationType = reflect.TypeFor[time.Duration]()

// duration decodes a non-negative duration written as a number of seconds
// (`timeout: 7200`, `kill_grace: 2.5`) or in Go's notation (`2h`, `1h30m`,
// `500ms`).
func (d *decoder) duration(n *yaml.Node, field string) (time.Duration, bool) {
	r := resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode && (r.ShortTag() == "!!int" || r.ShortTag() == "!!float") {
		s, ok := d.number(r, field)
		if !ok {
			return 0, false
		}
		if s < 0 || s > maxDurationSeconds {
			d.failf(r, field, "must be between 0 and 8760h (got %s seconds)", r.Value)
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if r == nil || r.Kind != yaml.ScalarNode || r.ShortTag() != "!!str" {
		d.failf(r, field, "must be a duration such as 90s, 2h or a number of seconds (got %s)", describe(r))
		return 0, false
	}
	dur, err := time.ParseDuration(strings.TrimSpace(r.Value))
	if err != nil || dur < 0 || dur > maxDurationSeconds*time.Second {
		d.failf(r, field, "must be a duration between 0 and 8760h such as 90s, 2h or a number of seconds (got %q)", clip(r.Value))
		return 0, false
	}
	return dur, true
}

// maxDurationSeconds bounds spec durations (a year): anything longer is a
// mistake, and it keeps the conversion to time.Duration from overflowing.
const maxDurationSeconds = 365 * 24 * 3600

// reflectValue returns the addressable value p points to.
func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }

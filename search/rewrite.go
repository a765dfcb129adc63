package search

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SetStudyName returns the spec text raw with its study name replaced by
// name (`sweep study rename`), and everything else as written: comments,
// layout and the other keys. The value of the top-level study key is
// replaced in place on its line when it is a one-line scalar in a block
// mapping, the usual case; otherwise the document is re-encoded, which
// keeps comments but not the layout. Either way the result is parsed
// again, and it must be the same study under the new name (so an invalid
// name is refused with the spec's own message).
func SetStudyName(filename string, raw []byte, name string) ([]byte, error) {
	old, err := ParseSpec(filename, raw)
	if err != nil {
		return nil, fmt.Errorf("rename study: %w", err)
	}
	root, err := parseYAML(filename, raw)
	if err != nil {
		return nil, fmt.Errorf("rename study: %w", err)
	}
	value := mappingValueNode(root, "study")
	if value == nil {
		return nil, fmt.Errorf("rename study: %s has no study key", filename)
	}
	want := *old
	want.Study = name
	// check parses a rewritten spec: nil when it is the old study renamed.
	check := func(out []byte) error {
		renamed, err := ParseSpec(filename, out)
		if err != nil {
			return fmt.Errorf("rename study: %w", err)
		}
		if renamed.Study != name || !Equivalent(&want, renamed) {
			return fmt.Errorf("rename study: rewriting %s changed more than the study name", filename)
		}
		return nil
	}
	if root.Style&yaml.FlowStyle == 0 {
		if out, ok := replaceScalarInPlace(raw, value, name); ok && check(out) == nil {
			return out, nil
		}
	}
	out, err := reencode(root, value, name)
	if err != nil {
		return nil, err
	}
	if err := check(out); err != nil {
		return nil, err
	}
	return out, nil
}

// mappingValueNode returns the value node of key in the mapping n, or nil.
func mappingValueNode(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// replaceScalarInPlace replaces the one-line scalar v on its line of raw
// with name encoded as a YAML scalar, keeping the text before and after
// it (a trailing comment). ok is false when v is not a plain, single- or
// double-quoted scalar that starts and ends on its line.
func replaceScalarInPlace(raw []byte, v *yaml.Node, name string) ([]byte, bool) {
	if v.Kind != yaml.ScalarNode || v.Line < 1 || v.Column < 1 || v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return nil, false
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	if v.Line > len(lines) {
		return nil, false
	}
	line := string(lines[v.Line-1])
	body := strings.TrimRight(line, "\r\n")
	start := runeOffset(body, v.Column-1) // the parser counts columns in characters
	if start < 0 || start >= len(body) {
		return nil, false
	}
	end := scalarEnd(body, start)
	if end < 0 {
		return nil, false
	}
	enc, ok := encodeScalar(name)
	if !ok {
		return nil, false
	}
	lines[v.Line-1] = []byte(body[:start] + enc + body[end:] + line[len(body):])
	return bytes.Join(lines, nil), true
}

// runeOffset returns the byte offset of the n-th character of s, or -1.
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	if n == 0 {
		return len(s)
	}
	return -1
}

// scalarEnd returns the byte offset just past the scalar starting at
// start in line, or -1 when it does not end on the line.
func scalarEnd(line string, start int) int {
	switch line[start] {
	case '"':
		for i := start + 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	case '\'':
		for i := start + 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return -1
	}
	// A plain scalar runs to a comment (" #") or the end of the line.
	end := len(line)
	if i := strings.Index(line[start:], " #"); i >= 0 {
		end = start + i
	}
	if i := strings.Index(line[start:], "\t#"); i >= 0 && start+i < end {
		end = start + i
	}
	return start + len(strings.TrimRight(line[start:end], " \t"))
}

// encodeScalar renders s as a one-line YAML scalar: plain when that reads
// back as the same string, else double-quoted (JSON's string syntax is
// YAML's double-quoted style).
func encodeScalar(s string) (string, bool) {
	var back map[string]any
	if strings.TrimSpace(s) == s && !strings.ContainsAny(s, "\n\r") &&
		yaml.Unmarshal([]byte("k: "+s+"\n"), &back) == nil && back["k"] == s {
		return s, true
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", false
	}
	return strings.TrimSuffix(buf.String(), "\n"), true
}

// reencode sets v to name and renders the whole document again.
func reencode(root, v *yaml.Node, name string) ([]byte, error) {
	v.Kind, v.Tag, v.Value, v.Style, v.Content, v.Alias = yaml.ScalarNode, "!!str", name, yaml.DoubleQuotedStyle, nil, nil
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("rename study: encode spec: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("rename study: encode spec: %w", err)
	}
	return buf.Bytes(), nil
}

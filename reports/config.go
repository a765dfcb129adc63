package reports

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"sweep/internal/safetext"
)

// bestConfig writes the best trial as a config file for `sweep train`: the
// study's objective options (every key of the spec's objective mapping but
// type, in file order, comments kept) with the best trial's parameters
// merged over them (a parameter replaces an option of the same name; the
// others are appended in spec order). A synthetic study's file is the
// structured form instead (syntheticConfig).
func bestConfig(study StudyRow, params []ParamRow, best Best) (string, error) {
	cfg := &yaml.Node{Kind: yaml.MappingNode}
	objType := ""
	var root yaml.Node
	var objNode *yaml.Node
	if err := yaml.Unmarshal([]byte(study.Spec), &root); err == nil && len(root.Content) == 1 {
		if obj := mappingValue(root.Content[0], "objective"); obj != nil && obj.Kind == yaml.MappingNode {
			objNode = obj
			for i := 0; i+1 < len(obj.Content); i += 2 {
				if obj.Content[i].Value == "type" {
					objType = obj.Content[i+1].Value
					continue
				}
				cfg.Content = append(cfg.Content, obj.Content[i], obj.Content[i+1])
			}
		}
	}
	choices := specChoices(&root)
	values := &yaml.Node{Kind: yaml.MappingNode}
	for _, p := range params {
		v, ok := best.Params[p.Name]
		if !ok || v == nil {
			continue
		}
		node := scalarNode(p, v)
		if c := choiceNode(choices[p.Name], v); c != nil {
			node = &yaml.Node{Kind: yaml.ScalarNode, Tag: c.ShortTag(), Value: c.Value, Style: c.Style}
		}
		values.Content = append(values.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p.Name}, node)
		if old := mappingValue(cfg, p.Name); old != nil {
			*old = *node
			continue
		}
		cfg.Content = append(cfg.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p.Name}, node)
	}
	var buf bytes.Buffer
	// The names are untrusted: a line break in them would end the comment.
	fmt.Fprintf(&buf, "# Best trial %d of study %s: %s = %s.\n", best.Number, safetext.Terminal(study.Name), safetext.Terminal(study.Metric),
		strconv.FormatFloat(best.Value, 'g', 6, 64))
	switch objType {
	case "command":
		// A command study's options are sweep's, not the program's: the
		// parameters are what the program is given.
		buf.WriteString("# Objective command options merged with the trial's parameters.\n")
		buf.WriteString("# Run it alone: the study's argv with these parameters (as --name=value or its {name} placeholders)\n")
	case "synthetic":
		// The synthetic curve depends on where each value sits in its
		// range, so the file carries the study's space, and the trial
		// number that seeds the noise: sweep train reproduces the value.
		buf.WriteString("# Objective synthetic: its options, the trial's parameters and the study's space.\n")
		buf.WriteString("# Run it alone with: sweep train best.yaml\n")
		cfg = syntheticConfig(study, best, objNode, values, mappingValue(root.Content[0], "params"))
	case "":
		buf.WriteString("# Run it alone with: sweep train best.yaml\n")
	default:
		fmt.Fprintf(&buf, "# Objective %s options merged with the trial's parameters.\n", objType)
		buf.WriteString("# Run it alone with: sweep train best.yaml\n")
	}
	if len(cfg.Content) == 0 {
		buf.WriteString("{}\n")
		return buf.String(), nil
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return "", fmt.Errorf("encode best config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("encode best config: %w", err)
	}
	return buf.String(), nil
}

// syntheticConfig is the `sweep train` file of a synthetic study's best
// trial: study, trial and metric, the objective mapping as the spec wrote
// it, the trial's params, and the spec's params mapping as space.
func syntheticConfig(study StudyRow, best Best, obj, values, space *yaml.Node) *yaml.Node {
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	cfg := &yaml.Node{Kind: yaml.MappingNode}
	cfg.Content = append(cfg.Content,
		str("study"), str(study.Name),
		str("trial"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(best.Number)},
		str("metric"), str(study.Metric),
		str("objective"), obj,
		str("params"), values)
	if space != nil {
		cfg.Content = append(cfg.Content, str("space"), space)
	}
	return cfg
}

// scalarNode renders a parameter value with its YAML type: int parameters
// without a decimal point, floats in shortest round-trip form.
func scalarNode(p ParamRow, v any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode}
	switch x := v.(type) {
	case bool:
		n.Tag, n.Value = "!!bool", strconv.FormatBool(x)
	case string:
		n.Tag, n.Value = "!!str", x
	default:
		f, ok := paramFloat(v)
		switch {
		case !ok:
			n.Tag, n.Value = "!!str", fmt.Sprint(v)
		case p.Kind == "int" || (p.Kind == "categorical" && f == float64(int64(f))):
			n.Tag, n.Value = "!!int", strconv.FormatInt(int64(f), 10)
		default:
			n.Tag, n.Value = "!!float", strconv.FormatFloat(f, 'g', -1, 64)
			if !strings.ContainsAny(n.Value, ".eEnN") {
				n.Value += ".0" // keep 1.0 a float when read back
			}
		}
	}
	return n
}

// choiceNode finds the spec's choice node for a stored categorical value:
// by its text, else by number, since a choice written 0.0 or 1e-3 comes
// back from storage as "0" or "0.001".
func choiceNode(byText map[string]*yaml.Node, v any) *yaml.Node {
	text := fmt.Sprint(v)
	if c := byText[text]; c != nil {
		return c
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil
	}
	for _, c := range byText {
		var g float64
		if (c.ShortTag() == "!!float" || c.ShortTag() == "!!int") && c.Decode(&g) == nil && g == f {
			return c
		}
	}
	return nil
}

// specChoices maps each categorical parameter of the spec (conditional ones
// included) to its choices by string form. goptuna stores a categorical
// value as a string, so this recovers the type the user wrote: batch_size
// 128 stays an int, "128" in quotes stays a string.
func specChoices(root *yaml.Node) map[string]map[string]*yaml.Node {
	out := map[string]map[string]*yaml.Node{}
	if len(root.Content) != 1 {
		return out
	}
	var walk func(m *yaml.Node)
	walk = func(m *yaml.Node) {
		if m == nil || m.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			def := m.Content[i+1]
			if seq := mappingValue(def, "choices"); seq != nil && seq.Kind == yaml.SequenceNode {
				byText := map[string]*yaml.Node{}
				for _, c := range seq.Content {
					if c.Kind == yaml.ScalarNode {
						byText[c.Value] = c
					}
				}
				out[m.Content[i].Value] = byText
			}
			if cond := mappingValue(def, "conditional"); cond != nil && cond.Kind == yaml.MappingNode {
				for j := 1; j < len(cond.Content); j += 2 {
					walk(cond.Content[j])
				}
			}
		}
	}
	walk(mappingValue(root.Content[0], "params"))
	return out
}

package main

// `sweep train` on the file `sweep report --format yaml` writes for the
// best trial of a synthetic study:
//
//	study: demo-synthetic
//	trial: 4                  # seeds the synthetic noise, as in the study
//	metric: val_acc
//	objective: {type: synthetic, epochs: 10}
//	params: {lr: 0.031, batch_size: 128}
//	space:                    # the study's params mapping
//	  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}
//	  batch_size: {type: categorical, choices: [64, 128, 256]}
//
// The synthetic curve depends on where each value sits in its range, hence
// the space; with the same trial number the run reproduces the trial's
// value exactly.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"sweep/objective"
	"sweep/search"
)

// isSyntheticTrainFile reports whether src is a train file whose
// objective is synthetic.
func isSyntheticTrainFile(src []byte) bool {
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || len(doc.Content) != 1 {
		return false
	}
	obj := mapValue(doc.Content[0], "objective")
	t := mapValue(obj, "type")
	return t != nil && t.Kind == yaml.ScalarNode && t.Value == "synthetic"
}

// mapValue returns the value node of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
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

// syntheticRun is a parsed synthetic train file.
type syntheticRun struct {
	study, metric string
	trial         int
	spec          *search.Spec     // the objective and space, as a one-trial study
	params        objective.Params // the fixed values
}

// parseSyntheticTrainFile reads a synthetic train file and applies the
// --set overrides (a param's value, or else an objective option).
func parseSyntheticTrainFile(file string, src []byte, sets []string) (*syntheticRun, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a YAML mapping", file)
	}
	root := doc.Content[0]
	run := &syntheticRun{study: "train", metric: "value"}
	values := map[string]string{}
	var obj, space *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var err error
		switch k.Value {
		case "study":
			run.study = v.Value
		case "metric":
			run.metric = v.Value
		case "trial":
			if run.trial, err = strconv.Atoi(v.Value); err != nil || run.trial < 0 {
				err = fmt.Errorf("must be a trial number (got %q)", v.Value)
			}
		case "objective":
			obj = v
		case "space":
			space = v
		case "params":
			if v.Kind != yaml.MappingNode {
				err = errors.New("must be a mapping of param names to values")
				break
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				if v.Content[j+1].Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("%s:%d: params.%s: needs a fixed value here, not a search range", file, v.Content[j].Line, v.Content[j].Value)
				}
				values[v.Content[j].Value] = v.Content[j+1].Value
			}
		default:
			err = errors.New("unknown key (want study, trial, metric, objective, params, space)")
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", file, k.Line, k.Value, err)
		}
	}
	if obj == nil || obj.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: objective: must be a mapping with type: synthetic", file)
	}
	if space == nil {
		return nil, fmt.Errorf("%s: space: required for objective synthetic (the study's params mapping: its curve depends on each param's range)", file)
	}
	for _, s := range sets {
		k, v, _ := strings.Cut(s, "=")
		if _, isParam := values[k]; isParam || mapValue(space, k) != nil {
			values[k] = v
		} else {
			setOption(obj, k, v)
		}
	}
	spec, err := syntheticSpec(file, run, obj, space)
	if err != nil {
		return nil, err
	}
	internal, err := search.Assign(spec.Params, values)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	p, ok := search.Fixed(spec.Params, internal)
	if !ok {
		return nil, fmt.Errorf("%s: params: give a value for every param of the space (missing: %s)", file, strings.Join(search.Unassigned(spec.Params, internal), ", "))
	}
	run.spec, run.params = spec, p
	return run, nil
}

// setOption sets key to the scalar text value in mapping m.
func setOption(m *yaml.Node, key, value string) {
	if old := mapValue(m, key); old != nil {
		*old = yaml.Node{Kind: yaml.ScalarNode, Value: value}
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
}

// syntheticSpec checks the objective and space as the spec of a one-trial
// study, so they get the spec's own validation and messages.
func syntheticSpec(file string, run *syntheticRun, obj, space *yaml.Node) (*search.Spec, error) {
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		str("study"), str(run.study),
		str("direction"), str("maximize"),
		str("trials"), {Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"},
		str("objective"), obj,
		str("params"), space,
	}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	label := file + " (objective and space as a study spec)"
	spec, err := search.ParseSpec(label, b)
	if err != nil {
		return nil, err
	}
	return spec, nil
}

// trainSynthetic runs the synthetic objective once with the file's
// params, printing each epoch's value on standard error.
func trainSynthetic(ctx context.Context, opts *trainOptions, src []byte) (objective.Result, string, error) {
	e := opts.env
	if len(opts.Ensemble) > 0 {
		return objective.Result{}, "", errors.New("--ensemble: a synthetic objective has no checkpoints")
	}
	if opts.DataDir != "" {
		return objective.Result{}, "", errors.New("--data-dir: a synthetic objective reads no data")
	}
	run, err := parseSyntheticTrainFile(opts.File, src, opts.Set)
	if err != nil {
		return objective.Result{}, "", err
	}
	obj, err := newSyntheticObjective(run.spec, e.Getenv)
	if err != nil {
		return objective.Result{}, "", err
	}
	res, err := obj.Run(ctx, run.params, &trainReporter{env: e, study: run.study, trial: run.trial, metric: run.metric})
	return res, run.metric, err
}

// trainReporter prints each report of a run outside a study and never
// prunes; it names the trial, whose number seeds the synthetic noise.
type trainReporter struct {
	env           *env
	study, metric string
	trial         int
}

func (r *trainReporter) Report(step int, value float64) (bool, error) {
	fmt.Fprintf(r.env.Err, "epoch %d %s=%.4f\n", step, r.metric, value)
	return false, nil
}

func (r *trainReporter) TrialID() (string, int) { return r.study, r.trial }

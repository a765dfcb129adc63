package search

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxObjectives bounds how many metrics a multi-objective study may
// optimise at once; past a handful, nearly every trial is Pareto-optimal
// and the front stops guiding the search.
const MaxObjectives = 8

// Constraint is one entry of a spec's constraints list, such as
// "params_m <= 5": a metric the objective reports (or a numeric user attr)
// compared with a bound. A trial that breaks a constraint is kept and
// marked infeasible; the multi-objective samplers prefer feasible trials
// as Optuna's constraint domination does.
type Constraint struct {
	Name  string  `yaml:"name"`
	Op    string  `yaml:"op"` // <=, >=, < or >
	Bound float64 `yaml:"bound"`
	Line  int     `yaml:"-" json:"-"` // in the spec file, for error messages
}

// String writes the constraint as the spec does.
func (c Constraint) String() string {
	return fmt.Sprintf("%s %s %s", c.Name, c.Op, strconv.FormatFloat(c.Bound, 'g', -1, 64))
}

// strictSlack is the violation of a strict constraint met with equality
// (x < 5 at x = 5): positive, so the trial counts as infeasible, and
// smaller than any real shortfall.
const strictSlack = 1e-12

// Violation is Optuna's constraint value for measured x: ≤ 0 when the
// constraint holds, else how far x is on the wrong side of the bound. NaN
// (the metric was not reported) stays NaN, which counts as infeasible.
func (c Constraint) Violation(x float64) float64 {
	if math.IsNaN(x) {
		return x
	}
	v := x - c.Bound
	if c.Op == ">=" || c.Op == ">" {
		v = -v
	}
	if v == 0 && (c.Op == "<" || c.Op == ">") {
		return strictSlack
	}
	return v
}

// constraintRE splits "name op bound"; the name is anything without
// spaces or comparison signs.
var constraintRE = regexp.MustCompile(`^\s*([^\s<>=]+)\s*(<=|>=|<|>)\s*(\S+)\s*$`)

// MultiObjective reports whether the study optimises more than one metric.
func (s *Spec) MultiObjective() bool { return len(s.Metrics) > 1 }

// Objectives returns the study's metrics and their directions, one each
// for a single-objective study.
func (s *Spec) Objectives() (metrics, directions []string) {
	if len(s.Metrics) > 0 {
		return s.Metrics, s.Directions
	}
	return []string{s.Metric}, []string{s.Direction}
}

// stringList decodes a sequence of names ("metrics", "directions").
func (d *decoder) stringList(n *yaml.Node, field string) []string {
	r := resolve(n)
	if r == nil || r.Kind != yaml.SequenceNode || len(r.Content) == 0 {
		d.failf(n, field, "must be a non-empty list (got %s)", describe(n))
		return nil
	}
	if len(r.Content) > MaxObjectives {
		d.failf(n, field, "must list at most %d entries (got %d)", MaxObjectives, len(r.Content))
		return nil
	}
	out := make([]string, len(r.Content))
	for i, item := range r.Content {
		out[i], _ = d.name(item, fmt.Sprintf("%s[%d]", field, i))
	}
	return out
}

// directionList decodes `directions: [maximize, minimize]`.
func (d *decoder) directionList(n *yaml.Node) []string {
	dirs := d.stringList(n, "directions")
	r := resolve(n)
	for i, dir := range dirs {
		if dir != "" && dir != "maximize" && dir != "minimize" {
			d.failf(r.Content[i], fmt.Sprintf("directions[%d]", i), "must be maximize or minimize (got %q)%s", clip(dir), DidYouMean(dir, directions))
		}
	}
	return dirs
}

// constraints decodes `constraints: ["params_m <= 5", "ece <= 0.05"]`.
func (d *decoder) constraints(n *yaml.Node) []Constraint {
	r := resolve(n)
	if r == nil || r.Kind != yaml.SequenceNode {
		d.failf(n, "constraints", `must be a list of strings such as "params_m <= 5" (got %s)`, describe(n))
		return nil
	}
	var out []Constraint
	for i, item := range r.Content {
		field := fmt.Sprintf("constraints[%d]", i)
		text, ok := d.str(item, field)
		if !ok {
			continue
		}
		m := constraintRE.FindStringSubmatch(text)
		if m == nil {
			d.failf(item, field, `must read "metric op bound" with op one of <=, >=, <, > (got %q)`, clip(text))
			continue
		}
		bound, err := strconv.ParseFloat(m[3], 64)
		if err != nil || math.IsNaN(bound) || math.IsInf(bound, 0) {
			d.failf(item, field, "bound must be a finite number (got %q)", clip(m[3]))
			continue
		}
		if len(m[1]) > MaxNameLen {
			d.failf(item, field, "metric name must be at most %d bytes", MaxNameLen)
			continue
		}
		out = append(out, Constraint{Name: m[1], Op: m[2], Bound: bound, Line: resolve(item).Line})
	}
	return out
}

// checkObjectives ties direction/metric, directions/metrics and
// prune_metric together once the whole root mapping is decoded, and refuses
// pruning and CMA-ES for multi-objective studies. seen maps root keys to
// their value nodes.
func (d *decoder) checkObjectives(s *Spec, root *yaml.Node, seen map[string]*yaml.Node) {
	if root.Kind != yaml.MappingNode {
		return
	}
	_, single := seen["direction"]
	dirsNode, multi := seen["directions"]
	metricsNode, hasMetrics := seen["metrics"]
	switch {
	case single && multi:
		d.failf(dirsNode, "directions", "use either direction (one metric) or directions with metrics, not both")
		return
	case !single && !multi:
		d.failf(root, "direction", "required (or directions with metrics for a multi-objective study)")
		return
	case single:
		if hasMetrics {
			d.failf(metricsNode, "metrics", "needs directions, one per metric (use metric with direction)")
		}
		if n, ok := seen["prune_metric"]; ok {
			d.failf(n, "prune_metric", "only for multi-objective studies (directions); a single-objective study prunes on its metric")
		}
		return
	}
	if _, ok := seen["metric"]; ok {
		d.failf(seen["metric"], "metric", "use metrics (a list, one per direction) with directions")
	}
	if !hasMetrics {
		d.failf(dirsNode, "metrics", "required with directions: the metric each direction applies to")
		return
	}
	if len(s.Metrics) != len(s.Directions) {
		d.failf(metricsNode, "metrics", "must list one metric per direction (got %d metrics, %d directions)", len(s.Metrics), len(s.Directions))
		return
	}
	for i, m := range s.Metrics {
		if j := slices.Index(s.Metrics, m); j < i {
			d.failf(metricsNode, fmt.Sprintf("metrics[%d]", i), "duplicate metric %q (also metrics[%d])", clip(m), j)
		}
	}
	primary := 0
	if n, ok := seen["prune_metric"]; ok {
		if primary = slices.Index(s.Metrics, s.PruneMetric); primary < 0 {
			d.failf(n, "prune_metric", "must be one of metrics (%s; got %q)%s", strings.Join(s.Metrics, ", "), clip(s.PruneMetric),
				DidYouMean(s.PruneMetric, s.Metrics))
			primary = 0
		}
	}
	s.Metric, s.Direction = s.Metrics[primary], s.Directions[primary]
	if !s.MultiObjective() {
		return
	}
	if s.Pruner.Type != "none" && s.PruneMetric == "" {
		d.failf(lookup(seen["pruner"], "type"), "pruner.type", "a multi-objective study cannot prune on several metrics; "+
			"name the one the objective's intermediate reports measure with prune_metric (one of %s), or use pruner type none",
			strings.Join(s.Metrics, ", "))
	}
	if s.Sampler.Type == "cmaes" {
		d.failf(lookup(seen["sampler"], "type"), "sampler.type", "cmaes optimises one metric; a multi-objective study needs tpe (MOTPE), nsga2, random or grid")
	}
}

// Package searchtest holds the conformance checks every sweep sampler and
// pruner passes, and helpers that run small in-memory goptuna studies.
//
// It runs nothing against PostgreSQL: storage conformance is sweep/storagetest.
package searchtest

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/c-bata/goptuna"
)

// Space is a fixed search space used by the conformance checks: one param of
// every distribution goptuna offers.
var Space = map[string]any{
	"uniform":  goptuna.UniformDistribution{Low: -2, High: 3},
	"log":      goptuna.LogUniformDistribution{Low: 1e-5, High: 1},
	"int":      goptuna.IntUniformDistribution{Low: 0, High: 1},
	"stepint":  goptuna.StepIntUniformDistribution{Low: 2, High: 11, Step: 3},
	"discrete": goptuna.DiscreteUniformDistribution{Low: 0, High: 1, Q: 0.25},
	"cat":      goptuna.CategoricalDistribution{Choices: []string{"a", "b", "c"}},
	"single":   goptuna.CategoricalDistribution{Choices: []string{"only"}},
}

// SpaceNames lists Space's keys in a fixed order.
var SpaceNames = []string{"uniform", "log", "int", "stepint", "discrete", "cat", "single"}

// NewStudy returns a silent in-memory study.
func NewStudy(tb testing.TB, dir goptuna.StudyDirection, s goptuna.Sampler, rs goptuna.RelativeSampler, p goptuna.Pruner) *goptuna.Study {
	tb.Helper()
	st, err := NewStudyErr(goptuna.NewInMemoryStorage(), dir, s, rs, p)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// NewStudyErr is NewStudy for code without a testing.TB (benchmarks).
func NewStudyErr(storage goptuna.Storage, dir goptuna.StudyDirection, s goptuna.Sampler, rs goptuna.RelativeSampler, p goptuna.Pruner) (*goptuna.Study, error) {
	opts := []goptuna.StudyOption{goptuna.StudyOptionStorage(storage), goptuna.StudyOptionDirection(dir),
		goptuna.StudyOptionLogger(nil), goptuna.StudyOptionSampler(s), goptuna.StudyOptionIgnoreError(true)}
	if rs != nil {
		opts = append(opts, goptuna.StudyOptionRelativeSampler(rs))
	}
	if p != nil {
		opts = append(opts, goptuna.StudyOptionPruner(p))
	}
	return goptuna.CreateStudy("searchtest", opts...)
}

// Suggest asks for every param of space (in names order) in a new trial and
// returns the trial ID and the internal values.
func Suggest(study *goptuna.Study, names []string, space map[string]any) (int, map[string]float64, error) {
	id, err := study.Storage.CreateNewTrial(study.ID)
	if err != nil {
		return 0, nil, fmt.Errorf("create trial: %w", err)
	}
	tr := goptuna.Trial{Study: study, ID: id}
	if err := tr.CallRelativeSampler(); err != nil {
		return id, nil, fmt.Errorf("relative sampler: %w", err)
	}
	out := make(map[string]float64, len(names))
	for _, name := range names {
		v, err := suggest(&tr, name, space[name])
		if err != nil {
			return id, nil, fmt.Errorf("suggest %s: %w", name, err)
		}
		out[name] = v
	}
	return id, out, nil
}

// SuggestOne asks a trial for one param through goptuna's public Suggest
// methods and returns its internal value (category index for categoricals).
func SuggestOne(tr *goptuna.Trial, name string, dist any) (float64, error) {
	return suggest(tr, name, dist)
}

func suggest(tr *goptuna.Trial, name string, dist any) (float64, error) {
	switch d := dist.(type) {
	case goptuna.UniformDistribution:
		return tr.SuggestFloat(name, d.Low, d.High)
	case goptuna.LogUniformDistribution:
		return tr.SuggestLogFloat(name, d.Low, d.High)
	case goptuna.IntUniformDistribution:
		v, err := tr.SuggestInt(name, d.Low, d.High)
		return float64(v), err
	case goptuna.StepIntUniformDistribution:
		v, err := tr.SuggestStepInt(name, d.Low, d.High, d.Step)
		return float64(v), err
	case goptuna.DiscreteUniformDistribution:
		return tr.SuggestDiscreteFloat(name, d.Low, d.High, d.Q)
	case goptuna.CategoricalDistribution:
		c, err := tr.SuggestCategorical(name, d.Choices)
		for i := range d.Choices {
			if d.Choices[i] == c {
				return float64(i), err
			}
		}
		return 0, errors.Join(err, fmt.Errorf("choice %q not in %v", c, d.Choices))
	}
	return 0, fmt.Errorf("searchtest: unsupported distribution %T", dist)
}

// Finish sets a trial's value and state.
func Finish(study *goptuna.Study, id int, value float64, state goptuna.TrialState) error {
	if state == goptuna.TrialStateComplete || state == goptuna.TrialStatePruned {
		if err := study.Storage.SetTrialValue(id, value); err != nil {
			return err
		}
	}
	return study.Storage.SetTrialState(id, state)
}

// Contains reports whether internal value v is a valid value of dist: inside
// the bounds (both included) and on the grid for stepped distributions.
func Contains(dist any, v float64) bool {
	switch d := dist.(type) {
	case goptuna.UniformDistribution:
		return d.Low <= v && v <= d.High
	case goptuna.LogUniformDistribution:
		return d.Low <= v && v <= d.High
	case goptuna.IntUniformDistribution:
		return v == math.Trunc(v) && float64(d.Low) <= v && v <= float64(d.High)
	case goptuna.StepIntUniformDistribution:
		k := (v - float64(d.Low)) / float64(d.Step)
		return k == math.Trunc(k) && float64(d.Low) <= v && v <= float64(d.High)
	case goptuna.DiscreteUniformDistribution:
		k := (v - d.Low) / d.Q
		return math.Abs(k-math.Round(k)) < 1e-9 && d.Low <= v && v <= d.High+1e-12
	case goptuna.CategoricalDistribution:
		return v == math.Trunc(v) && 0 <= v && int(v) < len(d.Choices)
	}
	return false
}

package sweep

import (
	"context"
	"errors"
	"fmt"

	"github.com/c-bata/goptuna"

	"sweep/search"
	"sweep/search/sampler"
)

// SpecChangedError is returned by EnsureStudy when a study of that name
// exists with a different spec. Diff shows stored (-) against new (+).
type SpecChangedError struct {
	Study string
	Diff  string
}

func (e *SpecChangedError) Error() string {
	return fmt.Sprintf("study %q exists with a different spec (use --force-update to replace it, or rename the study):\n%s", e.Study, e.Diff)
}

// Unwrap makes errors.Is(err, ErrSpecChanged) hold.
func (e *SpecChangedError) Unwrap() error { return ErrSpecChanged }

// EnsureStudy creates the study spec describes or resumes it. raw is the
// spec file as given, stored verbatim. An existing study is resumed when its
// stored spec is equivalent (search.Equivalent: comments, layout and
// workers may differ); otherwise EnsureStudy refuses with a
// *SpecChangedError unless force is set, in which case the stored spec is
// replaced. created reports whether the study is new.
func EnsureStudy(ctx context.Context, store Store, spec *search.Spec, raw []byte, force bool) (info StudyInfo, created bool, err error) {
	want := StudyInfo{
		Name:      spec.Study,
		Direction: spec.Direction,
		Metric:    spec.Metric,
		Spec:      raw,
		Status:    "running",
		Trials:    spec.Trials,
	}
	stored, created, err := store.EnsureStudy(ctx, want, false)
	if err == nil || !errors.Is(err, ErrSpecChanged) {
		if err != nil {
			return StudyInfo{}, false, fmt.Errorf("ensure study: %w", err)
		}
		return stored, created, recordObjectives(ctx, store, stored, spec, false)
	}
	old, perr := search.ParseSpec("stored spec", stored.Spec)
	if perr == nil && search.Equivalent(old, spec) {
		return stored, false, recordObjectives(ctx, store, stored, spec, false)
	}
	if !force {
		return stored, false, &SpecChangedError{Study: spec.Study, Diff: Diff(string(stored.Spec), string(raw))}
	}
	info, _, err = store.EnsureStudy(ctx, want, true)
	if err != nil {
		return StudyInfo{}, false, fmt.Errorf("update study spec: %w", err)
	}
	return info, false, recordObjectives(ctx, store, info, spec, true)
}

// Enqueue queues a WAITING trial with fixed params, as Optuna's
// enqueue_trial does: workers claim WAITING trials before they create new
// ones, and run this one with the given values; the sampler draws any
// param left out (see search.Unassigned). internal holds internal values
// by param name, as search.Assign makes them. The trial takes the next
// number and one unit of the study's budget (ErrBudgetExhausted when none
// is left), carries sampler.EnqueuedAttr (the grid gives it no point of
// its own), and reopens a finished study.
func Enqueue(ctx context.Context, store Store, info StudyInfo, space []search.Param, internal map[string]float64) (goptuna.FrozenTrial, error) {
	dists := make(map[string]any, len(internal))
	external := make(map[string]any, len(internal))
	for name, x := range internal {
		p, ok := search.Lookup(space, name)
		if !ok {
			return goptuna.FrozenTrial{}, fmt.Errorf("enqueue trial: param %q is not in the study's space", name)
		}
		dists[name] = p.Distribution()
		v, err := goptuna.ToExternalRepresentation(dists[name], x)
		if err != nil {
			return goptuna.FrozenTrial{}, fmt.Errorf("enqueue trial: param %q: %w", name, err)
		}
		external[name] = v
	}
	id, err := store.CloneTrial(info.ID, goptuna.FrozenTrial{
		State:              goptuna.TrialStateWaiting,
		Params:             external,
		InternalParams:     internal,
		Distributions:      dists,
		IntermediateValues: map[int]float64{},
		UserAttrs:          map[string]string{},
		SystemAttrs:        map[string]string{sampler.EnqueuedAttr: "true"},
	})
	if err != nil {
		return goptuna.FrozenTrial{}, fmt.Errorf("enqueue trial: %w", err)
	}
	if info.Status == "finished" {
		if err := store.SetStudyStatus(ctx, info.ID, "running"); err != nil {
			return goptuna.FrozenTrial{}, fmt.Errorf("reopen study: %w", err)
		}
	}
	t, err := store.GetTrial(id)
	if err != nil {
		return goptuna.FrozenTrial{}, fmt.Errorf("load enqueued trial: %w", err)
	}
	return t, nil
}

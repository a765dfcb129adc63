package sweep

import (
	"context"
	"errors"
	"fmt"

	"sweep/search"
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
		return stored, created, nil
	}
	old, perr := search.ParseSpec("stored spec", stored.Spec)
	if perr == nil && search.Equivalent(old, spec) {
		return stored, false, nil
	}
	if !force {
		return stored, false, &SpecChangedError{Study: spec.Study, Diff: Diff(string(stored.Spec), string(raw))}
	}
	info, _, err = store.EnsureStudy(ctx, want, true)
	if err != nil {
		return StudyInfo{}, false, fmt.Errorf("update study spec: %w", err)
	}
	return info, false, nil
}

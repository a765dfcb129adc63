package sweep_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sweep/search"
	"sweep/sweep"
	"sweep/sweep/sweeptest"
)

func TestEnsureStudy(t *testing.T) {
	ctx := context.Background()
	parse := func(raw string) *search.Spec {
		t.Helper()
		s, err := search.ParseSpec("t.yaml", []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	store := sweeptest.New()
	raw := strings.Replace(studyYAML, "%d", "10", 1)
	raw = strings.Replace(strings.Replace(raw, "%d", "2", 1), "%d", "0", 1)
	info, created, err := sweep.EnsureStudy(ctx, store, parse(raw), []byte(raw), false)
	if err != nil || !created || info.Trials != 10 || info.Metric != "val_acc" || info.Direction != "maximize" {
		t.Fatalf("create: %+v %v %v", info, created, err)
	}

	t.Run("ResumeEquivalent", func(t *testing.T) {
		edited := "# tuned later\n" + strings.Replace(raw, "workers: 2", "workers: 8", 1)
		got, created, err := sweep.EnsureStudy(ctx, store, parse(edited), []byte(edited), false)
		if err != nil || created || got.ID != info.ID {
			t.Fatalf("resume: %+v %v %v", got, created, err)
		}
	})
	changed := strings.Replace(raw, "trials: 10", "trials: 20", 1)
	t.Run("RefuseChanged", func(t *testing.T) {
		_, _, err := sweep.EnsureStudy(ctx, store, parse(changed), []byte(changed), false)
		var sc *sweep.SpecChangedError
		if !errors.As(err, &sc) || !errors.Is(err, sweep.ErrSpecChanged) {
			t.Fatalf("err = %v, want SpecChangedError", err)
		}
		if !strings.Contains(sc.Diff, "- trials: 10\n+ trials: 20\n") {
			t.Errorf("diff lacks the change:\n%s", sc.Diff)
		}
	})
	t.Run("Force", func(t *testing.T) {
		got, _, err := sweep.EnsureStudy(ctx, store, parse(changed), []byte(changed), true)
		if err != nil || got.Trials != 20 || string(got.Spec) != changed {
			t.Fatalf("force: %+v %v", got, err)
		}
	})
}

func TestDiff(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\n"
	b := "a\nb\nc\nD\ne\nf\ng\nh\n"
	want := "  ...\n  c\n- d\n+ D\n  e\n  ...\n  g\n+ h\n"
	if got := sweep.Diff(a, b); got != want {
		t.Errorf("Diff =\n%s\nwant\n%s", got, want)
	}
	if got := sweep.Diff(a, a); strings.ContainsAny(got, "+-") {
		t.Errorf("Diff of equal texts shows changes:\n%s", got)
	}
}

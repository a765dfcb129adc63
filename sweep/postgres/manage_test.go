package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/c-bata/goptuna"
	"github.com/lib/pq"

	"sweep/internal/pgtest"
	"sweep/sweep"
)

// TestStorage_RenameStudy: the new name and spec replace the old ones
// together; trials, tags and attrs follow (they refer to the id); a taken
// name is refused and changes nothing.
func TestStorage_RenameStudy(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, _, err := s.EnsureStudy(ctx, sweep.StudyInfo{Name: "a", Direction: "maximize", Spec: []byte("study: a\n"), Trials: 5}, false)
	must(t, err)
	_, _, err = s.EnsureStudy(ctx, sweep.StudyInfo{Name: "b", Direction: "maximize", Spec: []byte("study: b\n"), Trials: 5}, false)
	must(t, err)
	cl, err := s.ClaimTrial(ctx, a.ID, "w", "h")
	must(t, err)
	_, err = s.TagStudy(ctx, a.ID, []string{"keep"}, nil)
	must(t, err)

	if err := s.RenameStudy(ctx, a.ID, "b", []byte("study: b\n")); err == nil || !strings.Contains(err.Error(), `a study named "b" exists`) {
		t.Errorf("rename onto a taken name: %v", err)
	}
	must(t, s.RenameStudy(ctx, a.ID, "a2", []byte("study: a2 # renamed\n")))
	got, err := s.Study(ctx, "a2")
	must(t, err)
	if got.ID != a.ID || string(got.Spec) != "study: a2 # renamed\n" {
		t.Errorf("renamed study = %+v", got)
	}
	if _, err := s.Study(ctx, "a"); !errors.Is(err, sweep.ErrStudyNotFound) {
		t.Errorf("old name still found: %v", err)
	}
	if id, err := s.GetStudyIDFromTrialID(cl.TrialID); err != nil || id != a.ID {
		t.Errorf("trial's study = %d, %v", id, err)
	}
	var study string
	var tags pq.StringArray
	must(t, s.DB().QueryRowContext(ctx, `SELECT study, tags FROM study_overview WHERE study_id = $1`, a.ID).Scan(&study, &tags))
	if study != "a2" || !slices.Equal([]string(tags), []string{"keep"}) {
		t.Errorf("study_overview: %q %v", study, tags)
	}
	if err := s.RenameStudy(ctx, a.ID+1000, "c", nil); !errors.Is(err, goptuna.ErrInvalidStudyID) {
		t.Errorf("rename a missing study: %v", err)
	}
}

// TestStorage_NoteTags: notes are set and appended line by line, tags are
// a set, and both show in study_overview; deleting the study deletes them.
func TestStorage_NoteTags(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, _, err := s.EnsureStudy(ctx, sweep.StudyInfo{Name: "n", Direction: "minimize", Spec: []byte("study: n\n")}, false)
	must(t, err)
	if note, err := s.StudyNote(ctx, st.ID); err != nil || note != "" {
		t.Errorf("new study's note %q, %v", note, err)
	}
	note, err := s.SetStudyNote(ctx, st.ID, "baseline run", true) // appending to nothing
	must(t, err)
	if note != "baseline run" {
		t.Errorf("note after the first append: %q", note)
	}
	if note, _ = s.SetStudyNote(ctx, st.ID, "lr too high?", true); note != "baseline run\nlr too high?" {
		t.Errorf("note after the second append: %q", note)
	}
	if note, _ = s.SetStudyNote(ctx, st.ID, "rewritten", false); note != "rewritten" {
		t.Errorf("note after set: %q", note)
	}
	tags, err := s.TagStudy(ctx, st.ID, []string{"resnet", "article", "resnet"}, nil)
	must(t, err)
	if !slices.Equal(tags, []string{"article", "resnet"}) {
		t.Errorf("tags %v; want [article resnet]", tags)
	}
	if tags, _ = s.TagStudy(ctx, st.ID, []string{"cpu"}, []string{"article", "missing"}); !slices.Equal(tags, []string{"cpu", "resnet"}) {
		t.Errorf("tags after add cpu, remove article: %v", tags)
	}
	var gotNote string
	var gotTags pq.StringArray
	must(t, s.DB().QueryRowContext(ctx, `SELECT note, tags FROM study_overview WHERE study = 'n'`).Scan(&gotNote, &gotTags))
	if gotNote != "rewritten" || !slices.Equal([]string(gotTags), []string{"cpu", "resnet"}) {
		t.Errorf("study_overview: note %q tags %v", gotNote, gotTags)
	}
	if _, err := s.TagStudy(ctx, st.ID+1000, []string{"x"}, nil); !errors.Is(err, goptuna.ErrInvalidStudyID) {
		t.Errorf("tag a missing study: %v", err)
	}
	if _, err := s.SetStudyNote(ctx, st.ID+1000, "x", false); !errors.Is(err, goptuna.ErrInvalidStudyID) {
		t.Errorf("note on a missing study: %v", err)
	}
	must(t, s.DeleteStudy(st.ID))
	var left int
	must(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM study_tags`).Scan(&left))
	if left != 0 {
		t.Errorf("%d tags left after deleting the study", left)
	}
}

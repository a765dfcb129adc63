package storagetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/sweep"
)

func testStudyCreateDelete(t *testing.T, newStore NewStore) {
	s := newStore(t)
	id := res(s.CreateNewStudy("alpha")).must(t)
	if got := res(s.GetStudyIDFromName("alpha")).must(t); got != id {
		t.Errorf("GetStudyIDFromName = %d; want %d", got, id)
	}
	if name, err := s.GetStudyNameFromID(id); err != nil || name != "alpha" {
		t.Errorf("GetStudyNameFromID = %q, %v", name, err)
	}
	if _, err := s.CreateNewStudy("alpha"); err == nil {
		t.Error("CreateNewStudy with a taken name: want error")
	}
	anon := res(s.CreateNewStudy("")).must(t)
	if name, _ := s.GetStudyNameFromID(anon); !strings.HasPrefix(name, goptuna.DefaultStudyNamePrefix) {
		t.Errorf("unnamed study got name %q", name)
	}
	trial := res(s.CreateNewTrial(id)).must(t)
	if got := res(s.GetStudyIDFromTrialID(trial)).must(t); got != id {
		t.Errorf("GetStudyIDFromTrialID = %d; want %d", got, id)
	}
	must(t, s.DeleteStudy(id))
	if _, err := s.GetStudyIDFromName("alpha"); !errors.Is(err, sweep.ErrStudyNotFound) {
		t.Errorf("deleted study still found: %v", err)
	}
	if _, err := s.GetTrial(trial); err == nil {
		t.Error("trial of a deleted study still readable")
	}
	wantErr(t, "DeleteStudy twice", s.DeleteStudy(id), goptuna.ErrInvalidStudyID)
	_, err := s.GetStudyNameFromID(id)
	wantErr(t, "GetStudyNameFromID of deleted", err, goptuna.ErrInvalidStudyID)
	_, err = s.GetAllTrials(id)
	wantErr(t, "GetAllTrials of deleted", err, goptuna.ErrInvalidStudyID)
}

func testStudyDirectionAttrs(t *testing.T, newStore NewStore) {
	s := newStore(t)
	id := res(s.CreateNewStudy("dir")).must(t)
	if d, err := s.GetStudyDirection(id); err != nil || d != goptuna.StudyDirectionMinimize {
		t.Errorf("default direction = %q, %v; want minimize", d, err)
	}
	must(t, s.SetStudyDirection(id, goptuna.StudyDirectionMaximize))
	if d, _ := s.GetStudyDirection(id); d != goptuna.StudyDirectionMaximize {
		t.Errorf("direction = %q after setting maximize", d)
	}
	if err := s.SetStudyDirection(id, "sideways"); err == nil {
		t.Error("SetStudyDirection(sideways): want error")
	}
	must(t, s.SetStudyUserAttr(id, "owner", "ada"))
	must(t, s.SetStudyUserAttr(id, "owner", "grace"))
	must(t, s.SetStudySystemAttr(id, "seed", "42"))
	ua, err := s.GetStudyUserAttrs(id)
	must(t, err)
	sa, err := s.GetStudySystemAttrs(id)
	must(t, err)
	if len(ua) != 1 || ua["owner"] != "grace" || len(sa) != 1 || sa["seed"] != "42" {
		t.Errorf("attrs = %v, %v", ua, sa)
	}
	other := res(s.CreateNewStudy("other")).must(t)
	if ua, err := s.GetStudyUserAttrs(other); err != nil || len(ua) != 0 {
		t.Errorf("other study's attrs = %v, %v; want empty", ua, err)
	}
	wantErr(t, "SetStudyUserAttr on missing study", s.SetStudyUserAttr(-5, "k", "v"), goptuna.ErrInvalidStudyID)
	_, err = s.GetStudyUserAttrs(-5)
	wantErr(t, "GetStudyUserAttrs on missing study", err, goptuna.ErrInvalidStudyID)
}

func testStudySummaries(t *testing.T, newStore NewStore) {
	s := newStore(t)
	a := res(s.CreateNewStudy("sum-a")).must(t)
	must(t, s.SetStudyDirection(a, goptuna.StudyDirectionMaximize))
	must(t, s.SetStudyUserAttr(a, "k", "v"))
	for _, v := range []float64{0.2, 0.9, 0.5} {
		id := res(s.CreateNewTrial(a)).must(t)
		must(t, s.SetTrialValue(id, v))
		must(t, s.SetTrialState(id, goptuna.TrialStateComplete))
	}
	b := res(s.CreateNewStudy("sum-b")).must(t)
	sums, err := s.GetAllStudySummaries()
	must(t, err)
	got := map[int]goptuna.StudySummary{}
	for _, sum := range sums {
		got[sum.ID] = sum
	}
	if sa := got[a]; sa.Name != "sum-a" || sa.BestTrial.Value != 0.9 || sa.UserAttrs["k"] != "v" ||
		sa.Direction != goptuna.StudyDirectionMaximize || sa.DatetimeStart.IsZero() {
		t.Errorf("summary of sum-a = %+v", sa)
	}
	if sb, ok := got[b]; !ok || sb.Name != "sum-b" || sb.BestTrial.ID != 0 {
		t.Errorf("summary of sum-b = %+v (present %v)", sb, ok)
	}
}

func testEnsureStudy(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	info := sweep.StudyInfo{Name: "ens", Direction: "minimize", Metric: "loss", Spec: []byte("a: 1\n"), Trials: 10}
	first, created, err := s.EnsureStudy(c, info, false)
	must(t, err)
	if !created || first.ID == 0 || first.Status != "running" || first.Trials != 10 || first.Created.IsZero() ||
		first.Metric != "loss" || first.Direction != "minimize" || !bytes.Equal(first.Spec, info.Spec) {
		t.Fatalf("EnsureStudy new = %+v, created %v", first, created)
	}
	again, created, err := s.EnsureStudy(c, info, false)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("EnsureStudy same spec = %+v, %v, %v", again, created, err)
	}
	changed := info
	changed.Spec, changed.Trials = []byte("a: 2\n"), 20
	stored, _, err := s.EnsureStudy(c, changed, false)
	wantErr(t, "EnsureStudy changed spec", err, sweep.ErrSpecChanged)
	if string(stored.Spec) != "a: 1\n" || stored.ID != first.ID {
		t.Errorf("with ErrSpecChanged, stored = %+v; want the stored study", stored)
	}
	forced, created, err := s.EnsureStudy(c, changed, true)
	if err != nil || created || string(forced.Spec) != "a: 2\n" || forced.Trials != 20 || forced.ID != first.ID {
		t.Errorf("EnsureStudy forced = %+v, %v, %v", forced, created, err)
	}
	loaded, err := s.Study(c, "ens")
	if err != nil || string(loaded.Spec) != "a: 2\n" {
		t.Errorf("Study = %+v, %v", loaded, err)
	}
	_, err = s.Study(c, "missing")
	wantErr(t, "Study(missing)", err, sweep.ErrStudyNotFound)
	if _, _, err := s.EnsureStudy(c, sweep.StudyInfo{Name: "bad", Direction: "up"}, false); err == nil {
		t.Error("EnsureStudy with direction up: want error")
	}
	must(t, s.SetStudyStatus(c, first.ID, "finished"))
	if st, _ := s.Study(c, "ens"); st.Status != "finished" {
		t.Errorf("status after SetStudyStatus(finished) = %q", st.Status)
	}
	if err := s.SetStudyStatus(c, first.ID, "paused"); err == nil {
		t.Error("SetStudyStatus(paused): want error")
	}
}

// hostile are names that break string-built SQL, shells and encodings.
var hostile = []string{
	`it's`, `"double"`, `'; DROP TABLE trials; --`, `$1`, `%s%d`, `back\slash`, `日本語の研究`,
	`emoji 🧪🔥`, `tab	and
newline`, `?`, `null`, `Robert'); DELETE FROM studies;--`,
}

func testHostileNames(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c := ctx(t)
	for _, name := range hostile {
		info := sweep.StudyInfo{Name: name, Direction: "maximize", Metric: name, Spec: []byte("study: " + name)}
		st, _, err := s.EnsureStudy(c, info, false)
		if err != nil {
			t.Fatalf("EnsureStudy(%q): %v", name, err)
		}
		if got, err := s.Study(c, name); err != nil || got.Name != name || got.Metric != name || string(got.Spec) != string(info.Spec) {
			t.Errorf("Study(%q) = %+v, %v", name, got, err)
		}
		if got, _ := s.GetStudyNameFromID(st.ID); got != name {
			t.Errorf("GetStudyNameFromID = %q; want %q", got, name)
		}
		must(t, s.SetStudyUserAttr(st.ID, name, name))
		cl := claim(t, s, st.ID, name)
		must(t, s.SetTrialParam(cl.TrialID, name, 2, distCat))
		must(t, s.SetTrialUserAttr(cl.TrialID, name, name))
		tr, err := s.GetTrial(cl.TrialID)
		must(t, err)
		if tr.Params[name] != distCat.Choices[2] || tr.UserAttrs[name] != name {
			t.Errorf("trial of %q: params %v attrs %v", name, tr.Params, tr.UserAttrs)
		}
		if ua, _ := s.GetStudyUserAttrs(st.ID); ua[name] != name {
			t.Errorf("study attrs of %q = %v", name, ua)
		}
	}
	sums, err := s.GetAllStudySummaries()
	must(t, err)
	if len(sums) != len(hostile) {
		t.Errorf("%d studies; want %d (a name was mangled or a statement injected)", len(sums), len(hostile))
	}
}

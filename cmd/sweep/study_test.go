package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"sweep/internal/pgtest"
	"sweep/search"
	"sweep/sweep"
)

func TestNewStudyCmds(t *testing.T) {
	t.Run("rm", func(t *testing.T) {
		got, err := parseArgv(t, newStudyRmCmd, "a b --yes --force --db d --pg-dir x")
		if err != nil || !slices.Equal(got.Studies, []string{"a", "b"}) || !got.Yes || !got.Force || got.DB != "d" || got.PGDir != "x" {
			t.Errorf("parsed %+v, %v", got, err)
		}
		if got, err := parseArgv(t, newStudyRmCmd, "a -y"); err != nil || !got.Yes || got.Force {
			t.Errorf("-y: %+v, %v", got, err)
		}
		if _, err := parseArgv(t, newStudyRmCmd, ""); err == nil || err.Error() != "requires at least 1 arg(s), only received 0" {
			t.Errorf("no study: %v", err)
		}
	})
	t.Run("rename", func(t *testing.T) {
		got, err := parseArgv(t, newStudyRenameCmd, "old new --db d")
		if err != nil || got.Study != "old" || got.NewName != "new" || got.DB != "d" {
			t.Errorf("parsed %+v, %v", got, err)
		}
		if _, err := parseArgv(t, newStudyRenameCmd, "old"); err == nil || err.Error() != "accepts 2 arg(s), received 1" {
			t.Errorf("one name: %v", err)
		}
		if _, err := parseArgv(t, newStudyRenameCmd, "same same"); err == nil || err.Error() != `study "same" already has that name` {
			t.Errorf("same name: %v", err)
		}
	})
	t.Run("note", func(t *testing.T) {
		got, err := parseArgv(t, newStudyNoteCmd, "s lr above 0.3 diverges --append")
		if err != nil || got.Study != "s" || got.Text != "lr above 0.3 diverges" || !got.HasText || !got.Append || got.Clear {
			t.Errorf("parsed %+v, %v", got, err)
		}
		if got, err := parseArgv(t, newStudyNoteCmd, "s"); err != nil || got.HasText || got.Append || got.Clear {
			t.Errorf("show: %+v, %v", got, err)
		}
		for argv, want := range map[string]string{
			"s --clear words": "--clear takes no TEXT and no --append",
			"s --append":      "--append needs TEXT to add",
			"":                "requires at least 1 arg(s), only received 0",
		} {
			if _, err := parseArgv(t, newStudyNoteCmd, argv); err == nil || err.Error() != want {
				t.Errorf("%q: error %v; want %q", argv, err, want)
			}
		}
	})
	t.Run("tag", func(t *testing.T) {
		got, err := parseArgv(t, newStudyTagCmd, "s resnet18 article")
		if err != nil || got.Study != "s" || !slices.Equal(got.Tags, []string{"resnet18", "article"}) || got.Remove {
			t.Errorf("parsed %+v, %v", got, err)
		}
		if got, err := parseArgv(t, newStudyTagCmd, "s --rm article"); err != nil || !got.Remove || !slices.Equal(got.Tags, []string{"article"}) {
			t.Errorf("--rm: %+v, %v", got, err)
		}
		for argv, want := range map[string]string{
			"s --rm":                       "--rm needs the TAGs to remove",
			"s a,b":                        `tag "a,b": no spaces, commas or control characters`,
			"s " + strings.Repeat("x", 65): `tag "` + strings.Repeat("x", 65) + `": at most 64 bytes (got 65)`,
		} {
			if _, err := parseArgv(t, newStudyTagCmd, argv); err == nil || err.Error() != want {
				t.Errorf("%q: error %v; want %q", argv, err, want)
			}
		}
	})
}

// runCLI runs sweep with args and --db dsn, failing the test unless the
// exit status is want; it returns standard output and error.
func runCLI(t *testing.T, e *env, dsn string, want int, args ...string) (string, string) {
	t.Helper()
	out, errOut := e.Out.(interface{ String() string }), e.Err.(interface{ String() string })
	if code := run(context.Background(), e, append(args, "--db", dsn)); code != want {
		t.Fatalf("sweep %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

func TestRunStudyNoteTag(t *testing.T) {
	dsn := startStudy(t, smallStudy)
	e, _, _, _ := newTestEnv(false)
	runCLI(t, e, dsn, 0, "study", "note", "cli-small", "first", "try")
	e, _, _, _ = newTestEnv(false)
	_, errOut := runCLI(t, e, dsn, 0, "study", "note", "cli-small", "--append", "lr", "matters")
	if errOut != "study cli-small: note saved (2 line(s))\n" {
		t.Errorf("append: stderr %q", errOut)
	}
	e, _, _, _ = newTestEnv(false)
	if out, _ := runCLI(t, e, dsn, 0, "study", "note", "cli-small"); out != "first try\nlr matters\n" {
		t.Errorf("note shown as %q", out)
	}
	e, _, _, _ = newTestEnv(false)
	runCLI(t, e, dsn, 0, "study", "tag", "cli-small", "synthetic", "baseline", "old")
	e, _, _, _ = newTestEnv(false)
	if _, errOut := runCLI(t, e, dsn, 0, "study", "tag", "cli-small", "--rm", "old"); errOut != "study cli-small: tags baseline, synthetic\n" {
		t.Errorf("untag: stderr %q", errOut)
	}
	e, _, _, _ = newTestEnv(false)
	if out, _ := runCLI(t, e, dsn, 0, "study", "tag", "cli-small"); out != "baseline\nsynthetic\n" {
		t.Errorf("tags listed as %q", out)
	}

	// sweep status shows them for one study, and in JSON.
	e, _, _, _ = newTestEnv(false)
	out, _ := runCLI(t, e, dsn, 0, "status", "cli-small")
	if !strings.Contains(out, "tags\tbaseline, synthetic\nnote\tfirst try\n\tlr matters\n") {
		t.Errorf("status lacks tags and note:\n%s", out)
	}
	e, _, _, _ = newTestEnv(false)
	out, _ = runCLI(t, e, dsn, 0, "status", "cli-small", "--format", "json")
	var st overviewJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Note != "first try\nlr matters" || !slices.Equal(st.Tags, []string{"baseline", "synthetic"}) {
		t.Errorf("status JSON: %+v, %v", st, err)
	}

	e, _, _, _ = newTestEnv(false)
	if _, errOut := runCLI(t, e, dsn, 1, "study", "note", "nope", "x"); errOut != "sweep: no study named \"nope\" (sweep status lists them)\n" {
		t.Errorf("unknown study: %q", errOut)
	}
	e, _, _, _ = newTestEnv(false)
	runCLI(t, e, dsn, 0, "study", "note", "cli-small", "--clear")
	e, _, _, _ = newTestEnv(false)
	if out, errOut := runCLI(t, e, dsn, 0, "study", "note", "cli-small"); out != "" || !strings.Contains(errOut, "has no note") {
		t.Errorf("cleared note: stdout %q stderr %q", out, errOut)
	}
}

func TestRunStudyRename(t *testing.T) {
	dsn := startStudy(t, smallStudy)
	runDir := t.TempDir()
	journals := sweep.StudyRunDir(runDir, "cli-small")
	if err := os.MkdirAll(journals, 0o755); err != nil {
		t.Fatal(err)
	}
	e, _, _, _ := newTestEnv(false)
	e.Getenv = func(k string) string { return map[string]string{"SWEEP_RUN_DIR": runDir}[k] }
	_, errOut := runCLI(t, e, dsn, 0, "study", "rename", "cli-small", "cli-renamed")
	if !strings.HasPrefix(errOut, "renamed study cli-small to cli-renamed; its stored spec now says study: cli-renamed\n") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if _, err := os.Stat(sweep.StudyRunDir(runDir, "cli-renamed")); err != nil {
		t.Errorf("result journals were not moved: %v", err)
	}

	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var raw string
	var trials int
	if err := db.QueryRow(`SELECT s.spec, count(t.id) FROM studies s JOIN trials t ON t.study_id = s.id WHERE s.name = 'cli-renamed' GROUP BY s.id`).Scan(&raw, &trials); err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(smallStudy, "study: cli-small", "study: cli-renamed", 1); raw != want || trials != 6 {
		t.Errorf("stored spec after rename (%d trials):\n%s\nwant:\n%s", trials, raw, want)
	}
	if spec, err := search.ParseSpec("stored", []byte(raw)); err != nil || spec.Study != "cli-renamed" {
		t.Errorf("stored spec does not parse as the renamed study: %v", err)
	}
	// A worker of the new name finds the study (nothing left to run).
	e, _, _, _ = newTestEnv(false)
	runCLI(t, e, dsn, 0, "worker", "cli-renamed")

	// A taken name, and a missing study, are refused.
	second := strings.Replace(smallStudy, "study: cli-small", "study: other", 1)
	e, _, _, _ = newTestEnv(false)
	runCLI(t, e, dsn, 0, "start", writeFile(t, t.TempDir(), "o.yaml", second))
	e, _, _, _ = newTestEnv(false)
	if _, errOut := runCLI(t, e, dsn, 1, "study", "rename", "other", "cli-renamed"); !strings.Contains(errOut, `a study named "cli-renamed" exists`) {
		t.Errorf("taken name: %q", errOut)
	}
	e, _, _, _ = newTestEnv(false)
	if _, errOut := runCLI(t, e, dsn, 1, "study", "rename", "cli-small", "x"); errOut != "sweep: no study named \"cli-small\" (sweep status lists them)\n" {
		t.Errorf("old name: %q", errOut)
	}
}

func TestRunStudyRm(t *testing.T) {
	dsn := startStudy(t, smallStudy)
	count := func() int {
		t.Helper()
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM studies`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// No terminal and no --yes: refused before anything is read.
	e, _, _, _ := newTestEnv(false)
	if _, errOut := runCLI(t, e, dsn, 1, "study", "rm", "cli-small"); errOut != "sweep: refusing to delete without confirmation: standard input is not a terminal (pass --yes)\n" {
		t.Errorf("non-TTY: %q", errOut)
	}
	// On a terminal: asks; anything but y keeps the study.
	e, _, _, _ = newTestEnv(true)
	e.InTTY, e.In = true, strings.NewReader("n\n")
	_, errOut := runCLI(t, e, dsn, 1, "study", "rm", "cli-small")
	if !strings.Contains(errOut, "study cli-small: 6 trial(s):") || !strings.Contains(errOut, "Delete 1 study and all their trials? This cannot be undone. [y/N] ") ||
		!strings.HasSuffix(errOut, "sweep: not confirmed; nothing was deleted\n") {
		t.Errorf("declined: stderr:\n%s", errOut)
	}
	// A missing study among several: nothing is deleted.
	e, _, _, _ = newTestEnv(false)
	if _, errOut := runCLI(t, e, dsn, 1, "study", "rm", "cli-small", "nope", "--yes"); errOut != "sweep: no study named \"nope\" (sweep status lists them); nothing was deleted\n" {
		t.Errorf("missing study: %q", errOut)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d studies after refused deletions; want 1", n)
	}
	e, _, _, _ = newTestEnv(true)
	e.InTTY, e.In = true, strings.NewReader("y\n")
	if _, errOut := runCLI(t, e, dsn, 0, "study", "rm", "cli-small"); !strings.HasSuffix(errOut, "deleted study cli-small (6 trials)\n") {
		t.Errorf("confirmed: stderr:\n%s", errOut)
	}
	if n := count(); n != 0 {
		t.Errorf("%d studies after deletion; want 0", n)
	}
}

// TestRunStudyStop: a stop condition in the spec ends sweep start early,
// and sweep status shows why. target 0 is reached by the first COMPLETE
// trial (trial 0: the median pruner has no history to prune it against).
func TestRunStudyStop(t *testing.T) {
	spec := strings.Replace(smallStudy, "trials: 6\n", "trials: 20\nstop: {target: 0}\n", 1)
	dsn := pgtest.DSN(t)
	file := writeFile(t, t.TempDir(), "s.yaml", spec)
	e, _, _, _ := newTestEnv(false)
	out, errOut := runCLI(t, e, dsn, 0, "start", file)
	if !strings.Contains(out, "1 trial(s) run here: 1 complete, 0 pruned, 0 failed\n") || !strings.Contains(out, "study stopped: target: trial 0 reached val_acc=") ||
		!strings.Contains(errOut, "to go on, change stop: in the spec") {
		t.Errorf("start:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
	e, _, _, _ = newTestEnv(false)
	out, _ = runCLI(t, e, dsn, 0, "status", "cli-small")
	if !strings.Contains(out, "status\tfinished\nstopped\ttarget: trial 0 reached val_acc=") {
		t.Errorf("status:\n%s", out)
	}
	e, _, _, _ = newTestEnv(false)
	if out, _ = runCLI(t, e, dsn, 0, "status"); !strings.Contains(out, "cli-small\tstopped\t1/20\t") {
		t.Errorf("status list:\n%s", out)
	}
	// Starting again runs nothing: the condition still holds.
	e, _, _, _ = newTestEnv(false)
	if out, _ = runCLI(t, e, dsn, 0, "start", file); !strings.Contains(out, "0 trial(s) run here") {
		t.Errorf("restart ran trials:\n%s", out)
	}
}

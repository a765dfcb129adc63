package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sweep/internal/pgtest"
	"sweep/search"
)

func TestNewInitCmd(t *testing.T) {
	got, err := parseArgv(t, newInitCmd, "")
	if err != nil || *got != (initOptions{env: got.env, Objective: "synthetic", Out: "study.yaml"}) {
		t.Errorf("defaults: %+v, %v", got, err)
	}
	got, err = parseArgv(t, newInitCmd, "--objective cifar10 -o c.yaml --name resnet-lr --force")
	if err != nil || *got != (initOptions{env: got.env, Objective: "cifar10", Out: "c.yaml", Name: "resnet-lr", Force: true}) {
		t.Errorf("parsed %+v, %v", got, err)
	}
	if _, err := parseArgv(t, newInitCmd, "--objective pytorch"); err == nil || err.Error() != `--objective "pytorch": want one of synthetic, cifar10, command` {
		t.Errorf("unknown objective: %v", err)
	}
}

// TestInitSpecs: every spec sweep init writes passes the checks of sweep
// start --dry-run (spec and objective options), and --name renames it.
func TestInitSpecs(t *testing.T) {
	for _, obj := range initObjectives {
		t.Run(obj, func(t *testing.T) {
			b, err := initSpec(obj, "", "")
			if err != nil {
				t.Fatal(err)
			}
			file := writeFile(t, t.TempDir(), "study.yaml", string(b))
			spec, _, err := parseStudy(file, b, func(string) string { return "" })
			if obj == "command" && err != nil {
				if _, lookErr := exec.LookPath("python3"); lookErr != nil && strings.Contains(err.Error(), "python3 not found in PATH") {
					t.Skip("python3 is not installed; the command template runs python3 train.py")
				}
			}
			if err != nil {
				t.Fatalf("%s template:\n%v", obj, err)
			}
			if spec.Study != "my-"+obj+"-study" || spec.Objective.Type != obj {
				t.Errorf("study %q objective %q", spec.Study, spec.Objective.Type)
			}
			if !strings.Contains(string(b), "# stop:") {
				t.Errorf("%s template does not show the stop conditions", obj)
			}
			renamed, err := initSpec(obj, "team lr sweep", "lr.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if s, err := search.ParseSpec("renamed", renamed); err != nil || s.Study != "team lr sweep" {
				t.Errorf("--name: %v", err)
			}
			if !strings.Contains(string(renamed), "sweep report 'team lr sweep'") || !strings.Contains(string(renamed), "sweep start lr.yaml --dry-run") {
				t.Errorf("comments do not follow --name and -o:\n%s", renamed)
			}
		})
	}
}

func TestRunInit(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "study.yaml")
	e, _, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"init", "-o", file}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want, _ := initSpec("synthetic", "", file)
	if got, err := os.ReadFile(file); err != nil || string(got) != string(want) {
		t.Fatalf("wrote %q (%v)", got, err)
	}
	if !strings.HasPrefix(errOut.String(), "wrote "+file+" (objective synthetic); check it with: sweep start ") {
		t.Errorf("stderr %q", errOut)
	}
	// An existing file is kept, unless --force.
	if err := os.WriteFile(file, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _, errOut, _ = newTestEnv(false)
	if code := run(context.Background(), e, []string{"init", "-o", file, "--objective", "cifar10"}); code != 1 ||
		errOut.String() != "sweep: "+file+" exists; pass --force to replace it, or -o another file\n" {
		t.Errorf("existing file: exit %d, stderr %q", code, errOut)
	}
	if got, _ := os.ReadFile(file); string(got) != "mine\n" {
		t.Errorf("existing file changed to %q", got)
	}
	e, _, _, _ = newTestEnv(false)
	if code := run(context.Background(), e, []string{"init", "-o", file, "--objective", "cifar10", "--force"}); code != 0 {
		t.Errorf("--force: exit %d", code)
	}
	if got, _ := os.ReadFile(file); !strings.Contains(string(got), "type: cifar10") {
		t.Errorf("--force did not replace the file:\n%s", got)
	}
	e, out, _, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"init", "--objective", "command", "-o", "-"}); code != 0 || !strings.Contains(out.String(), "type: command") {
		t.Errorf("-o -: exit %d, stdout:\n%s", code, out)
	}
}

// TestRunInit_SyntheticRuns: the synthetic spec runs as written.
func TestRunInit_SyntheticRuns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "study.yaml")
	e, _, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"init", "-o", file}); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	e, out, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"start", file, "--workers", "4", "--db", pgtest.DSN(t)}); code != 0 {
		t.Fatalf("start: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out.String(), "30 trial(s) run here: ") || !strings.Contains(out.String(), "best so far: trial ") {
		t.Errorf("start output:\n%s", out)
	}
}

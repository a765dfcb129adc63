package command_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sweep/objective"
	"sweep/objective/command"
	"sweep/objective/objectivetest"
	"sweep/trainer/engine/cuda/devsched"
)

// setup is one test's objective: a temporary spec directory holding the
// program, and the run directory under it.
type setup struct {
	dir string
	cfg command.Config
}

// newSetup writes script (a sh script unless it starts with #!) as
// prog in a temporary directory and configures argv to run it there.
func newSetup(tb testing.TB, script string, mut func(*command.Config)) *setup {
	tb.Helper()
	dir := tb.TempDir()
	if !strings.HasPrefix(script, "#!") {
		script = "#!/bin/sh\n" + script
	}
	if err := os.WriteFile(filepath.Join(dir, "prog"), []byte(script), 0o755); err != nil {
		tb.Fatal(err)
	}
	cfg := command.DefaultConfig()
	cfg.Argv, cfg.Dir, cfg.Study, cfg.Metric = []string{"./prog"}, dir, "s", "val_acc"
	cfg.KillGrace = 2 * time.Second
	if mut != nil {
		mut(&cfg)
	}
	return &setup{dir: dir, cfg: cfg}
}

func (s *setup) objective(tb testing.TB) *command.Objective {
	tb.Helper()
	o, err := command.New(s.cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

// trialFile reads a file of trial number's directory.
func (s *setup) trialFile(tb testing.TB, number int, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "runs", "s", strconv.Itoa(number), name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// run runs one trial with number 1 and params p.
func (s *setup) run(tb testing.TB, p objective.Params, rep *objectivetest.Reporter) (objective.Result, error) {
	tb.Helper()
	if rep == nil {
		rep = &objectivetest.Reporter{}
	}
	rep.Study, rep.Number = "s", 1
	return s.objective(tb).Run(context.Background(), p, rep)
}

// pidRuns reports whether pid is a running, non-zombie process.
func pidRuns(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && len(b) > i+2 && b[i+2] != 'Z' && b[i+2] != 'X'
}

// The command objective passes the conformance suite every objective runs.
func TestObjective_Conformance(t *testing.T) {
	s := newSetup(t, `for i in 1 2 3; do echo "step=$i val_acc=0.$i"; sleep 0.05; done`, nil)
	objectivetest.Suite{
		New:    func(tb testing.TB) objective.Objective { return s.objective(tb) },
		Params: objective.Params{"lr": 0.1},
	}.Run(t)
}

func TestObjective_Run_Formats(t *testing.T) {
	for _, tc := range []struct {
		name, report, regex, script string
		want                        float64
		steps                       []int
		attrs                       string
	}{
		{"json", "json", "", "#!/usr/bin/python3\n" + `import json
for s in (1, 2, 3):
    print(json.dumps({"step": s, "val_acc": s / 10, "train_loss": 1 / s}), flush=True)
print(json.dumps({"val_acc": 0.25, "test_acc": 0.24}))`, 0.25, []int{1, 2, 3}, "test_acc=0.24"},
		{"keyvalue", "keyvalue", "", `echo "Namespace(lr=0.1)"; for i in 1 2; do echo "step=$i val_acc=0.$i train_loss=$i"; done`, 0.2, []int{1, 2}, ""},
		{"regex", "regex", `^ep (?P<step>\d+) acc (?P<value>[0-9.]+) loss (?P<train_loss>[0-9.]+)`, `echo "ep 1 acc 0.5 loss 2"; echo "noise ep 9"; echo "ep 2 acc 0.6 loss 1"`, 0.6, []int{1, 2}, ""},
		{"auto", "auto", "", `echo '{"step": 1, "val_acc": 0.3, "train_loss": 1}'; echo 'step=2 val_acc=0.4 train_loss=0.5'; echo 'step=2 val_acc=0.9'`, 0.4, []int{1, 2}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, tc.script, func(c *command.Config) { c.Report, c.Regex = tc.report, tc.regex })
			rep := &objectivetest.Reporter{}
			res, err := s.run(t, nil, rep)
			if err != nil {
				t.Fatalf("Run: %v\nstdout: %s", err, s.trialFile(t, 1, "stdout.log"))
			}
			if res.Value != tc.want || !slices.Equal(rep.Steps(), tc.steps) {
				t.Errorf("value %g steps %v, want %g %v", res.Value, rep.Steps(), tc.want, tc.steps)
			}
			if m := rep.Metrics(1); m["train_loss"] == 0 || m["val_acc"] == 0 {
				t.Errorf("metrics at step 1: %v, want train_loss and val_acc", m)
			}
			if k, v, ok := strings.Cut(tc.attrs, "="); ok && res.Attrs[k] != v {
				t.Errorf("attrs %v, want %s", res.Attrs, tc.attrs)
			}
			if res.Attrs["trial_dir"] != filepath.Join(s.dir, "runs", "s", "1") {
				t.Errorf("attr trial_dir %q", res.Attrs["trial_dir"])
			}
		})
	}
}

// envScript writes what the program received into its trial directory.
const envScript = `printf '%s\n' "$@" > "$SWEEP_TRIAL_DIR/args"
env | grep -E '^(SWEEP_|CUDA_VISIBLE_DEVICES|MY_VAR)' | sort > "$SWEEP_TRIAL_DIR/env"
echo "val_acc=1"`

func TestObjective_Run_Params(t *testing.T) {
	params := objective.Params{"lr": 0.001, "layers": 3, "opt": "sgd", "nesterov": true}
	t.Run("Appended", func(t *testing.T) {
		s := newSetup(t, envScript, func(c *command.Config) {
			c.Argv = append(c.Argv, "--epochs", "2")
			c.Params = []string{"lr", "layers", "opt", "nesterov", "absent"}
			c.Env = map[string]string{"MY_VAR": "from spec"}
			c.BaseEnv = []string{"PATH=" + os.Getenv("PATH"), "MY_VAR=base", "CUDA_VISIBLE_DEVICES=7",
				"SWEEP_DB=postgres://sweep:hunter2@db/sweep", "PGPASSWORD=hunter2"}
		})
		if _, err := s.run(t, params, nil); err != nil {
			t.Fatal(err)
		}
		if got, want := s.trialFile(t, 1, "args"), "--epochs\n2\n--layers=3\n--lr=0.001\n--nesterov=true\n--opt=sgd\n"; got != want {
			t.Errorf("args:\n%s\nwant:\n%s", got, want)
		}
		dir := filepath.Join(s.dir, "runs", "s", "1")
		for _, want := range []string{
			"CUDA_VISIBLE_DEVICES=7", "MY_VAR=from spec", `SWEEP_PARAMS={"layers":3,"lr":0.001,"nesterov":true,"opt":"sgd"}`,
			"SWEEP_STUDY=s", "SWEEP_TRIAL=1", "SWEEP_TRIAL_DIR=" + dir, "SWEEP_METRIC=val_acc", "SWEEP_CONTROL=" + filepath.Join(dir, "control"),
		} {
			if !slices.Contains(strings.Split(s.trialFile(t, 1, "env"), "\n"), want) {
				t.Errorf("env lacks %s:\n%s", want, s.trialFile(t, 1, "env"))
			}
		}
		if env := s.trialFile(t, 1, "env"); strings.Contains(env, "hunter2") {
			t.Errorf("the worker's database password reached the program:\n%s", env)
		}
		var got objective.Params
		if err := json.Unmarshal([]byte(s.trialFile(t, 1, "params.json")), &got); err != nil || got["opt"] != "sgd" || got["lr"] != 0.001 {
			t.Errorf("params.json %v (%v)", got, err)
		}
	})
	t.Run("Placeholders", func(t *testing.T) {
		s := newSetup(t, envScript, func(c *command.Config) {
			c.Argv = append(c.Argv, "--lr", "{lr}", "--out={trial_dir}/ckpt-{trial}", "{absent}", "{}", `{"json": 1}`)
			c.Params = []string{"lr", "layers", "opt", "nesterov", "absent"}
		})
		if _, err := s.run(t, params, nil); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(s.dir, "runs", "s", "1")
		want := "--lr\n0.001\n--out=" + dir + "/ckpt-1\n\n{}\n{\"json\": 1}\n"
		if got := s.trialFile(t, 1, "args"); got != want {
			t.Errorf("args:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("Devices", func(t *testing.T) {
		s := newSetup(t, envScript, nil)
		o := s.objective(t)
		for i, tc := range []struct {
			slot devsched.Slot
			want string
		}{{devsched.Slot{Device: 1}, "CUDA_VISIBLE_DEVICES=1"}, {devsched.CPU, "CUDA_VISIBLE_DEVICES="}} {
			if _, err := o.RunOn(context.Background(), tc.slot, nil, &objectivetest.Reporter{Study: "s", Number: i}); err != nil {
				t.Fatal(err)
			}
			if env := s.trialFile(t, i, "env"); !slices.Contains(strings.Split(env, "\n"), tc.want) {
				t.Errorf("slot %s: env lacks %s:\n%s", tc.slot, tc.want, env)
			}
		}
	})
}

// treeScript starts a grandchild, reports a step every 20 ms, and writes
// both pids where the test finds them. With trap it ignores SIGTERM, as
// does its grandchild (an ignored signal stays ignored across exec).
func treeScript(trap string) string {
	return trap + `
sleep 300 &
echo "$$ $!" > "$SWEEP_TRIAL_DIR/pids"
i=1
while :; do echo "step=$i val_acc=0.$i"; i=$((i+1)); sleep 0.02; done`
}

// pids reads the program's and its grandchild's pids.
func (s *setup) pids(tb testing.TB, number int) []int {
	tb.Helper()
	var out []int
	for _, f := range strings.Fields(s.trialFile(tb, number, "pids")) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, pid)
	}
	return out
}

func TestObjective_Run_Prune(t *testing.T) {
	for _, tc := range []struct{ name, trap string }{{"Terminates", ""}, {"IgnoresSIGTERM", "trap '' TERM"}} {
		t.Run(tc.name, func(t *testing.T) {
			grace := 500 * time.Millisecond
			s := newSetup(t, treeScript(tc.trap), func(c *command.Config) { c.KillGrace = grace })
			var pruned time.Time
			rep := &objectivetest.Reporter{ReportFunc: func(step int, _ float64) (bool, error) {
				if step == 3 {
					pruned = time.Now()
				}
				return step == 3, nil
			}}
			res, err := s.run(t, nil, rep)
			took := time.Since(pruned)
			if !errors.Is(err, objective.ErrPruned) || res.Value != 0.3 {
				t.Fatalf("Run: value %g, %v; want 0.3 and ErrPruned", res.Value, err)
			}
			for _, pid := range s.pids(t, 1) {
				if pidRuns(pid) {
					t.Errorf("process %d of the pruned trial still runs", pid)
				}
			}
			if got := s.trialFile(t, 1, "control"); got != "prune\n" {
				t.Errorf("control file %q, want prune", got)
			}
			if tc.trap != "" && took < grace {
				t.Errorf("a program ignoring SIGTERM ended %s after the prune, within the %s grace", took, grace)
			}
			if steps := rep.Steps(); steps[len(steps)-1] != 3 {
				t.Errorf("reports after the prune reached the Reporter: %v", steps)
			}
		})
	}
}

func TestObjective_Run_Stops(t *testing.T) {
	t.Run("Timeout", func(t *testing.T) {
		s := newSetup(t, treeScript(""), func(c *command.Config) { c.Timeout = time.Second })
		_, err := s.run(t, nil, nil)
		if !errors.Is(err, command.ErrProgram) || !strings.Contains(err.Error(), "timeout after 1s") {
			t.Fatalf("Run: %v, want a timeout", err)
		}
		for _, pid := range s.pids(t, 1) {
			if pidRuns(pid) {
				t.Errorf("process %d outlived the timeout", pid)
			}
		}
	})
	t.Run("Cancel", func(t *testing.T) {
		s := newSetup(t, treeScript("trap '' TERM"), func(c *command.Config) { c.KillGrace = 200 * time.Millisecond })
		ctx, cancel := context.WithCancel(context.Background())
		rep := &objectivetest.Reporter{Study: "s", Number: 1, ReportFunc: func(int, float64) (bool, error) {
			cancel()
			return false, nil
		}}
		_, err := s.objective(t).Run(ctx, nil, rep)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v, want context.Canceled", err)
		}
		for _, pid := range s.pids(t, 1) {
			if pidRuns(pid) {
				t.Errorf("process %d outlived the interrupt", pid)
			}
		}
	})
}

func TestObjective_Run_Failures(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		want         []string // substrings of the error
		not          string
	}{
		{"Crash", `echo "step=1 val_acc=0.5"; i=1; while [ $i -le 30 ]; do echo "err line $i" >&2; i=$((i+1)); done; exit 3`,
			[]string{"program ended with exit status 3", "last 20 lines of stderr", "err line 11\n", "err line 30"}, "err line 10\n"},
		{"Signal", `echo "step=1 val_acc=0.5"; kill -SEGV $$`, []string{"signal: segmentation fault"}, ""},
		{"NoValue", `echo "training..."; echo "step=1 loss=0.3"`, []string{"exited 0", "without reporting val_acc"}, ""},
		{"NaN", `echo "step=1 val_acc=0.5"; echo "step=2 val_acc=nan"; sleep 300`, []string{"program reported val_acc=NaN at step 2"}, ""},
		{"FinalInf", `echo "step=1 val_acc=0.5"; echo '{"val_acc": Infinity}'`, []string{"val_acc=+Inf in its final report"}, ""},
		{"Missing", `exec ./no-such-program`, []string{"exit status 127", "no-such-program"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, tc.script, nil)
			_, err := s.run(t, nil, nil)
			if !errors.Is(err, command.ErrProgram) {
				t.Fatalf("Run: %v, want ErrProgram", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if tc.not != "" && strings.Contains(err.Error(), tc.not) {
				t.Errorf("error holds %q:\n%v", tc.not, err)
			}
		})
	}
	t.Run("StderrKept", func(t *testing.T) {
		s := newSetup(t, `i=1; while [ $i -le 30 ]; do echo "err line $i" >&2; i=$((i+1)); done; exit 1`, nil)
		s.run(t, nil, nil)
		if got := strings.Count(s.trialFile(t, 1, "stderr.log"), "err line"); got != 30 {
			t.Errorf("stderr.log holds %d lines, want 30", got)
		}
	})
}

// Garbage on stdout (binary bytes, broken JSON, a 2 MiB line holding a
// report) is log; the reports around it count.
func TestObjective_Run_Garbage(t *testing.T) {
	s := newSetup(t, `echo "step=1 val_acc=0.1"
head -c 100000 /dev/urandom
echo
echo '{"step": 2, "val_acc":'
printf 'step=9 val_acc=0.99 '; head -c 2097152 /dev/zero | tr '\0' 'x'; echo
echo "step=2 val_acc=0.2"`, nil)
	rep := &objectivetest.Reporter{}
	res, err := s.run(t, nil, rep)
	if err != nil {
		t.Fatal(err)
	}
	if res.Value != 0.2 || !slices.Equal(rep.Steps(), []int{1, 2}) {
		t.Errorf("value %g steps %v, want 0.2 [1 2]", res.Value, rep.Steps())
	}
}

// A program writing far more than the log keeps is read to the end, so it
// never blocks, and its log is cut with a note.
func TestObjective_Run_HugeStdout(t *testing.T) {
	const limit = 1 << 20
	s := newSetup(t, `echo "step=1 val_acc=0.1"; head -c 30000000 /dev/zero | tr '\0' 'y' | fold -w 1000; echo; echo "step=2 val_acc=0.2"`,
		func(c *command.Config) { c.LogLimit = limit })
	res, err := s.run(t, nil, nil)
	if err != nil || res.Value != 0.2 {
		t.Fatalf("Run: %g, %v", res.Value, err)
	}
	log := s.trialFile(t, 1, "stdout.log")
	if len(log) < limit || len(log) > limit+200 || !strings.HasSuffix(log, "further output was read and dropped]\n") {
		t.Fatalf("stdout.log: %d bytes ending %q; want %d and a note", len(log), log[max(0, len(log)-100):], limit)
	}
}

func TestObjective_Run_Parallel(t *testing.T) {
	s := newSetup(t, `for i in 1 2 3; do echo "step=$i val_acc=$SWEEP_TRIAL.$i"; sleep 0.01; done`, nil)
	o := s.objective(t)
	const n = 16
	var wg sync.WaitGroup
	errs, vals := make([]error, n), make([]float64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res objective.Result
			res, errs[i] = o.Run(context.Background(), nil, &objectivetest.Reporter{Study: "s", Number: i + 1})
			vals[i] = res.Value
		}()
	}
	wg.Wait()
	for i := range n {
		want, _ := strconv.ParseFloat(strconv.Itoa(i+1)+".3", 64)
		if errs[i] != nil || vals[i] != want {
			t.Errorf("trial %d: %g, %v; want %g", i+1, vals[i], errs[i], want)
		}
	}
}

// The Python helper: report() prints JSON lines sweep reads, and a program
// that handles SIGTERM tells a prune apart with should_prune().
func TestObjective_Run_PythonClient(t *testing.T) {
	client, err := filepath.Abs("../../clients/python")
	if err != nil {
		t.Fatal(err)
	}
	s := newSetup(t, "#!/usr/bin/python3\n"+`import os, signal, sys, time
import sweep_report as sweep
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
p = sweep.params()
for step in range(1, 1000):
    sweep.report(step, val_acc=p["lr"] * step, train_loss=1.0 / step)
    time.sleep(0.02)
    if stop:
        with open(os.path.join(os.environ["SWEEP_TRIAL_DIR"], "clean"), "w") as f:
            f.write("pruned" if sweep.should_prune() else "stopped")
        sys.exit(0)
`, func(c *command.Config) { c.Env = map[string]string{"PYTHONPATH": client} })
	rep := &objectivetest.Reporter{ReportFunc: func(step int, _ float64) (bool, error) { return step == 2, nil }}
	res, err := s.run(t, objective.Params{"lr": 0.25}, rep)
	if !errors.Is(err, objective.ErrPruned) || res.Value != 0.5 {
		t.Fatalf("Run: %g, %v; want 0.5 and ErrPruned", res.Value, err)
	}
	if got := s.trialFile(t, 1, "clean"); got != "pruned" {
		t.Errorf("the program saw %q, want pruned", got)
	}
	if m := rep.Metrics(2); m["train_loss"] != 0.5 {
		t.Errorf("metrics at step 2: %v", m)
	}
}

func TestObjective_Run_KillWorker(t *testing.T) {
	if os.Getenv("SWEEP_TEST_WORKER_DIR") != "" {
		return // the worker itself: see TestMain
	}
	dir := t.TempDir()
	worker, err := os.StartProcess(os.Args[0], []string{os.Args[0], "-test.run=^$"}, &os.ProcAttr{
		Env:   append(os.Environ(), "SWEEP_TEST_WORKER_DIR="+dir),
		Files: []*os.File{nil, os.Stderr, os.Stderr},
	})
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "runs", "worker", "0", "pids")
	var pids []int
	for range 1000 {
		if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
			for _, f := range strings.Fields(string(b)) {
				pid, _ := strconv.Atoi(f)
				pids = append(pids, pid)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(pids) == 0 {
		worker.Kill()
		t.Fatal("the worker's program never started")
	}
	if err := worker.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	worker.Wait()
	for _, pid := range pids {
		for i := 0; pidRuns(pid); i++ {
			if i == 500 {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("process %d outlived its kill -9'd worker", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestMain doubles as the worker TestObjective_Run_KillWorker kills: with
// SWEEP_TEST_WORKER_DIR set it runs one trial of a program (a shell) whose
// child sleeps, until it is killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SWEEP_TEST_WORKER_DIR"); dir != "" {
		cfg := command.DefaultConfig()
		cfg.Argv = []string{"sh", "-c", `sleep 300 & echo "$$ $!" > "$SWEEP_TRIAL_DIR/pids.tmp"; mv "$SWEEP_TRIAL_DIR/pids.tmp" "$SWEEP_TRIAL_DIR/pids"; wait`}
		cfg.Dir, cfg.Study, cfg.Metric = dir, "worker", "val_acc"
		o, err := command.New(cfg)
		if err != nil {
			panic(err)
		}
		o.Run(context.Background(), nil, &objectivetest.Reporter{Study: "worker", Number: 0})
		os.Exit(1)
	}
	os.Exit(m.Run())
}

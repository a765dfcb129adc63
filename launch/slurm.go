package launch

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Slurm is a request for an sbatch job array: task i of the array runs one
// `sweep worker` on the study.
type Slurm struct {
	Request
	// Time is the array tasks' time limit in a form sbatch accepts
	// ("4:00:00", "1-12:00:00", "90"); empty leaves the partition's.
	Time string
	// Partition is the partition to run in; empty is the default one.
	Partition string
	// Requeue lets Slurm requeue a preempted or failed-node task
	// (--requeue); false asks it not to (--no-requeue).
	Requeue bool
	// Binary is the sweep executable as the compute nodes see it.
	Binary string
	// DSNFile is the absolute path of a file, readable only by its owner,
	// whose first line is the DSN; the script exports SWEEP_DB=@DSNFile.
	// Empty: the script needs SWEEP_DB in the environment sbatch passes on
	// (its default, --export=ALL) and stops when it is missing.
	DSNFile string
	// LogDir is where each task's output goes (%x-%A_%a.out); empty is
	// sbatch's working directory.
	LogDir string
	// DrainBefore is how long before the time limit Slurm sends the worker
	// SIGTERM, which drains it like a first Ctrl-C: running trials get that
	// long to finish. Zero means 2 minutes.
	DrainBefore time.Duration
}

// slurmTime is what sbatch --time accepts: minutes, M:S, H:M:S, D-H,
// D-H:M, D-H:M:S.
var slurmTime = regexp.MustCompile(`^(\d+-)?\d+(:\d+){0,2}$`)

// check validates the Slurm fields.
func (s Slurm) check() error {
	if err := s.Request.check(); err != nil {
		return err
	}
	switch {
	case s.Time != "" && !slurmTime.MatchString(s.Time):
		return fmt.Errorf("launch: time %q: want minutes, H:MM:SS or D-HH:MM:SS", s.Time)
	case strings.ContainsAny(s.Partition, " \t\n'\"#"):
		return fmt.Errorf("launch: partition %q: no spaces, quotes or #", s.Partition)
	case s.Binary == "":
		return fmt.Errorf("launch: no sweep binary path")
	case s.DSNFile != "" && !filepath.IsAbs(s.DSNFile):
		return fmt.Errorf("launch: DSN file %q: want an absolute path (tasks start elsewhere)", s.DSNFile)
	case s.LogDir != "" && strings.ContainsAny(s.LogDir, " \t\n'\"#"):
		return fmt.Errorf("launch: log dir %q: no spaces, quotes or #", s.LogDir)
	}
	return nil
}

// SlurmScript returns the sbatch script for s. The DSN is never in it.
func SlurmScript(s Slurm) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	if s.DrainBefore <= 0 {
		s.DrainBefore = 2 * time.Minute
	}
	var b strings.Builder
	dir := func(format string, args ...any) { fmt.Fprintf(&b, "#SBATCH "+format+"\n", args...) }
	b.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&b, "# Written by sweep launch slurm: each task of this array is one sweep worker of\n"+
		"# study %s; the database hands out its trials. Submit with: sbatch THIS_FILE\n", oneLine(s.Study))
	dir("--job-name=sweep-%s", dnsLabel(s.Study, 40))
	dir("--array=0-%d", s.Workers-1)
	dir("--ntasks=1")
	if s.CPUsPerWorker > 0 {
		dir("--cpus-per-task=%d", s.CPUsPerWorker)
	}
	if s.GPUsPerWorker > 0 {
		dir("--gres=gpu:%d", s.GPUsPerWorker)
	}
	if s.Time != "" {
		dir("--time=%s", s.Time)
	}
	if s.Partition != "" {
		dir("--partition=%s", s.Partition)
	}
	if s.Requeue {
		dir("--requeue")
	} else {
		dir("--no-requeue")
	}
	// B: signals the batch shell, which exec's the worker: it drains on
	// SIGTERM, as it does when scancel or preemption sends one.
	dir("--signal=B:TERM@%d", int(s.DrainBefore.Seconds()))
	out := "%x-%A_%a.out"
	if s.LogDir != "" {
		out = filepath.Join(s.LogDir, out)
	}
	dir("--output=%s", out)
	b.WriteString("\nset -euo pipefail\n")
	if s.DSNFile != "" {
		fmt.Fprintf(&b, "# The DSN stays in a file only its owner reads, never in this script.\nexport SWEEP_DB=%s\n",
			shellQuote("@"+s.DSNFile))
	} else {
		b.WriteString(": \"${SWEEP_DB:?set SWEEP_DB (or SWEEP_DB=@FILE) in the environment you run sbatch from}\"\n")
	}
	args := []string{shellQuote(s.Binary)}
	for _, a := range s.workerArgs() {
		args = append(args, shellQuote(a))
	}
	b.WriteString("# The worker stores SLURM_ARRAY_JOB_ID and SLURM_ARRAY_TASK_ID in its id (sweep status).\n")
	fmt.Fprintf(&b, "exec %s\n", strings.Join(args, " "))
	return b.String(), nil
}

// oneLine keeps a name on one comment line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

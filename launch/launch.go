// Package launch turns a study and a launch request into the files a batch
// system runs: an sbatch job-array script for Slurm (slurm.go), and a
// ConfigMap plus an Indexed Job for Kubernetes (k8s.go). One array task or
// pod is one `sweep worker` process; the database hands out the trials.
//
// It is pure, "request → file contents": it does not create the study,
// read the environment, write files, or run sbatch or kubectl (cmd/sweep's
// launch command does), and it never puts a DSN into what it writes. A
// Slurm script reads the DSN from a file readable only by its owner or from
// the submitting environment; a Kubernetes Job from a Secret.
package launch

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Request is what every launcher needs.
type Request struct {
	// Study is the study's name (the spec's `name`).
	Study string
	// Workers is the number of worker processes: array tasks or pods.
	Workers int
	// Slots is each worker's parallel trials (sweep worker --workers); 0
	// leaves it to the stored spec.
	Slots int
	// GPUsPerWorker and CPUsPerWorker are each worker's resources; 0 asks
	// for none (GPUs) or leaves the batch system's default (CPUs).
	GPUsPerWorker, CPUsPerWorker int
	// MaxConns is each worker's database connection budget (sweep worker
	// --max-conns); 0 leaves sweep's default.
	MaxConns int
	// HeartbeatGrace is the spec's heartbeat.grace: how long a killed
	// worker's trial stays RUNNING before another worker reaps it.
	HeartbeatGrace time.Duration
}

// Sentinel errors of launch.
var (
	ErrNoStudy   = errors.New("launch: no study name")
	ErrNoWorkers = errors.New("launch: workers must be at least 1")
	ErrNegative  = errors.New("launch: resources must not be negative")
)

// maxWorkers bounds a launch: Slurm's default MaxArraySize is 1001, and
// beyond a few thousand workers one database needs the tiers docs/scale.md
// describes.
const maxWorkers = 10000

// check validates the fields every launcher uses.
func (r Request) check() error {
	switch {
	case strings.TrimSpace(r.Study) == "":
		return ErrNoStudy
	case r.Workers < 1:
		return fmt.Errorf("%w (got %d)", ErrNoWorkers, r.Workers)
	case r.Workers > maxWorkers:
		return fmt.Errorf("launch: %d workers: at most %d", r.Workers, maxWorkers)
	case r.Slots < 0 || r.GPUsPerWorker < 0 || r.CPUsPerWorker < 0 || r.MaxConns < 0:
		return ErrNegative
	}
	return nil
}

// workerArgs is the `sweep worker` argument list after the binary.
func (r Request) workerArgs() []string {
	args := []string{"worker", r.Study}
	if r.Slots > 0 {
		args = append(args, "--workers", fmt.Sprint(r.Slots))
	}
	if r.MaxConns > 0 {
		args = append(args, "--max-conns", fmt.Sprint(r.MaxConns))
	}
	return args
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r == '@' || r == '=' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dnsLabel turns name into a lowercase RFC 1123 label of at most n bytes,
// for Kubernetes object names and Slurm job names.
func dnsLabel(name string, n int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := b.String()
	if len(s) > n {
		s = s[:n]
	}
	s = strings.TrimRight(s, "-")
	if s == "" {
		s = "study"
	}
	return s
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"sweep/internal/safetext"
	"sweep/launch"
	"sweep/optuna"
	"sweep/sweep"
	"sweep/sweep/postgres"
)

// launchOptions are the flags and arguments of `sweep launch slurm|k8s`.
type launchOptions struct {
	env      *env
	Engine   string // "slurm" or "k8s"
	File     string
	DB       string
	PGDir    string
	Workers  int // worker processes: array tasks or pods
	Slots    int // trial slots per worker (0: the spec's workers)
	GPUs     int
	CPUs     int
	MaxConns int
	Out      string // slurm: the script's path; k8s: "" prints to stdout
	// Slurm.
	Time      string
	Partition string
	Requeue   bool
	Submit    bool
	Binary    string // sweep on the compute nodes (default: this executable)
	LogDir    string
	// Kubernetes.
	Image     string
	DBSecret  string
	Namespace string
	Apply     bool
}

func newLaunchCmd(e *env, runF func(context.Context, *launchOptions) error) *cobra.Command {
	opts := &launchOptions{env: e}
	cmd := &cobra.Command{
		Use:   "launch",
		Short: "Launch a study's workers on Slurm or Kubernetes",
		Long: `Launch writes what a batch system needs to run --workers sweep worker processes
on a study: an sbatch job-array script (slurm) or a ConfigMap and an Indexed Job
(k8s). The DSN never goes into them: Slurm tasks read it from a file only you
can read (or from SWEEP_DB), Kubernetes pods from a Secret. Through PgBouncer
(sweep db up --pooler) hundreds of workers share one database; see
docs/scale.md and docs/kubernetes.md.`,
	}
	run := func(engine string) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			opts.Engine, opts.File = engine, args[0]
			if err := checkLaunch(opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLaunch(cmd.Context(), opts)
		}
	}
	slurm := &cobra.Command{
		Use:   "slurm STUDY.yaml",
		Short: "Create the study and write (and with --submit, submit) an sbatch job array",
		Example: `  sweep launch slurm cifar.yaml --workers 8 --gpus-per-worker 1 --time 4:00:00 --submit
  SWEEP_DB=@$HOME/.sweep-db sweep launch slurm cifar.yaml --workers 32 --partition gpu --requeue`,
		Args: cobra.ExactArgs(1),
		RunE: run("slurm"),
	}
	k8s := &cobra.Command{
		Use:   "k8s STUDY.yaml",
		Short: "Print a ConfigMap and an Indexed Job (with --apply, pipe them to kubectl apply)",
		Example: `  kubectl create secret generic sweep-db --from-literal=dsn='postgres://sweep@db/sweep'
  sweep launch k8s cifar.yaml --workers 8 --image registry.example/sweep:1 --gpus-per-worker 1 --apply`,
		Args: cobra.ExactArgs(1),
		RunE: run("k8s"),
	}
	for _, c := range []*cobra.Command{slurm, k8s} {
		f := c.Flags()
		f.IntVar(&opts.Workers, "workers", 0, "worker processes to launch (array tasks or pods; required)")
		f.IntVar(&opts.Slots, "slots", 0, "trial slots in each worker (default: the spec's workers)")
		f.IntVar(&opts.GPUs, "gpus-per-worker", 0, "GPUs each worker gets")
		f.IntVar(&opts.CPUs, "cpus-per-worker", 0, "CPUs each worker gets (default: the batch system's)")
		f.IntVar(&opts.MaxConns, "max-conns", postgres.DefaultMaxOpenConns, "database connections per worker")
	}
	f := slurm.Flags()
	addDBFlags(f, &opts.DB, &opts.PGDir)
	f.StringVarP(&opts.Out, "out", "o", "", "where to write the script (default: sweep-STUDY.sbatch here)")
	f.StringVar(&opts.Time, "time", "", "time limit of each task (sbatch --time, e.g. 4:00:00)")
	f.StringVar(&opts.Partition, "partition", "", "Slurm partition")
	f.BoolVar(&opts.Requeue, "requeue", false, "let Slurm requeue preempted tasks (they drain on SIGTERM first)")
	f.BoolVar(&opts.Submit, "submit", false, "run sbatch on the script and print the job id")
	f.StringVar(&opts.Binary, "binary", "", "sweep's path on the compute nodes (default: this executable)")
	f.StringVar(&opts.LogDir, "log-dir", "", "directory for the tasks' output files (default: sbatch's working directory)")
	f = k8s.Flags()
	f.StringVar(&opts.Image, "image", "", "container image with sweep on PATH (required; see the Dockerfile)")
	f.StringVar(&opts.DBSecret, "db-secret", "sweep-db", "Secret whose key \"dsn\" holds the database DSN")
	f.StringVarP(&opts.Namespace, "namespace", "n", "", "namespace (default: kubectl's current one)")
	f.BoolVar(&opts.Apply, "apply", false, "pipe the manifests to kubectl apply -f - instead of printing them")
	cmd.AddCommand(slurm, k8s)
	return cmd
}

// checkLaunch validates the flags cobra cannot.
func checkLaunch(opts *launchOptions) error {
	switch {
	case opts.Workers < 1:
		return usageErrorf("--workers %d: want at least 1 worker process", opts.Workers)
	case opts.GPUs < 0 || opts.CPUs < 0 || opts.Slots < 0:
		return usageErrorf("--gpus-per-worker, --cpus-per-worker and --slots must not be negative")
	case opts.Engine == "k8s" && opts.Image == "":
		return usageErrorf("--image is required: the container image with sweep on PATH")
	}
	return checkMaxConns(opts.MaxConns)
}

// runLaunch reads and checks the spec, then hands over to the engine.
func runLaunch(ctx context.Context, opts *launchOptions) error {
	e := opts.env
	raw, err := readSpec(opts.File)
	if err != nil {
		return err
	}
	spec, _, err := parseStudy(opts.File, raw, e.Getenv)
	if err != nil {
		return specProblems(e.Err, opts.File, err)
	}
	req := launch.Request{Study: spec.Study, Workers: opts.Workers, Slots: opts.Slots, GPUsPerWorker: opts.GPUs,
		CPUsPerWorker: opts.CPUs, MaxConns: opts.MaxConns, HeartbeatGrace: spec.Heartbeat.Grace}
	if opts.Engine == "k8s" {
		return launchK8s(ctx, opts, req, raw)
	}
	src, err := resolveDSN(ctx, e, opts.DB, opts.PGDir, true)
	if err != nil {
		return err
	}
	store, err := postgres.Open(ctx, src.DSN)
	if err != nil {
		return connectError(ctx, src, err)
	}
	defer store.Close()
	// Create the study here, once, so that the tasks only join it.
	info, _, err := sweep.EnsureStudy(ctx, store, spec, raw, false)
	if err != nil {
		return fmt.Errorf("create study: %w", err)
	}
	if err := optuna.SyncDistributions(ctx, store.DB().DB, info.ID, spec.Params); err != nil {
		return err
	}
	return launchSlurm(ctx, opts, req, src)
}

// launchSlurm writes the DSN file (when needed) and the script, and
// submits it with --submit.
func launchSlurm(ctx context.Context, opts *launchOptions, req launch.Request, src dbSource) error {
	e := opts.env
	out := opts.Out
	if out == "" {
		out = launch.K8sName(req.Study) + ".sbatch"
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("resolve script path: %w", err)
	}
	bin := opts.Binary
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return fmt.Errorf("find sweep's path (pass --binary): %w", err)
		}
	}
	s := launch.Slurm{Request: req, Time: opts.Time, Partition: opts.Partition, Requeue: opts.Requeue, Binary: bin, LogDir: opts.LogDir}
	if s.DSNFile, err = dsnFile(e, opts, src, out); err != nil {
		return err
	}
	script, err := launch.SlurmScript(s)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(script), 0o644); err != nil {
		return fmt.Errorf("write script: %w", err)
	}
	fmt.Fprintf(e.Err, "wrote %s (%d tasks of study %s)\n", out, req.Workers, safetext.Terminal(req.Study))
	if !opts.Submit {
		fmt.Fprintf(e.Out, "%s\n", out)
		return nil
	}
	cmd := exec.CommandContext(ctx, "sbatch", "--parsable", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	id, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("run sbatch: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	job, _, _ := strings.Cut(strings.TrimSpace(string(id)), ";")
	fmt.Fprintf(e.Out, "%s\n", job)
	fmt.Fprintf(e.Err, "submitted Slurm job %s; sweep status %s shows its tasks' trials\n", job, shellQuote(req.Study))
	return nil
}

// dsnFile decides where the tasks read the DSN: the file named by --db
// @FILE or SWEEP_DB=@FILE (which must be readable only by its owner), ""
// when SWEEP_DB holds the DSN itself (sbatch passes the environment on), or
// else a new file next to the script, mode 0600.
func dsnFile(e *env, opts *launchOptions, src dbSource, script string) (string, error) {
	from := opts.DB
	if from == "" {
		from = strings.TrimSpace(e.Getenv("SWEEP_DB"))
		if from != "" && !strings.HasPrefix(from, "@") {
			return "", nil
		}
	}
	if name, ok := strings.CutPrefix(from, "@"); ok {
		abs, err := filepath.Abs(name)
		if err != nil {
			return "", fmt.Errorf("resolve DSN file: %w", err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return "", fmt.Errorf("check DSN file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("DSN file %s has mode %04o; the tasks read it, so only you may: chmod 600 %s",
				abs, fi.Mode().Perm(), shellQuote(abs))
		}
		return abs, nil
	}
	path := strings.TrimSuffix(script, ".sbatch") + ".dsn"
	if err := os.WriteFile(path, []byte(src.DSN+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write DSN file: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil { // an existing file keeps its mode otherwise
		return "", fmt.Errorf("write DSN file: %w", err)
	}
	return path, nil
}

// launchK8s prints the manifests, or pipes them to kubectl apply.
func launchK8s(ctx context.Context, opts *launchOptions, req launch.Request, raw []byte) error {
	e := opts.env
	out, err := launch.K8sManifests(launch.Kubernetes{Request: req, Spec: raw, Image: opts.Image,
		Namespace: opts.Namespace, DBSecret: opts.DBSecret})
	if err != nil {
		return err
	}
	if !opts.Apply {
		_, err := e.Out.Write(out)
		return err
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		return errors.New("--apply needs kubectl on PATH; without --apply the manifests are printed")
	}
	cmd := exec.CommandContext(ctx, kubectl, "apply", "-f", "-")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(out), e.Out, e.Err
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run kubectl apply: %w", err)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/c-bata/goptuna"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"sweep/internal/safetext"
	"sweep/objective"
	"sweep/search"
	"sweep/sweep"
	"sweep/sweep/postgres"
)

// workerOptions are the flags and arguments of `sweep worker`.
type workerOptions struct {
	env     *env
	Study   string
	DB      string
	PGDir   string
	Workers int // trial slots; 0 = the stored spec's workers
	// MaxConns is the process's database connection budget, the
	// heartbeat's included (0: postgres.DefaultMaxOpenConns).
	MaxConns int
}

func newWorkerCmd(e *env, runF func(context.Context, *workerOptions) error) *cobra.Command {
	opts := &workerOptions{env: e}
	cmd := &cobra.Command{
		Use:   "worker STUDY",
		Short: "Join a running study from another process or machine",
		Long: `Worker loads the study's stored spec from the database and runs its trials in
--workers parallel slots until the study's budget is spent, alongside every
other worker of the study. Interrupts behave as for sweep start.`,
		Example: `  sweep worker demo-synthetic --workers 4
  SWEEP_DB=postgres://me@db/sweep sweep worker cifar-resnet`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeStudies(e, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Study = args[0]
			if opts.Workers < 0 || opts.Workers > search.MaxWorkers {
				return usageErrorf("--workers %d: want between 1 and %d", opts.Workers, search.MaxWorkers)
			}
			if err := checkMaxConns(opts.MaxConns); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runWorker(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	addDBFlags(f, &opts.DB, &opts.PGDir)
	f.IntVarP(&opts.Workers, "workers", "w", 0, "parallel trial slots in this process (default: the spec's workers)")
	addMaxConnsFlag(f, &opts.MaxConns)
	return cmd
}

// addMaxConnsFlag registers --max-conns, the connection budget of a
// process that runs trials.
func addMaxConnsFlag(f *pflag.FlagSet, maxConns *int) {
	f.IntVar(maxConns, "max-conns", postgres.DefaultMaxOpenConns, "database connections this process may open, "+
		"the heartbeat's included (at least 2; hundreds of workers: put PgBouncer in front, sweep db up --pooler)")
}

// checkMaxConns refuses a budget below one pooled plus one heartbeat
// connection.
func checkMaxConns(n int) error {
	if n < 2 {
		return usageErrorf("--max-conns %d: want at least 2 (one for heartbeats, one for the rest)", n)
	}
	return nil
}

// launcherTag names the batch system's task that runs this process, from
// the variables Slurm and an Indexed Job of Kubernetes set: "+slurm:JOB_TASK"
// or "+k8s:POD#INDEX", "" elsewhere. It is appended to the worker id, which
// trials store and sweep status shows, so a stuck trial leads to its job.
func launcherTag(getenv func(string) string) string {
	if job := getenv("SLURM_ARRAY_JOB_ID"); job != "" {
		return "+slurm:" + job + "_" + getenv("SLURM_ARRAY_TASK_ID")
	}
	if job := getenv("SLURM_JOB_ID"); job != "" {
		return "+slurm:" + job
	}
	if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" {
		pod := getenv("POD_NAME")
		if pod == "" {
			pod = getenv("HOSTNAME")
		}
		return "+k8s:" + pod + "#" + idx
	}
	return ""
}

// runWorker runs trials of a stored study.
func runWorker(ctx context.Context, opts *workerOptions) error {
	e := opts.env
	store, err := openWorkerStore(ctx, e, opts.DB, opts.PGDir, opts.MaxConns)
	if err != nil {
		return err
	}
	defer store.Close()
	info, spec, err := loadStudy(ctx, store, opts.Study)
	if err != nil {
		return err
	}
	obj, err := newObjective(spec, e.Getenv)
	if err != nil {
		return specProblems(e.Err, "stored spec of "+opts.Study, err)
	}
	return work(ctx, e, store, info, spec, obj, opts.Workers, "joining")
}

// loadStudy loads a study and parses its stored spec.
func loadStudy(ctx context.Context, store sweep.Store, name string) (sweep.StudyInfo, *search.Spec, error) {
	info, err := store.Study(ctx, name)
	if errors.Is(err, sweep.ErrStudyNotFound) {
		return info, nil, fmt.Errorf("no study named %q (sweep status lists them)", name)
	}
	if err != nil {
		return info, nil, fmt.Errorf("load study: %w", err)
	}
	spec, err := search.ParseSpec("stored spec of "+name, info.Spec)
	if err != nil {
		return info, nil, fmt.Errorf("parse stored spec: %w", err)
	}
	return info, spec, nil
}

// work runs one worker process's slots on a study with the two-stage
// interrupt, then prints what it did and the best trial so far.
func work(ctx context.Context, e *env, store *postgres.Storage, info sweep.StudyInfo, spec *search.Spec, obj objective.Objective, slots int, verb string) error {
	if slots == 0 {
		slots = spec.Workers
	}
	if err := prepareObjective(obj, slots, e.Err); err != nil { // find GPUs, plan device slots
		return err
	}
	existing, err := store.GetAllTrials(info.ID)
	if err != nil {
		return fmt.Errorf("load trials: %w", err)
	}
	fmt.Fprintf(e.Err, "study %s: %s; %d of %d trials exist; running %d slot(s)\n", safetext.Terminal(info.Name), verb, len(existing), info.Trials, slots)
	if budgetSpent(existing, info.Trials) {
		fmt.Fprintf(e.Err, "study %s has all its %d trials; nothing to run (raise trials and use --force-update to run more)\n", safetext.Terminal(info.Name), info.Trials)
	}
	if info.Status == "finished" && len(existing) < info.Trials {
		// --force-update raised the budget of a finished study.
		if err := store.SetStudyStatus(ctx, info.ID, "running"); err != nil {
			return fmt.Errorf("reopen study: %w", err)
		}
	}
	host, _ := os.Hostname()
	sigs, stopSignals := e.Signals()
	defer stopSignals()
	disp := sweep.NewDisplay(e.Err, e.IsTTY, slots, e.Now)
	hard, drain, stop := sweep.Interrupts(ctx, sigs, disp.Logf)
	defer stop()
	w := &sweep.Worker{Store: store, Study: info, Spec: spec, Objective: obj, Slots: slots, Host: host, Display: disp, Now: e.Now,
		ID: sweep.NewWorkerID(host) + launcherTag(e.Getenv)}
	if base := runBase(e.Getenv); base != "" {
		w.JournalDir = sweep.StudyRunDir(base, info.Name)
	}
	sum, runErr := w.Run(hard, drain)
	fmt.Fprintf(e.Out, "%d trial(s) run here: %d complete, %d pruned, %d failed", sum.Total(), sum.Complete, sum.Pruned, sum.Failed)
	if sum.Rejected+sum.Unrecorded > 0 {
		fmt.Fprintf(e.Out, ", %d rejected (finished elsewhere), %d not recorded", sum.Rejected, sum.Unrecorded)
	}
	fmt.Fprintln(e.Out)
	best, bestErr := store.GetBestTrial(info.ID)
	complete := bestErr == nil && best.State == goptuna.TrialStateComplete
	if complete {
		fmt.Fprintf(e.Out, "best so far: trial %d %s=%.4f  %s\n", best.Number, spec.Metric, best.Value, safetext.Terminal(formatStored(spec.Params, best.Params)))
	}
	if sum.Stopped != "" {
		fmt.Fprintf(e.Out, "study stopped: %s\n", safetext.Terminal(sum.Stopped))
		fmt.Fprintln(e.Err, "to go on, change stop: in the spec and run sweep start SPEC --force-update")
	}
	switch {
	case runErr != nil:
		return runErr
	case hard.Err() != nil:
		return withExit(exitInterrupted, fmt.Errorf("stopped by a second interrupt; resume with: sweep worker %s", shellQuote(info.Name)))
	}
	select {
	case <-drain:
		return withExit(exitInterrupted, fmt.Errorf("stopped by interrupt before the budget was spent; resume with: sweep worker %s", shellQuote(info.Name)))
	default:
	}
	if !complete {
		// Scripts and CI must not read a study that learnt nothing as success.
		return withExit(exitNoComplete, fmt.Errorf("study %s has no COMPLETE trial; sweep trials %s shows why they failed or were pruned",
			safetext.Terminal(info.Name), shellQuote(info.Name)))
	}
	return nil
}

// budgetSpent reports whether a study has all its trials and none waiting
// to be run.
func budgetSpent(trials []goptuna.FrozenTrial, budget int) bool {
	if len(trials) < budget {
		return false
	}
	for _, t := range trials {
		if t.State == goptuna.TrialStateWaiting {
			return false
		}
	}
	return true
}

// runBase is where the studies' local files (the workers' result
// journals) live on this host: $SWEEP_RUN_DIR, else
// $XDG_STATE_HOME/sweep/runs, else ~/.local/state/sweep/runs; "" when
// none can be found (no journal then).
func runBase(getenv func(string) string) string {
	if d := getenv("SWEEP_RUN_DIR"); d != "" {
		return d
	}
	if x := getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "sweep", "runs")
	}
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "state", "sweep", "runs")
	}
	return ""
}

package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sweep/sweep/pgcluster"
	"sweep/sweep/postgres"
	"sweep/trainer/data"
	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/cuda"
	"sweep/trainer/engine/cuda/dynlib"
)

// doctorOptions are the flags of `sweep doctor`.
type doctorOptions struct {
	env     *env
	Verbose bool
	DB      string // as for the study commands: --db, else $SWEEP_DB, else the private cluster
	PGDir   string
	DataDir string // CIFAR-10 directory; "" = $SWEEP_DATA, else data/cifar10
	// probe is cuda.Probe; tests replace it with a fake report.
	probe func(getenv func(string) string) cuda.Report
}

func newDoctorCmd(e *env, runF func(context.Context, *doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{env: e, probe: cuda.Probe}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check PostgreSQL, the database, the dataset and the training backends",
		Long: `Check what sweep needs, one line each, ok or FAIL with what to do:
the PostgreSQL server binaries (or the database --db or $SWEEP_DB names), the
private cluster, a connection, the schema version (migrations applied against
those this sweep has), and the CIFAR-10 directory. Doctor changes nothing: it
neither creates nor starts a cluster, nor migrates a database.

Then the CPU backend (OpenBLAS or pure Go) and the CUDA backend: the NVIDIA
libraries found (driver, cuBLAS, cuDNN, NVRTC) with versions and paths, and
every GPU with its free memory. Libraries are searched in
$SWEEP_CUDA_LIB_PATH, the dynamic loader's paths, /usr/local/cuda*/lib64 and
pip layouts (site-packages/nvidia/*/lib); --verbose lists every place tried.

Doctor exits with status 1 when a check fails.`,
		Example: `  sweep doctor
  sweep doctor --db postgres://me@db/sweep --data-dir /mnt/datasets/cifar10
  SWEEP_CUDA_LIB_PATH=/opt/cuda/lib64 sweep doctor --verbose`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDoctor(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "list every directory searched for missing libraries")
	addDSNFlag(f, &opts.DB)
	addPGDirFlag(f, &opts.PGDir)
	f.StringVar(&opts.DataDir, "data-dir", "", "CIFAR-10 directory to check (default: $SWEEP_DATA, else "+data.DefaultDir+")")
	return cmd
}

// runDoctor prints the setup checks, then the backends, and fails when a
// check failed, so scripts can run it before a study.
func runDoctor(ctx context.Context, opts *doctorOptions) error {
	checks := setupChecks(ctx, opts)
	failed := 0
	w := tabwriter.NewWriter(opts.env.Out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CHECK\tSTATUS\tDETAIL")
	for _, c := range checks {
		if c.Status == checkFail {
			failed++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.Name, c.Status, c.Detail)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(opts.env.Out)
	if err := printBackends(opts); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d check(s) failed", failed)
	}
	return nil
}

// Statuses of a setup check.
const (
	checkOK   = "ok"
	checkFail = "FAIL"
	checkSkip = "-" // not checked, because an earlier check says why
)

// check is one line of sweep doctor's setup checks.
type check struct {
	Name, Status, Detail string
}

// setupChecks checks PostgreSQL, the database and its schema, and the
// dataset, without changing any of them.
func setupChecks(ctx context.Context, opts *doctorOptions) []check {
	checks, src := serverChecks(ctx, opts)
	if src.DSN != "" {
		checks = append(checks, connectChecks(ctx, src)...)
	}
	return append(checks, dataCheck(data.ResolveDir(opts.DataDir, opts.env.Getenv)))
}

// serverChecks finds the database doctor should connect to: the one --db
// or $SWEEP_DB names, else the private cluster when it runs (a zero
// dbSource when there is none to connect to, with the lines saying why).
func serverChecks(ctx context.Context, opts *doctorOptions) ([]check, dbSource) {
	e := opts.env
	if opts.DB != "" || strings.TrimSpace(e.Getenv("SWEEP_DB")) != "" {
		src, err := resolveDSN(ctx, e, opts.DB, opts.PGDir, false)
		if err != nil {
			return []check{{"database", checkFail, err.Error()}}, dbSource{}
		}
		return []check{{"postgres", checkOK, "using the database from " + src.From + " (no local server needed)"}}, src
	}
	var checks []check
	if dir, version, err := pgcluster.FindServer(ctx); err != nil {
		checks = append(checks, check{"postgres", checkFail, err.Error()})
	} else {
		checks = append(checks, check{"postgres", checkOK, fmt.Sprintf("PostgreSQL %s server binaries in %s", version, dir)})
	}
	c, err := pgcluster.New(opts.PGDir)
	if err != nil {
		return append(checks, check{"cluster", checkFail, err.Error()}), dbSource{}
	}
	st, err := c.Status(ctx)
	switch {
	case err != nil:
		return append(checks, check{"cluster", checkFail, err.Error()}), dbSource{}
	case !st.Initialized:
		return append(checks,
			check{"cluster", checkOK, fmt.Sprintf("no private cluster at %s yet; sweep start or sweep db up creates it "+
				"(or pass --db, or --pg-dir where it lives)", c.Dir)},
			check{"database", checkSkip, "no database to connect to"}), dbSource{}
	case !st.Running:
		return append(checks,
			check{"cluster", checkOK, fmt.Sprintf("private cluster at %s, stopped; sweep commands start it, "+
				"or sweep db up", c.Dir)},
			check{"database", checkSkip, "the private cluster is stopped"}), dbSource{}
	}
	checks = append(checks, check{"cluster", checkOK, fmt.Sprintf("private cluster at %s, running (pid %d)", c.Dir, st.PID)})
	return checks, dbSource{DSN: st.URL, From: "the private cluster at " + c.Dir}
}

// connectChecks connects to src without migrating it and compares its
// schema version with this build's.
func connectChecks(ctx context.Context, src dbSource) []check {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	db, err := sql.Open("postgres", src.DSN)
	if err == nil {
		defer db.Close()
		err = db.PingContext(cctx)
	}
	if err != nil {
		err = connectError(ctx, src, fmt.Errorf("connect to database: %w", err))
		return []check{{"database", checkFail, postgres.Redact(err.Error(), src.DSN)}, {"schema", checkSkip, "not connected"}}
	}
	var server string
	if err := db.QueryRowContext(cctx, `SELECT current_setting('server_version')`).Scan(&server); err != nil {
		server = "unknown version"
	}
	connected := check{"database", checkOK, fmt.Sprintf("connected to %s (from %s), PostgreSQL %s",
		postgres.Redact(src.DSN, src.DSN), src.From, server)}
	return []check{connected, schemaCheck(cctx, db)}
}

// schemaCheck compares the migrations applied in db with this build's.
func schemaCheck(ctx context.Context, db *sql.DB) check {
	known, err := postgres.SchemaVersion()
	if err != nil {
		return check{"schema", checkFail, err.Error()}
	}
	applied, err := postgres.AppliedVersion(ctx, db)
	switch {
	case err != nil:
		return check{"schema", checkFail, err.Error()}
	case applied == 0:
		return check{"schema", checkOK, fmt.Sprintf("sweep's schema is not applied yet (0 of %d migrations); "+
			"the first sweep command applies it", known)}
	case applied < known:
		return check{"schema", checkOK, fmt.Sprintf("%d of %d migrations applied; the next sweep command applies the rest", applied, known)}
	case applied > known:
		return check{"schema", checkOK, fmt.Sprintf("migration %d applied, newer than this sweep's %d; "+
			"it keeps working (migrations only add), but upgrade sweep", applied, known)}
	}
	return check{"schema", checkOK, fmt.Sprintf("%d of %d migrations applied", applied, known)}
}

// dataCheck looks for the CIFAR-10 batch files in dir, at full size.
func dataCheck(dir string) check {
	found, err := data.FindDir(dir)
	if err != nil {
		return check{"data", checkFail, err.Error()}
	}
	if err := data.Verify(found); err != nil {
		return check{"data", checkFail, fmt.Sprintf("%v; run sweep data fetch --data-dir %s --force", err, dir)}
	}
	return check{"data", checkOK, "CIFAR-10 in " + found}
}

// printBackends prints the training backends, libraries and GPUs.
func printBackends(opts *doctorOptions) error {
	w := tabwriter.NewWriter(opts.env.Out, 2, 4, 2, ' ', 0)
	r := opts.probe(opts.env.Getenv)

	fmt.Fprintln(w, "BACKEND\tSTATUS\tDETAIL")
	if b, err := cpu.New(cpu.OptionsFromEnv(opts.env.Getenv)); err != nil {
		fmt.Fprintf(w, "cpu\terror\t%v\n", err)
	} else {
		fmt.Fprintf(w, "cpu\tok\t%s, %d threads\n", b.Name(), b.Threads())
		b.Close()
	}
	switch {
	case r.Usable():
		fmt.Fprintf(w, "cuda\tok\t%d GPU(s)\n", len(r.Devices))
	case r.Err != nil:
		fmt.Fprintf(w, "cuda\tunavailable\t%s\n", errLine(r.Err))
	default:
		fmt.Fprintf(w, "cuda\tunavailable\ta required library is missing (cuBLAS and NVRTC are required, cuDNN optional)\n")
	}
	dnnMissing := r.Usable() && cudnnErr(r) != nil
	if dnnMissing {
		fmt.Fprintf(w, "cudnn\tmissing\tconvolutions will run as im2col + cuBLAS, several times slower; "+
			"install cuDNN 9 (e.g. pip nvidia-cudnn-cu13) or set %s\n", dynlib.EnvLibPath)
	}

	fmt.Fprintln(w, "\nLIBRARY\tVERSION\tPATH")
	for _, l := range r.Libraries {
		if l.Err != nil {
			fmt.Fprintf(w, "%s\t-\t%s\n", l.Name, errLine(l.Err))
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s (%s)\n", l.Name, l.Version, l.Path, l.Where)
	}

	fmt.Fprintln(w, "\nGPU\tNAME\tCOMPUTE\tMEMORY FREE / TOTAL")
	if len(r.Devices) == 0 {
		fmt.Fprintln(w, "-\tnone found\t\t")
	}
	for _, d := range r.Devices {
		if d.Err != nil {
			fmt.Fprintf(w, "%d\t%s\t\terror: %v\n", d.Ordinal, d.Name, d.Err)
			continue
		}
		fmt.Fprintf(w, "%d\t%s\tsm_%d%d, %d SMs\t%.1f / %.1f GiB\n", d.Ordinal, d.Name, d.Major, d.Minor, d.SMs,
			float64(d.FreeBytes)/(1<<30), float64(d.TotalBytes)/(1<<30))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if opts.Verbose {
		printSearched(opts.env.Out, r)
	} else if !r.Usable() || dnnMissing {
		fmt.Fprintln(opts.env.Err, "sweep doctor: run with --verbose to list every directory searched")
	}
	return nil
}

// cudnnErr is why cuDNN did not load, or nil.
func cudnnErr(r cuda.Report) error {
	for _, l := range r.Libraries {
		if l.Name == dynlib.CUDNN.Name {
			return l.Err
		}
	}
	return errors.New("cuDNN not probed")
}

// printSearched prints the full search log of each missing library.
func printSearched(out io.Writer, r cuda.Report) {
	for _, l := range r.Libraries {
		if l.Err != nil {
			fmt.Fprintf(out, "\n%s:\n%v\n", l.Name, l.Err)
		}
	}
	if r.Err != nil && !errors.Is(r.Err, dynlib.ErrNotFound) {
		fmt.Fprintf(out, "\ncuda: %v\n", r.Err)
	}
}

// errLine is the first line of err, without the search list that follows.
func errLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return strings.TrimSuffix(s, "; searched:")
}

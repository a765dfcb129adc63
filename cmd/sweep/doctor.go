package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"sweep/trainer/engine/cpu"
	"sweep/trainer/engine/cuda"
	"sweep/trainer/engine/cuda/dynlib"
)

// doctorOptions are the flags of `sweep doctor`.
type doctorOptions struct {
	env     *env
	Verbose bool
	// probe is cuda.Probe; tests replace it with a fake report.
	probe func(getenv func(string) string) cuda.Report
}

func newDoctorCmd(e *env, runF func(context.Context, *doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{env: e, probe: cuda.Probe}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Show which training backends, libraries and GPUs this machine has",
		Long: `Check the CPU backend (OpenBLAS or pure Go) and the CUDA backend: the
NVIDIA libraries found (driver, cuBLAS, cuDNN, NVRTC) with versions and paths,
and every GPU with its free memory. Libraries are searched in
$SWEEP_CUDA_LIB_PATH, the dynamic loader's paths, /usr/local/cuda*/lib64 and
pip layouts (site-packages/nvidia/*/lib); --verbose lists every place tried.`,
		Example: `  sweep doctor
  SWEEP_CUDA_LIB_PATH=/opt/cuda/lib64 sweep doctor --verbose`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDoctor(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "list every directory searched for missing libraries")
	return cmd
}

func runDoctor(_ context.Context, opts *doctorOptions) error {
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

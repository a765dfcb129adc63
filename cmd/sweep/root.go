package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// env carries everything a command needs from the outside world, so tests
// can run commands with buffers, a fixed clock and a fake environment.
type env struct {
	In     io.Reader
	Out    io.Writer // data (tables, JSON)
	Err    io.Writer // status lines, progress, errors
	IsTTY  bool      // Err is a terminal: live status lines allowed
	InTTY  bool      // In is a terminal: a person can answer a question
	Now    func() time.Time
	Getenv func(string) string
	// Signals subscribes to interrupts (SIGINT, SIGTERM) for the two-stage
	// stop of running studies; stop unsubscribes. Tests send on the channel.
	Signals func() (sigs <-chan os.Signal, stop func())
}

func newEnv() *env {
	return &env{
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		IsTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		Now:    time.Now,
		Getenv: os.Getenv,
		Signals: func() (<-chan os.Signal, func()) {
			c := make(chan os.Signal, 2)
			signal.Notify(c, os.Interrupt, syscall.SIGTERM)
			return c, func() { signal.Stop(c) }
		},
	}
}

// errSilent marks an error that was already reported to the user.
var errSilent = errors.New("sweep: silent error")

// newRootCmd builds the command tree. Every subcommand is added here,
// explicitly, in the order `sweep --help` lists them.
func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "sweep",
		Short:         "Hyperparameter sweeps for image classifiers, stored in PostgreSQL",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(debug.ReadBuildInfo()),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	root.SetIn(e.In)
	root.SetOut(e.Out)
	root.SetErr(e.Err)
	// Subcommands: one file each (start.go, worker.go, ...). Add new ones here.
	root.AddCommand(
		newStartCmd(e, nil),
		newWorkerCmd(e, nil),
		newStatusCmd(e, nil),
		newTrialsCmd(e, nil),
		newTrainCmd(e, nil),
		newReportCmd(e, nil),
		newDashboardCmd(e, nil),
		newExportCmd(e, nil),
		newImportCmd(e, nil),
		newBenchCmd(e, nil),
		newDataCmd(e),
		newDBCmd(e, nil),
		newDoctorCmd(e, nil),
		newVersionCmd(e),
		newStudyCmd(e),
		newEnqueueCmd(e, nil),
		newInitCmd(e, nil),
		newLaunchCmd(e, nil),
	)
	markUsage(root)
	return root
}

// run executes the CLI and maps errors to an exit status (see exitCode).
func run(ctx context.Context, e *env, args []string) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, errSilent) {
		fmt.Fprintf(e.Err, "sweep: %v\n", err)
	}
	return exitCode(ctx, err)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit statuses of sweep, documented in README.md ("Exit status"), so that
// scripts and CI can tell a typo from a crash from a study that learnt
// nothing.
const (
	exitOK          = 0
	exitRuntime     = 1   // the command ran and failed (database, I/O, training)
	exitUsage       = 2   // bad flags or arguments, or an invalid study spec
	exitNoComplete  = 3   // a study run ended without one COMPLETE trial
	exitInterrupted = 130 // stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)
)

// exitError is an error that carries the exit status main returns for it.
// Its text is the wrapped error's, so messages do not change.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExit marks err with an exit status; nil stays nil.
func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageErrorf is a bad flag, argument or spec (exit status 2).
func usageErrorf(format string, args ...any) error {
	return withExit(exitUsage, fmt.Errorf(format, args...))
}

// exitCode maps the error a command returned to the process's exit status.
// An interrupt wins over the error it caused (a cancelled query, say):
// ctx is main's context, cancelled by SIGINT or SIGTERM.
func exitCode(ctx context.Context, err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return exitInterrupted
	case strings.HasPrefix(err.Error(), "unknown command "):
		// cobra's own check of the root's subcommand names (legacyArgs),
		// which runs before any Args function sweep could wrap.
		return exitUsage
	}
	return exitRuntime
}

// markUsage makes the argument checks of cmd and its subcommands return
// usage errors (exit status 2).
func markUsage(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			return withExit(exitUsage, check(c, args))
		}
	}
	for _, sub := range cmd.Commands() {
		markUsage(sub)
	}
}

// flagError turns pflag's parse errors into one sentence with exit status
// 2: `--workers two` says `invalid value "two" for --workers: want an
// integer` rather than quoting strconv.
func flagError(_ *cobra.Command, err error) error {
	if errors.Is(err, errDataDirMoved) {
		return withExit(exitUsage, errDataDirMoved)
	}
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		name := bad.GetFlag().Name
		if want := flagWant(bad.GetFlag().Value.Type()); want != "" {
			return usageErrorf("invalid value %q for --%s: want %s", bad.GetValue(), name, want)
		}
		return usageErrorf("invalid value %q for --%s: %v", bad.GetValue(), name, bad.Unwrap())
	}
	var missing *pflag.ValueRequiredError
	if errors.As(err, &missing) && missing.GetFlag() != nil && missing.GetFlag().Name == "data-dir" &&
		missing.GetFlag().Value.Type() == movedType {
		return withExit(exitUsage, errDataDirMoved)
	}
	return withExit(exitUsage, err)
}

// flagWant describes what a flag of a pflag value type accepts; "" for
// types whose own error says it better.
func flagWant(typ string) string {
	switch typ {
	case "int", "int8", "int16", "int32", "int64", "count":
		return "an integer"
	case "uint", "uint8", "uint16", "uint32", "uint64":
		return "a non-negative integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "duration":
		return "a duration such as 30s, 2m or 1h"
	case "intSlice", "int32Slice", "int64Slice", "uintSlice":
		return "a comma-separated list of integers"
	case "float32Slice", "float64Slice":
		return "a comma-separated list of numbers"
	}
	return ""
}

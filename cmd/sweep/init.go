package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"sweep/search"
)

// initSpecs are the commented study specs sweep init writes, one per
// objective: initspec/<objective>.yaml. Tests check that each validates.
//
//go:embed initspec/*.yaml
var initSpecs embed.FS

// initObjectives are the objectives sweep init has a spec for, the
// default first.
var initObjectives = []string{"synthetic", "cifar10", "command"}

// initOptions are the flags of `sweep init`.
type initOptions struct {
	env       *env
	Objective string
	Out       string // "-": standard output
	Name      string // the study name; "" keeps the template's
	Force     bool   // replace Out if it exists
}

func newInitCmd(e *env, runF func(context.Context, *initOptions) error) *cobra.Command {
	opts := &initOptions{env: e}
	cmd := &cobra.Command{
		Use:   "init [--objective synthetic|cifar10|command] [-o study.yaml]",
		Short: "Write a commented study spec to start from",
		Long: `Write a study spec with every common key set and explained: synthetic runs
in seconds and shows how sweep works; cifar10 trains CNNs on CIFAR-10 with
sweep's own trainer; command runs your own training program per trial.
An existing file is never replaced without --force.`,
		Example: `  sweep init && sweep start study.yaml
  sweep init --objective cifar10 -o cifar.yaml --name resnet-lr
  sweep init --objective command -o - | less`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(initObjectives, opts.Objective) {
				return fmt.Errorf("--objective %q: want one of %s", opts.Objective, strings.Join(initObjectives, ", "))
			}
			if opts.Out == "" {
				return errors.New("--out must name a file, or - for standard output")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runInit(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Objective, "objective", initObjectives[0], "the objective: "+strings.Join(initObjectives, ", "))
	f.StringVarP(&opts.Out, "out", "o", "study.yaml", "write the spec to `FILE` (- for standard output)")
	f.StringVar(&opts.Name, "name", "", "the study's name (default: my-OBJECTIVE-study)")
	f.BoolVar(&opts.Force, "force", false, "replace FILE if it exists")
	_ = cmd.RegisterFlagCompletionFunc("objective", cobra.FixedCompletions(initObjectives, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// initSpec returns the template for objective, renamed to name when name
// is not empty, with its comments naming the file it goes to (file; ""
// keeps study.yaml) and the study.
func initSpec(objective, name, file string) ([]byte, error) {
	b, err := fs.ReadFile(initSpecs, "initspec/"+objective+".yaml")
	if err != nil {
		return nil, fmt.Errorf("read spec template: %w", err)
	}
	if name != "" {
		if b, err = search.SetStudyName(objective+" template", b, name); err != nil {
			return nil, err
		}
		b = bytes.ReplaceAll(b, []byte("sweep report my-"+objective+"-study"), []byte("sweep report "+shellQuote(name)))
	}
	if file != "" && filepath.Base(file) != "study.yaml" {
		// Only comments mention study.yaml.
		b = bytes.ReplaceAll(b, []byte(" study.yaml "), []byte(" "+shellQuote(filepath.Base(file))+" "))
	}
	return b, nil
}

// runInit writes the spec, refusing to replace a file unless --force.
func runInit(ctx context.Context, opts *initOptions) error {
	e := opts.env
	file := opts.Out
	if file == "-" {
		file = ""
	}
	b, err := initSpec(opts.Objective, opts.Name, file)
	if err != nil {
		return err
	}
	if opts.Out == "-" {
		_, err := e.Out.Write(b)
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if opts.Force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(opts.Out, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; pass --force to replace it, or -o another file", opts.Out)
	}
	if err != nil {
		return fmt.Errorf("write spec: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write spec: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write spec: %w", err)
	}
	fmt.Fprintf(e.Err, "wrote %s (objective %s); check it with: sweep start %s --dry-run\n", opts.Out, opts.Objective, shellQuote(opts.Out))
	switch opts.Objective {
	case "cifar10":
		fmt.Fprintln(e.Err, "it needs CIFAR-10: sweep data fetch downloads it (or set $SWEEP_DATA)")
	case "command":
		fmt.Fprintln(e.Err, "it runs python3 train.py next to the spec: point argv at your program")
	}
	return nil
}

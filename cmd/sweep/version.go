package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print sweep's module version and the commit it was built from",
		Long: `Version prints the module version, the VCS commit the binary was built
from ("+dirty" when the work tree had uncommitted changes) and the Go
release, as recorded by the Go toolchain. sweep --version prints the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(e.Out, versionString(debug.ReadBuildInfo()))
			return err
		},
	}
}

// versionString describes a build from its build info: "sweep v1.2.0
// (commit 0123456789ab+dirty, 2026-01-02T03:04:05Z, go1.26.0)". A binary
// built in its source tree has module version "(devel)"; one built without
// VCS information (go run, tests) has no commit.
func versionString(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "sweep (unknown version: no build information)"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, when string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var parts []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		parts = append(parts, "commit "+rev)
	} else {
		parts = append(parts, "no commit recorded")
	}
	if when != "" {
		parts = append(parts, when)
	}
	if bi.GoVersion != "" {
		parts = append(parts, bi.GoVersion)
	}
	return fmt.Sprintf("sweep %s (%s)", version, strings.Join(parts, ", "))
}

package dynlib

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// pythonTimeout bounds each python3 run: a broken interpreter must not
// stall the search (a healthy one answers in well under a second).
const pythonTimeout = 3 * time.Second

// pythonScript prints the interpreter's prefix and its site-packages
// directories, one per line. It imports only site and sys, never torch.
const pythonScript = `import site, sys
print(sys.prefix)
for d in list(getattr(site, "getsitepackages", lambda: [])()) + [site.getusersitepackages()]:
    print(d)`

// RunPython runs the python3 at exe and returns the directories it reports
// (its sys.prefix and site-packages), within pythonTimeout.
func RunPython(ctx context.Context, exe string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, pythonTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, exe, "-c", pythonScript).Output()
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, l := range strings.Split(string(bytes.TrimSpace(out)), "\n") {
		if l = strings.TrimSpace(l); filepath.IsAbs(l) {
			dirs = append(dirs, l)
		}
	}
	return dirs, nil
}

// pythonSites caches what the python3 interpreters on PATH report, so the
// several Load calls of one Finder run each interpreter at most once.
type pythonSites struct {
	once  sync.Once
	sites []string
}

// pythonSitePackages returns the site-packages directories of every
// distinct python3 on $PATH: the prefix's lib/python3*/site-packages and
// the directories the interpreter lists (pip wheels' NVIDIA libraries
// live there, in a virtualenv that need not be activated).
func (f *Finder) pythonSitePackages() []string {
	if f.python == nil {
		f.python = &pythonSites{}
	}
	f.python.once.Do(func() {
		run := f.RunPython
		if run == nil {
			return
		}
		seen := map[string]bool{}
		for _, exe := range pythonsOnPath(f.Getenv("PATH")) {
			dirs, err := run(context.Background(), exe)
			if err != nil || len(dirs) == 0 {
				continue
			}
			cands := globAll(dirs[0] + "/lib/python3*/site-packages")
			cands = append(cands, dirs[1:]...)
			for _, d := range cands {
				if !seen[d] {
					seen[d] = true
					f.python.sites = append(f.python.sites, d)
				}
			}
		}
	})
	return f.python.sites
}

// pythonsOnPath lists the python3 executables in the directories of path,
// in order, skipping any that resolves to one already listed.
func pythonsOnPath(path string) []string {
	var out []string
	seen := map[string]bool{}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "python3")
		st, err := os.Stat(p)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			continue
		}
		// A venv's python3 is often a symlink to the system one, but its
		// sys.prefix differs: deduplicate by path, not by target.
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

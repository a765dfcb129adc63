package command

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Config configures objective `command`. The yaml tags are the spec's
// objective options; see [Config.Check] for what each may hold.
type Config struct {
	Argv      []string          `yaml:"argv"`       // program and arguments; no shell
	Workdir   string            `yaml:"workdir"`    // relative to Dir; default "."
	Env       map[string]string `yaml:"env"`        // added to the worker's environment
	Timeout   time.Duration     `yaml:"timeout"`    // per trial; 0 = none
	KillGrace time.Duration     `yaml:"kill_grace"` // SIGTERM → SIGKILL; default 10s
	Report    string            `yaml:"report"`     // auto (default), json, keyvalue, regex
	Regex     string            `yaml:"regex"`      // for report: regex
	RunDir    string            `yaml:"run_dir"`    // trial directories: RunDir/<study>/<trial>; default "runs", relative to Dir

	// Set by the caller, not the spec.
	Dir    string   // base of relative paths: the spec file's directory ("" = current)
	Study  string   // study name (SWEEP_STUDY, the run directory)
	Metric string   // the study's metric: the reported key that is the value
	Params []string // names of the search space's params, for placeholders
	// BaseEnv is the environment programs start from; nil means the
	// worker's own (os.Environ at each trial).
	BaseEnv []string
	// LogLimit bounds stdout.log and stderr.log in bytes each (0: 64 MiB);
	// output beyond it is still read, so the program never blocks, but
	// dropped.
	LogLimit int64
}

// DefaultConfig returns the defaults of absent options.
func DefaultConfig() Config {
	return Config{Workdir: ".", KillGrace: 10 * time.Second, Report: FormatAuto, RunDir: "runs", Metric: "value"}
}

// reserved are the variables sweep sets for each trial, which the spec's
// env may not set.
var reserved = []string{"CUDA_VISIBLE_DEVICES", "SWEEP_CONTROL", "SWEEP_METRIC", "SWEEP_PARAMS", "SWEEP_STUDY", "SWEEP_TRIAL", "SWEEP_TRIAL_DIR"}

// Builtins are the placeholders every argv element may hold besides the
// params' names.
var Builtins = []string{"study", "trial", "trial_dir"}

// placeholder matches {name} in an argv element. Names that are not
// identifiers ({} and {"a": 1}) are left alone, so JSON and format strings
// pass through.
var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_.\-]*)\}`)

// Check validates the options, calling check for each (key, condition,
// message) as search.OptionChecker.Check does, so that problems carry the
// option's file and line.
func (c Config) Check(check func(key string, ok bool, format string, args ...any)) {
	check("argv", len(c.Argv) > 0, "required: the program and its arguments, e.g. [python3, train.py]")
	if len(c.Argv) > 0 {
		c.checkArgv(check)
	}
	check("workdir", c.Workdir != "", "must not be empty (use . for the spec's directory)")
	if c.Workdir != "" {
		fi, err := os.Stat(c.ResolvedWorkdir())
		check("workdir", err == nil && fi.IsDir(), "must be a directory (%s: %v)", c.ResolvedWorkdir(), statProblem(fi, err))
	}
	for _, k := range sortedKeys(c.Env) {
		switch {
		case k == "" || strings.ContainsAny(k, "=\x00"):
			check("env", false, "%q is not a variable name", k)
		case slices.Contains(reserved, k):
			check("env", false, "%s is set by sweep for each trial (CUDA_VISIBLE_DEVICES comes from the spec's devices)", k)
		case strings.ContainsRune(c.Env[k], 0):
			check("env", false, "%s: value must not contain NUL", k)
		}
	}
	check("kill_grace", c.KillGrace <= time.Hour, "must be at most 1h (got %s)", c.KillGrace)
	check("timeout", c.Timeout == 0 || c.Timeout >= time.Second, "must be at least 1s, or 0 for none (got %s)", c.Timeout)
	if !slices.Contains(Formats, c.Report) {
		check("report", false, "must be one of %s (got %q)", strings.Join(Formats, ", "), c.Report)
	} else if c.Report == FormatRegex && c.Regex == "" {
		check("report", false, "regex needs the option regex, with a named group value, such as 'val_acc=(?P<value>[0-9.]+)'")
	} else if c.Report == FormatRegex {
		_, err := CompileReport(c.Regex, c.Metric)
		check("regex", err == nil, "%v", err)
	} else {
		check("regex", c.Regex == "", "is only used with report: regex (report is %s)", c.Report)
	}
	check("run_dir", c.RunDir != "", "must not be empty")
}

// checkArgv checks the program exists and every placeholder names a param
// or a builtin.
func (c Config) checkArgv(check func(key string, ok bool, format string, args ...any)) {
	prog := c.Argv[0]
	switch {
	case prog == "":
		check("argv", false, "argv[0] must name the program")
	case !strings.Contains(prog, "/"):
		_, err := exec.LookPath(prog)
		check("argv", err == nil, "argv[0]: %s not found in PATH", prog)
	default:
		path := prog
		if !filepath.IsAbs(path) {
			path = filepath.Join(c.ResolvedWorkdir(), path)
		}
		fi, err := os.Stat(path)
		check("argv", err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0, "argv[0]: %s must be an executable file (%v)", path, statProblem(fi, err))
	}
	known := append(slices.Clone(c.Params), Builtins...)
	for i, a := range c.Argv {
		for _, m := range placeholder.FindAllStringSubmatch(a, -1) {
			check("argv", slices.Contains(known, m[1]), "argv[%d]: unknown placeholder {%s} (want a param name or one of %s)", i, m[1], strings.Join(Builtins, ", "))
		}
	}
}

// statProblem says what is wrong with a path Stat returned.
func statProblem(fi os.FileInfo, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case fi.IsDir():
		return "a directory"
	case !fi.Mode().IsRegular():
		return "not a regular file"
	case fi.Mode()&0o111 == 0:
		return "not executable"
	}
	return "a file"
}

// ResolvedWorkdir is Workdir made absolute against Dir.
func (c Config) ResolvedWorkdir() string { return c.resolve(c.Workdir) }

// ResolvedRunDir is RunDir made absolute against Dir.
func (c Config) ResolvedRunDir() string { return c.resolve(c.RunDir) }

// resolve makes path absolute against Dir (and Dir against the current
// directory).
func (c Config) resolve(path string) string {
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.Dir, path)
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// usesPlaceholders reports whether some argv element holds a param's
// placeholder; then params are passed only there, not appended.
func (c Config) usesPlaceholders() bool {
	for _, a := range c.Argv {
		for _, m := range placeholder.FindAllStringSubmatch(a, -1) {
			if slices.Contains(c.Params, m[1]) {
				return true
			}
		}
	}
	return false
}

// sortedKeys returns m's keys in order, so problems and environments are
// deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// pathElement keeps a study name usable as one path element.
func pathElement(s string) string {
	if s == "" {
		return "default"
	}
	r := []rune(s)
	for i, c := range r {
		if c == '/' || c == '\\' || c == 0 || (i == 0 && c == '.') {
			r[i] = '_'
		}
	}
	return string(r)
}

// formatValue renders a param value as the program receives it in argv:
// floats in their shortest exact form, ints in decimal, strings as is.
func formatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return fmt.Sprint(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

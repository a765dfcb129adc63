package bench

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// optunaScript is optuna_bench.py: the same test functions and latency
// measurement, run with Optuna's TPESampler. It is written to a temporary
// file and run with the configured interpreter.
//
//go:embed optuna_bench.py
var optunaScript []byte

// OptunaEnv names one Optuna to compare with: the interpreter and the
// PYTHONPATH it runs with ("" keeps the environment's, i.e. whichever Optuna
// the interpreter imports, such as Debian's python3-optuna; a folder holding
// an `optuna/` source tree runs that one).
type OptunaEnv struct {
	Python     string
	PythonPath string
}

// OptunaEnvs reads the commands' -optuna flag: comma-separated
// PYTHONPATHs for python, "-" for the interpreter's own Optuna, empty
// entries ignored.
func OptunaEnvs(python, paths string) []OptunaEnv {
	var envs []OptunaEnv
	for _, p := range strings.Split(paths, ",") {
		switch p {
		case "":
		case "-":
			envs = append(envs, OptunaEnv{Python: python})
		default:
			envs = append(envs, OptunaEnv{Python: python, PythonPath: p})
		}
	}
	return envs
}

// Optuna runs optuna_bench.py in one OptunaEnv.
type Optuna struct {
	env     OptunaEnv
	script  string
	Version string
	// Cache, when not empty, is a folder where study results are kept as
	// <version>/<function>-<trials>.jsonl (the script's own output), read
	// back instead of rerun when they hold every seed.
	Cache string

	mu   sync.Mutex
	memo map[string][][]float64 // "<function>-<trials>" → values of seeds 0..len-1, this process's runs
}

// ErrNoOptuna reports that the interpreter cannot import optuna.
var ErrNoOptuna = errors.New("optuna is not importable")

// NewOptuna writes the script into dir and asks the interpreter for
// Optuna's version; ErrNoOptuna when it has none.
func NewOptuna(ctx context.Context, env OptunaEnv, dir string) (*Optuna, error) {
	if env.Python == "" {
		env.Python = "python3"
	}
	script := filepath.Join(dir, "optuna_bench.py")
	if err := os.WriteFile(script, optunaScript, 0o644); err != nil {
		return nil, fmt.Errorf("write optuna script: %w", err)
	}
	o := &Optuna{env: env, script: script}
	out, err := o.command(ctx, nil, "version")
	if err != nil {
		return nil, fmt.Errorf("%w (%s, PYTHONPATH=%q): %v", ErrNoOptuna, env.Python, env.PythonPath, err)
	}
	var v struct{ Version string }
	if err := json.Unmarshal(out, &v); err != nil || v.Version == "" {
		return nil, fmt.Errorf("read optuna version from %q: %w", out, err)
	}
	o.Version = v.Version
	return o, nil
}

// Name labels the Optuna's rows in the report.
func (o *Optuna) Name() string { return "Optuna " + o.Version }

func (o *Optuna) command(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, o.env.Python, append([]string{o.script}, args...)...)
	cmd.Env = os.Environ()
	if o.env.PythonPath != "" {
		cmd.Env = append(cmd.Env, "PYTHONPATH="+o.env.PythonPath)
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("run %s %s: %w: %s", o.env.Python, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Study runs seeds 0..seeds-1 of the function key for trials trials each
// with Optuna's default TPESampler and returns the values per seed, in
// trial order. A run of more seeds earlier in this process serves a later
// call for fewer (the first seeds of the same script are the same studies).
func (o *Optuna) Study(ctx context.Context, key string, seeds, trials int) ([][]float64, error) {
	id := fmt.Sprintf("%s-%d", key, trials)
	o.mu.Lock()
	got := o.memo[id]
	o.mu.Unlock()
	if len(got) >= seeds {
		return got[:seeds], nil
	}
	vals, err := o.study(ctx, key, seeds, trials)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.memo == nil {
		o.memo = make(map[string][][]float64)
	}
	if len(vals) > len(o.memo[id]) {
		o.memo[id] = vals
	}
	return vals, nil
}

// study reads seeds 0..seeds-1 from the cache or runs them.
func (o *Optuna) study(ctx context.Context, key string, seeds, trials int) ([][]float64, error) {
	var cache string
	if o.Cache != "" {
		cache = filepath.Join(o.Cache, o.Version, fmt.Sprintf("%s-%d.jsonl", key, trials))
		if b, err := os.ReadFile(cache); err == nil {
			if vals, err := parseStudies(b, seeds); err == nil {
				return vals, nil
			}
		}
	}
	out, err := o.command(ctx, nil, "run", key, "--seeds", fmt.Sprintf("0-%d", seeds-1), "--trials", fmt.Sprint(trials))
	if err != nil {
		return nil, err
	}
	vals, err := parseStudies(out, seeds)
	if err != nil {
		return nil, err
	}
	if cache != "" {
		if err := os.MkdirAll(filepath.Dir(cache), 0o755); err != nil {
			return nil, fmt.Errorf("create optuna cache: %w", err)
		}
		if err := os.WriteFile(cache, out, 0o644); err != nil {
			return nil, fmt.Errorf("write optuna cache: %w", err)
		}
	}
	return vals, nil
}

// parseStudies reads the script's {"seed", "values"} lines; it needs seeds
// 0..seeds-1 (more are ignored).
func parseStudies(b []byte, seeds int) ([][]float64, error) {
	vals := make([][]float64, seeds)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l struct {
			Seed   int
			Values []float64
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("parse optuna study line: %w", err)
		}
		if l.Seed >= 0 && l.Seed < seeds {
			vals[l.Seed] = l.Values
		}
	}
	for s, v := range vals {
		if v == nil {
			return nil, fmt.Errorf("optuna output lacks seed %d", s)
		}
	}
	return vals, nil
}

// Eval returns the script's value of function key at each point.
func (o *Optuna) Eval(ctx context.Context, key string, points []map[string]float64) ([]float64, error) {
	var in bytes.Buffer
	for _, p := range points {
		b, err := json.Marshal(map[string]any{"fn": key, "params": p})
		if err != nil {
			return nil, err
		}
		in.Write(append(b, '\n'))
	}
	out, err := o.command(ctx, in.Bytes(), "eval")
	if err != nil {
		return nil, err
	}
	var vals []float64
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var l struct{ Value float64 }
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("parse optuna eval: %w", err)
		}
		vals = append(vals, l.Value)
	}
	if len(vals) != len(points) {
		return nil, fmt.Errorf("optuna eval gave %d values for %d points", len(vals), len(points))
	}
	return vals, nil
}

// Latency is the median time of one full 8-param suggestion (the latency
// benchmark's space) on a history of trials random trials.
func (o *Optuna) Latency(ctx context.Context, trials, reps int) (time.Duration, error) {
	out, err := o.command(ctx, nil, "latency", "--trials", fmt.Sprint(trials), "--reps", fmt.Sprint(reps))
	if err != nil {
		return 0, err
	}
	var l struct {
		MedianMS float64 `json:"median_ms"`
	}
	if err := json.Unmarshal(out, &l); err != nil {
		return 0, fmt.Errorf("parse optuna latency: %w", err)
	}
	return time.Duration(l.MedianMS * 1e6), nil
}

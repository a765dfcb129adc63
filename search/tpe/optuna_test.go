package tpe

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
)

// optunaDump is what `optuna_bench.py dump` prints: Optuna's split and its
// two Parzen estimators for a given history.
type optunaDump struct {
	Version      string
	Below, Above []int
	L, G         struct {
		Weights []float64
		Params  map[string]struct {
			Mu, Sigma []float64
			Rows      [][]float64
		}
		LogPDF []float64
	}
}

// runOptunaDump feeds a history to Optuna's TPE through
// search/bench/optuna_bench.py. It skips the test unless $PYTHON (default
// python3) imports Optuna 4 or later, the algorithm this package follows
// (set PYTHONPATH to an Optuna source tree to test against that).
func runOptunaDump(t *testing.T, in any) optunaDump {
	t.Helper()
	py := os.Getenv("PYTHON")
	if py == "" {
		py = "python3"
	}
	if _, err := exec.LookPath(py); err != nil {
		t.Skipf("no %s: %v", py, err)
	}
	ver, err := exec.Command(py, "-c", "import optuna; print(optuna.__version__)").Output()
	if err != nil {
		t.Skipf("%s cannot import optuna: %v", py, err)
	}
	if major, _ := strconv.Atoi(strings.SplitN(string(ver), ".", 2)[0]); major < 4 {
		t.Skipf("Optuna %s is older than the algorithm followed here (4+); set PYTHONPATH to a newer one", strings.TrimSpace(string(ver)))
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "../bench/optuna_bench.py", "dump")
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("optuna_bench.py dump: %v: %s", err, stderr.String())
	}
	var d optunaDump
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("parse dump: %v", err)
	}
	return d
}

// TestMatchesOptuna feeds the same history (with two RUNNING trials for the
// constant liar) to Optuna's multivariate TPE and ours and compares the
// below/above split, kernel weights, means, bandwidths, categorical rows and
// the log densities l(x), g(x) at the same candidates.
func TestMatchesOptuna(t *testing.T) {
	type param struct {
		name string
		spec []any // optuna_bench.py space entry
		dist any
	}
	space := []param{ // sorted by name, as SampleRelative orders them
		{"depth", []any{"depth", "int", 1, 8, 1}, goptuna.IntUniformDistribution{Low: 1, High: 8}},
		{"lr", []any{"lr", "float", 1e-5, 1.0, true}, goptuna.LogUniformDistribution{Low: 1e-5, High: 1}},
		{"opt", []any{"opt", "cat", 0, 0, []string{"sgd", "adamw", "lamb"}}, goptuna.CategoricalDistribution{Choices: []string{"sgd", "adamw", "lamb"}}},
		{"width", []any{"width", "int", 16, 256, 16}, goptuna.StepIntUniformDistribution{Low: 16, High: 256, Step: 16}},
		{"x", []any{"x", "float", 0.0, 1.0, false}, goptuna.UniformDistribution{Low: 0, High: 1}},
	}
	// Equal values of a stepped param leave bandwidths to the sort order of
	// ties, which numpy's argsort keeps (as ours does) only for arrays of up
	// to 16: the longer history has no stepped params.
	for _, tc := range []struct {
		n     int
		space []param
	}{{12, space}, {40, []param{space[1], space[2], space[4]}}} {
		n, space := tc.n, tc.space
		rng := rand.New(rand.NewPCG(7, uint64(n)))
		study := newTestStudy(t, goptuna.StudyDirectionMinimize)
		type trial struct {
			Params map[string]float64 `json:"params"`
			Value  float64            `json:"value"`
			State  string             `json:"state"`
		}
		var trials []trial
		var specs [][]any
		var names []string
		var bs []sampler.Bounds
		for _, p := range space {
			specs = append(specs, p.spec)
			names = append(names, p.name)
			b, err := sampler.BoundsOf(p.dist)
			if err != nil {
				t.Fatal(err)
			}
			bs = append(bs, b)
		}
		for i := range n + 2 {
			id, _ := study.Storage.CreateNewTrial(study.ID)
			tr := trial{Params: map[string]float64{}, State: "COMPLETE"}
			for j, p := range space {
				v := bs[j].Uniform(rng)
				tr.Params[p.name] = v
				if err := study.Storage.SetTrialParam(id, p.name, v, p.dist); err != nil {
					t.Fatal(err)
				}
			}
			if i >= n {
				tr.State = "RUNNING"
			} else {
				tr.Value = rng.NormFloat64()
				study.Storage.SetTrialValue(id, tr.Value)
				study.Storage.SetTrialState(id, goptuna.TrialStateComplete)
			}
			trials = append(trials, tr)
		}
		// Candidates: random points of the space, internal values.
		const nc = 16
		cands := map[string][]float64{}
		xs := make([][]float64, len(space))
		for j, p := range space {
			d := newDim(bs[j])
			for range nc {
				v := bs[j].Uniform(rng)
				cands[p.name] = append(cands[p.name], v)
				xs[j] = append(xs[j], d.transform(v))
			}
		}
		want := runOptunaDump(t, map[string]any{"space": specs, "multivariate": true, "trials": trials, "candidates": cands})

		s := New(Options{Seed: 1, Multivariate: true, ConstantLiar: true, CategoricalPriorWeight: 1}) // Optuna's weight
		id, _ := study.Storage.CreateNewTrial(study.ID)
		cur, _ := study.Storage.GetTrial(id)
		snap, err := s.snapshot(study, cur)
		if err != nil {
			t.Fatal(err)
		}
		if got := numbers(snap.below); !slices.Equal(got, want.Below) {
			t.Errorf("n=%d: below = %v, Optuna %s %v", n, got, want.Version, want.Below)
		}
		if got := numbers(snap.above); !slices.Equal(got, want.Above) {
			t.Errorf("n=%d: above = %v, Optuna %v", n, got, want.Above)
		}
		_, l, g := s.estimators(names, bs, snap, true)
		for _, c := range []struct {
			side string
			e    *estimator
			ref  *struct {
				Weights []float64
				Params  map[string]struct {
					Mu, Sigma []float64
					Rows      [][]float64
				}
				LogPDF []float64
			}
		}{{"l", l, &want.L}, {"g", g, &want.G}} {
			near := func(what string, got, ref []float64) {
				t.Helper()
				if len(got) != len(ref) {
					t.Errorf("n=%d %s %s: %d values, Optuna %d", n, c.side, what, len(got), len(ref))
					return
				}
				for i := range got {
					if math.Abs(got[i]-ref[i]) > 1e-9*(1+math.Abs(ref[i])) {
						t.Errorf("n=%d %s %s[%d] = %.12g, Optuna %.12g", n, c.side, what, i, got[i], ref[i])
						return
					}
				}
			}
			w := make([]float64, len(c.e.logW))
			for k, lw := range c.e.logW {
				w[k] = math.Exp(lw)
			}
			near("weights", w, c.ref.Weights)
			for j, name := range names {
				kn, ref := c.e.kern[j], c.ref.Params[name]
				if bs[j].Categorical() {
					for k, o := range kn.obs {
						row := make([]float64, bs[j].N)
						for i := range row {
							switch {
							case o < 0:
								row[i] = math.Exp(kn.logUniform)
							case i == o:
								row[i] = math.Exp(kn.logHit)
							default:
								row[i] = math.Exp(kn.logMiss)
							}
						}
						near(name+" row "+strconv.Itoa(k), row, ref.Rows[k])
					}
					continue
				}
				near(name+" mu", kn.mu, ref.Mu)
				near(name+" sigma", kn.sigma, ref.Sigma)
			}
			got, _ := c.e.logPDF(xs, nil)
			near("logpdf", got, c.ref.LogPDF)
		}
	}
}

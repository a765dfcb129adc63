#!/usr/bin/env python3
"""Runs sweep's search benchmarks against Optuna (whichever one `python3` imports).

Driven by search/bench (make bench-search); it prints JSON lines on stdout.
Standard library and optuna only. Every test function here is also defined in
search/bench/problem.go; search/bench's tests check both give the same values.
Params are passed as internal values: floats and ints as numbers, categoricals
as the index of the choice.

  optuna_bench.py version
  optuna_bench.py run FUNCTION --seeds 0-30 --trials 100 [--mode default|univariate|multivariate]
  optuna_bench.py eval               (stdin: {"fn": F, "params": {...}} lines; stdout: {"value": v})
  optuna_bench.py latency --trials 1000 --reps 30
  optuna_bench.py dump               (stdin: one history as JSON; stdout: Optuna's TPE internals)
"""

import argparse
import json
import math
import random
import sys
import time
import warnings

warnings.simplefilter("ignore")
try:
    import optuna
except ImportError:  # eval works without optuna
    optuna = None


# ---- search spaces: (name, kind, low, high, extra) -------------------------
# kind: "float" (extra = log flag), "int" (extra = step), "cat" (extra = choices)

def _floats(names, low, high, log=False):
    return [(n, "float", low, high, log) for n in names]


def _xs(d):
    return ["x%d" % i for i in range(d)]


HART_ALPHA = [1.0, 1.2, 3.0, 3.2]
HART_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
HART_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi * math.pi), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(p):
    f = 0.0
    for i in range(4):
        s = sum(HART_A[i][j] * (p["x%d" % j] - HART_P[i][j]) ** 2 for j in range(6))
        f -= HART_ALPHA[i] * math.exp(-s)
    return f


def rosenbrock5log(p):
    z = [math.log10(p["x%d" % i]) for i in range(5)]
    return sum(100 * (z[i + 1] - z[i] ** 2) ** 2 + (1 - z[i]) ** 2 for i in range(4))


def mixed(p):
    offset, centre = [0, 0.3, 0.6, 1.0], [0.2, 0.5, 0.8]
    c2 = int(p["c2"])
    f = offset[int(p["c1"])]
    if c2 != 2:
        f += 0.1
    for u in ("u1", "u2", "u3"):
        f += 4 * (p[u] - centre[c2]) ** 2
    k = (p["k"] - 7) / 3
    return f + 0.5 * k * k


def rastrigin(p):
    xs = [p[n] for n in sorted(p)]
    return 10 * len(xs) + sum(x * x - 10 * math.cos(2 * math.pi * x) for x in xs)


def ackley(p):
    xs = [p[n] for n in sorted(p)]
    d = len(xs)
    s1 = sum(x * x for x in xs) / d
    s2 = sum(math.cos(2 * math.pi * x) for x in xs) / d
    return -20 * math.exp(-0.2 * math.sqrt(s1)) - math.exp(s2) + 20 + math.e


def styblinski(p):
    return sum(x ** 4 - 16 * x * x + 5 * x for x in (p[n] for n in sorted(p))) / 2


def levy(p):
    w = [1 + (p[n] - 1) / 4 for n in sorted(p)]
    f = math.sin(math.pi * w[0]) ** 2
    for wi in w[:-1]:
        f += (wi - 1) ** 2 * (1 + 10 * math.sin(math.pi * wi + 1) ** 2)
    return f + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)


def mixedcat(p):
    # A multimodal mix: the kernel choice picks which continuous optimum counts,
    # an int sets a frequency and a categorical flag adds a penalty.
    shift = [0.25, -0.5, 0.75, 0.0, -0.25][int(p["kernel"])]
    f = 0.0
    for n in ("a", "b", "c"):
        d = p[n] - shift
        f += d * d + 0.1 * (1 - math.cos(3 * math.pi * d))
    f += 0.05 * abs(p["freq"] - 4)
    if int(p["norm"]) != 1:
        f += 0.2
    return f + 0.05 * int(p["kernel"])


SUR_BATCH = ["32", "64", "128", "256"]


def surrogate_final(x):
    lr_opt, wd_opt, floor = 0.1, 5e-4, 0.05
    if x["opt"] == 1:
        lr_opt, wd_opt, floor = 1e-3, 5e-3, 0.06
    dl = math.log10(x["lr"]) - math.log10(lr_opt)
    final = floor + 0.06 * dl ** 2 + 0.015 * (math.log10(x["wd"]) - math.log10(wd_opt)) ** 2
    final += [0.01, 0, 0.005, 0.02][int(x["batch"])]
    if x["opt"] == 0:
        final += 0.5 * (x["momentum"] - 0.9) ** 2
    if dl > 0.7:
        final += 0.3 * (dl - 0.7)
    if x["sched"] == 0:
        final += 0.002 * abs(x["warmup"] - 3)
    elif x["sched"] == 1:
        final += 0.01 + 0.05 * (x["step_gamma"] - 0.3) ** 2 + 0.0005 * abs(x["step_every"] - 8)
    elif x["sched"] == 2:
        final += 0.004 + 0.1 * (x["pct_start"] - 0.3) ** 2
    final = min(final, 0.9)
    tau = 3 + 4 * max(-dl, 0)
    if x["sched"] == 2:
        tau *= 0.8
    return final, tau


def surrogate(x, epoch=27):
    final, tau = surrogate_final(x)
    return final + (0.9 - final) * math.exp(-epoch / tau)


def surrogate_space(ask):
    p = {}
    for spec in [("lr", "float", 1e-4, 1, True), ("wd", "float", 1e-6, 1e-2, True),
                 ("batch", "cat", 0, 0, SUR_BATCH), ("opt", "cat", 0, 0, ["sgd", "adamw"]),
                 ("sched", "cat", 0, 0, ["cosine", "step", "onecycle"])]:
        p[spec[0]] = ask(spec)
    more = []
    if p["opt"] == 0:
        more.append(("momentum", "float", 0.5, 0.99, False))
    if p["sched"] == 0:
        more.append(("warmup", "int", 0, 10, 1))
    elif p["sched"] == 1:
        more += [("step_gamma", "float", 0.1, 0.9, False), ("step_every", "int", 3, 20, 1)]
    else:
        more.append(("pct_start", "float", 0.1, 0.5, False))
    for spec in more:
        p[spec[0]] = ask(spec)
    return p


def fixed(space):
    return lambda ask: {spec[0]: ask(spec) for spec in space}


# FUNCTIONS maps the CLI name to (ask, eval); the names match Problem.Key in Go.
FUNCTIONS = {
    "branin": (fixed([("x1", "float", -5, 10, False), ("x2", "float", 0, 15, False)]), branin),
    "hartmann6": (fixed(_floats(_xs(6), 0, 1)), hartmann6),
    "rosenbrock5log": (fixed(_floats(_xs(5), 1e-2, 1e2, True)), rosenbrock5log),
    "mixed": (fixed([("c1", "cat", 0, 0, ["a", "b", "c", "d"]), ("c2", "cat", 0, 0, ["x", "y", "z"])]
                    + _floats(["u1", "u2", "u3"], 0, 1) + [("k", "int", 1, 10, 1)]), mixed),
    "surrogate": (surrogate_space, surrogate),
    "rastrigin4": (fixed(_floats(_xs(4), -5.12, 5.12)), rastrigin),
    "ackley5": (fixed(_floats(_xs(5), -32.768, 32.768)), ackley),
    "styblinski4": (fixed(_floats(_xs(4), -5, 5)), styblinski),
    "levy6": (fixed(_floats(_xs(6), -10, 10)), levy),
    "mixedcat": (fixed([("kernel", "cat", 0, 0, ["rbf", "linear", "poly", "sigmoid", "laplace"]),
                        ("norm", "cat", 0, 0, ["none", "batch", "layer"])]
                       + _floats(["a", "b", "c"], -1, 1) + [("freq", "int", 1, 8, 1)]), mixedcat),
}


def suggest(trial, spec):
    name, kind, low, high, extra = spec
    if kind == "float":
        return trial.suggest_float(name, low, high, log=extra)
    if kind == "int":
        return trial.suggest_int(name, low, high, step=extra)
    return extra.index(trial.suggest_categorical(name, extra))


def make_sampler(mode, seed):
    kw = {"seed": seed}
    if mode == "univariate":
        kw["multivariate"] = False
    elif mode == "multivariate":
        kw["multivariate"] = True
    return optuna.samplers.TPESampler(**kw)


def cmd_run(a):
    ask, ev = FUNCTIONS[a.function]
    lo, _, hi = a.seeds.partition("-")
    for seed in range(int(lo), int(hi or lo) + 1):
        study = optuna.create_study(sampler=make_sampler(a.mode, seed))
        vals = []
        for _ in range(a.trials):
            t = study.ask()
            v = ev(ask(lambda spec: suggest(t, spec)))
            study.tell(t, v)
            vals.append(v)
        print(json.dumps({"seed": seed, "values": vals}), flush=True)


def cmd_eval(_):
    for line in sys.stdin:
        if line.strip():
            q = json.loads(line)
            print(json.dumps({"value": FUNCTIONS[q["fn"]][1](q["params"])}), flush=True)


EIGHT = [("lr", "float", 1e-5, 1, True), ("wd", "float", 1e-6, 1e-2, True),
         ("momentum", "float", 0.5, 0.99, False), ("dropout", "float", 0, 0.5, False),
         ("width", "int", 16, 256, 16), ("depth", "int", 1, 8, 1),
         ("opt", "cat", 0, 0, ["sgd", "adamw", "lamb"]),
         ("sched", "cat", 0, 0, ["cosine", "step", "onecycle", "none"])]


def dist_of(spec):
    d = optuna.distributions
    name, kind, low, high, extra = spec
    if kind == "float":
        return d.FloatDistribution(low, high, log=extra)
    if kind == "int":
        return d.IntDistribution(low, high, step=extra)
    return d.CategoricalDistribution(extra)


def cmd_latency(a):
    """Median time of one full 8-param suggestion on a history of random trials."""
    rng = random.Random(1)
    dists = {s[0]: dist_of(s) for s in EIGHT}
    study = optuna.create_study(sampler=make_sampler(a.mode, 1))
    trials = []
    for _ in range(a.trials):
        params, total = {}, 0.0
        for s in EIGHT:
            name, kind, low, high, extra = s
            if kind == "float":
                v = math.exp(rng.uniform(math.log(low), math.log(high))) if extra else rng.uniform(low, high)
            elif kind == "int":
                v = low + extra * rng.randrange((high - low) // extra + 1)
            else:
                v = rng.choice(extra)
            params[name] = v
            total += dists[name].to_internal_repr(v)
        trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=total + rng.random()))
    study.add_trials(trials)
    times = []
    for _ in range(a.reps):
        t = study.ask()
        t0 = time.perf_counter()
        for s in EIGHT:
            suggest(t, s)
        times.append(time.perf_counter() - t0)
        study.tell(t, state=optuna.trial.TrialState.FAIL)
    times.sort()
    print(json.dumps({"trials": a.trials, "median_ms": 1e3 * times[len(times) // 2]}), flush=True)


def cmd_dump(_):
    """Runs Optuna's TPE internals on a given history.

    stdin: {"space": [[name, kind, low, high, extra], ...], "multivariate": bool,
            "trials": [{"params": {name: internal value}, "value": v, "state": "COMPLETE"|"RUNNING"}],
            "candidates": {name: [internal values]}}
    stdout: below/above trial numbers; per estimator the weights and per param the
    kernel mus, sigmas (numeric) or weight rows (categorical); the log densities
    l, g at the given candidates.
    """
    from optuna.samplers._tpe import sampler as tpe_sampler

    q = json.load(sys.stdin)
    space = {s[0]: dist_of(s) for s in q["space"]}
    names = [s[0] for s in q["space"]]
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(
        seed=0, multivariate=q["multivariate"], constant_liar=True))
    for t in q["trials"]:
        params = {}
        for s in q["space"]:
            if s[0] in t["params"]:
                params[s[0]] = space[s[0]].to_external_repr(t["params"][s[0]])
        state = getattr(optuna.trial.TrialState, t.get("state", "COMPLETE"))
        dists = {n: space[n] for n in params}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, state=state,
                                                  value=t["value"] if state.is_finished() else None))
    s = study.sampler
    trials = study._get_trials(deepcopy=False, states=None, use_cache=False)
    n = sum(t.state != optuna.trial.TrialState.RUNNING for t in trials)
    gamma = tpe_sampler.default_gamma
    below, above = tpe_sampler._split_trials(study, trials, gamma(n))
    out = {"version": optuna.__version__, "below": [t.number for t in below], "above": [t.number for t in above]}
    import numpy as np  # optuna's own dependency

    cands = {nm: np.asarray(q["candidates"][nm], dtype=float) for nm in names}  # internal values
    for label, group, hb in (("l", below, True), ("g", above, False)):
        mpe = s._build_parzen_estimator(study, space, group, handle_below=hb)
        mix = mpe._mixture_distribution
        est = {"weights": list(map(float, mix.weights)), "params": {}}
        for nm, d in zip(names, mix.distributions):
            if hasattr(d, "mu"):
                est["params"][nm] = {"mu": list(map(float, d.mu)), "sigma": list(map(float, d.sigma))}
            else:
                est["params"][nm] = {"rows": [list(map(float, r)) for r in d.weights]}
        est["logpdf"] = list(map(float, mpe.log_pdf(cands)))
        out[label] = est
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version")
    r = sub.add_parser("run")
    r.add_argument("function", choices=sorted(FUNCTIONS))
    r.add_argument("--seeds", default="0-30")
    r.add_argument("--trials", type=int, default=100)
    r.add_argument("--mode", default="default", choices=["default", "univariate", "multivariate"])
    sub.add_parser("eval")
    lat = sub.add_parser("latency")
    lat.add_argument("--trials", type=int, default=1000)
    lat.add_argument("--reps", type=int, default=30)
    lat.add_argument("--mode", default="default", choices=["default", "univariate", "multivariate"])
    sub.add_parser("dump")
    a = ap.parse_args()
    if a.cmd != "eval" and optuna is None:
        sys.exit("optuna_bench: optuna is not importable")
    if a.cmd == "version":
        print(json.dumps({"version": optuna.__version__}))
        return
    if optuna is not None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    {"run": cmd_run, "eval": cmd_eval, "latency": cmd_latency, "dump": cmd_dump}[a.cmd](a)


if __name__ == "__main__":
    main()

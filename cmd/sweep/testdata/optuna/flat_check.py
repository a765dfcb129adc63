"""Loads sweep's flat exports with the standard library and checks them.

Usage: flat_check.py CSV JSON JSONL TYPES_JSON TRIALS

TYPES_JSON maps param names to the Python type the JSON export must give
them ("int", "float", "str", "bool"). Prints "ok" or the problems found.
"""
import csv
import json
import sys

csv_path, json_path, jsonl_path, types, n = sys.argv[1:6]
types, n = json.loads(types), int(n)
problems = []

with open(json_path) as f:
    rows = json.load(f)
with open(jsonl_path) as f:
    lines = [json.loads(line) for line in f]
with open(csv_path, newline="") as f:
    table = list(csv.DictReader(f))

if not (len(rows) == len(lines) == len(table) == n):
    problems.append(f"counts: json {len(rows)}, jsonl {len(lines)}, csv {len(table)}, want {n}")
if lines != rows:
    problems.append("jsonl rows differ from json rows")
if [r["number"] for r in rows] != list(range(n)):
    problems.append(f"numbers {[r['number'] for r in rows]}")
want_cols = ["params_" + k for k in types] + ["user_attrs_synthetic_quality", "value", "state", "steps",
                                               "duration_s", "datetime_start", "datetime_complete"]
for c in want_cols:
    if c not in table[0] or c not in rows[0]:
        problems.append(f"column {c} missing")


def cell(v):
    # How the CSV writes a JSON value.
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v) if not isinstance(v, float) else repr(v)


for r, c in zip(rows, table):
    n_ = r["number"]
    if r["state"] not in ("COMPLETE", "PRUNED", "FAIL"):
        problems.append(f"trial {n_}: state {r['state']}")
    if (r["value"] is None) != (r["state"] == "FAIL"):
        problems.append(f"trial {n_}: {r['state']} with value {r['value']!r}")
    if not isinstance(r["steps"], int) or not isinstance(r["duration_s"], float):
        problems.append(f"trial {n_}: steps {r['steps']!r}, duration {r['duration_s']!r}")
    for k, t in types.items():
        v = r["params_" + k]
        if v is not None and type(v).__name__ != t:
            problems.append(f"trial {n_}: params_{k}={v!r} is {type(v).__name__}, want {t}")
    opt = r["params_optimizer"]
    for k, branch in [("momentum", "sgd"), ("beta2", "adam"), ("warmup", "adam")]:
        if (r["params_" + k] is None) == (opt == branch):
            problems.append(f"trial {n_}: optimizer {opt} with params_{k}={r['params_' + k]!r}")
    if not isinstance(r["user_attrs_synthetic_quality"], (float, type(None))):
        problems.append(f"trial {n_}: user_attrs_synthetic_quality {r['user_attrs_synthetic_quality']!r}")
    for k, v in r.items():
        got = c.get(k)
        if isinstance(v, float) and got != "":
            ok = float(got) == v
        elif k.startswith("user_attrs_") and v is not None:
            ok = float(got) == float(v)
        else:
            ok = got == cell(v)
        if not ok:
            problems.append(f"trial {n_}: csv {k}={got!r}, json {v!r}")

if problems:
    print("\n".join(problems[:40]))
    sys.exit(1)
print(f"ok {n} rows")

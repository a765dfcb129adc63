"""Checks a sweep study through Optuna against sweep's own tables.

Usage: check.py DSN OPTUNA_URL STUDY TYPES_JSON [JOURNAL_FILE]

DSN is sweep's database (libpq URL); OPTUNA_URL the read-only optuna views;
TYPES_JSON maps param names to the Python type Optuna must give them
("int", "float", "str", "bool"). With JOURNAL_FILE, the journal export must
load into the same trials. Prints "ok N trials" or fails with a message.
"""
import datetime
import json
import math
import sys
import warnings
import zoneinfo

import optuna
import psycopg2

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
dsn, url, name, types = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
journal = sys.argv[5] if len(sys.argv) > 5 else None
problems = []
notes = []


def fail(msg):
    problems.append(msg)


conn = psycopg2.connect(dsn)
cur = conn.cursor()
cur.execute("SELECT current_setting('TimeZone')")
session_tz = zoneinfo.ZoneInfo(cur.fetchone()[0])
cur.execute("SELECT id, direction FROM studies WHERE name = %s", (name,))
study_id, direction = cur.fetchone()
cur.execute(
    "SELECT id, number, state, value, started_at, finished_at, reason FROM trials "
    "WHERE study_id = %s ORDER BY number",
    (study_id,),
)
db = {r[1]: dict(id=r[0], state=r[2], value=r[3], start=r[4], end=r[5], reason=r[6]) for r in cur.fetchall()}
for t in db.values():
    cur.execute("SELECT name, external FROM trial_params WHERE trial_id = %s", (t["id"],))
    t["params"] = dict(cur.fetchall())
    cur.execute("SELECT step, value FROM trial_values WHERE trial_id = %s", (t["id"],))
    t["steps"] = dict(cur.fetchall())
    cur.execute("SELECT key, value FROM trial_user_attrs WHERE trial_id = %s", (t["id"],))
    t["attrs"] = dict(cur.fetchall())


def naive(ts, tz):
    return None if ts is None else ts.astimezone(tz).replace(tzinfo=None)


def choice_string(v):
    # search.ChoiceString: how sweep's trial_params.external holds a choice.
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def attr_text(v, text):
    # Numeric attrs (test_acc "0.8120") reach Optuna as numbers.
    if isinstance(v, (int, float)) and text is not None and float(text) == v:
        return text
    return str(v)


def same(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def check_trial(label, ft, tz):
    t = db.get(ft.number)
    if t is None:
        return fail(f"{label}: trial {ft.number} is not in the database")
    n = f"{label} trial {ft.number}"
    if ft.state.name != t["state"]:
        fail(f"{n}: state {ft.state.name}, database {t['state']}")
    want = t["value"]
    if t["state"] not in ("COMPLETE", "PRUNED") or want is None or math.isnan(want):
        want = None
    if not same(ft.value, want):
        fail(f"{n}: value {ft.value!r}, database {want!r}")
    if ft.datetime_start != naive(t["start"], tz) or ft.datetime_complete != naive(t["end"], tz):
        fail(f"{n}: datetimes {ft.datetime_start}..{ft.datetime_complete}, database {t['start']}..{t['end']}")
    if set(ft.params) != set(t["params"]):
        fail(f"{n}: params {sorted(ft.params)}, database {sorted(t['params'])}")
    for k, v in ft.params.items():
        ext = t["params"].get(k)
        if isinstance(ext, str) and choice_string(v) != ext or not isinstance(ext, str) and not same(float(v), float(ext)):
            fail(f"{n}: param {k}={v!r}, database {ext!r}")
        if type(v).__name__ != types.get(k, type(v).__name__):
            fail(f"{n}: param {k}={v!r} is {type(v).__name__}, want {types[k]}")
        if not ft.distributions[k]._contains(ft.distributions[k].to_internal_repr(v)):
            fail(f"{n}: param {k}={v!r} outside {ft.distributions[k]}")
    if set(ft.intermediate_values) != set(t["steps"]) or any(
        not same(ft.intermediate_values[s], v) for s, v in t["steps"].items()
    ):
        fail(f"{n}: intermediate values {ft.intermediate_values}, database {t['steps']}")
    if {k: attr_text(v, t["attrs"].get(k)) for k, v in ft.user_attrs.items()} != t["attrs"]:
        fail(f"{n}: user attrs {ft.user_attrs}, database {t['attrs']}")
    if t["state"] == "FAIL" and t["reason"] and ft.system_attrs.get("fail_reason") != t["reason"]:
        fail(f"{n}: fail_reason {ft.system_attrs.get('fail_reason')!r}, database {t['reason']!r}")


study = optuna.load_study(study_name=name, storage=url)
if study.direction.name != direction.upper():
    fail(f"direction {study.direction.name}, database {direction}")
trials = study.get_trials(deepcopy=False)
if [t.number for t in trials] != sorted(db):
    fail(f"trial numbers {[t.number for t in trials]}, database {sorted(db)}")
for ft in trials:
    check_trial("views", ft, session_tz)
complete = [t for t in db.values() if t["state"] == "COMPLETE" and not math.isnan(t["value"])]
best = (max if direction == "maximize" else min)(t["value"] for t in complete)
if study.best_value != best or db[study.best_trial.number]["value"] != best:
    fail(f"best value {study.best_value} (trial {study.best_trial.number}), database {best}")
try:
    import pandas  # noqa: F401  (trials_dataframe needs it; Debian: python3-pandas)
except ImportError:
    notes.append("trials_dataframe not checked: python3 lacks pandas")
else:
    df = study.trials_dataframe()
    if len(df) != len(db) or sorted(df["state"].unique()) != sorted({t["state"] for t in db.values()}):
        fail(f"trials_dataframe: {len(df)} rows, states {sorted(df['state'].unique())}")
    for col in ["params_" + k for k in types] + ["user_attrs_synthetic_quality", "datetime_start", "duration"]:
        if col not in df.columns:
            fail(f"trials_dataframe lacks {col}: {list(df.columns)}")
if optuna.get_all_study_summaries(url)[0].n_trials < 1:
    fail("study summaries: no trials")

# Optuna's write paths fail with PostgreSQL's error, and change nothing.
cur.execute("SELECT count(*) FROM studies")
before = cur.fetchone()[0]
for what, write in [
    ("create_study", lambda: optuna.create_study(study_name="optuna-wrote-this", storage=url)),
    ("set_study_user_attr", lambda: study.set_user_attr("x", 1)),
    ("enqueue_trial", lambda: study.enqueue_trial({})),
]:
    try:
        write()
        fail(f"{what} succeeded on the read-only views")
    except Exception as e:  # Optuna wraps SQLAlchemy's error, which wraps psycopg2's
        chain = []
        while e is not None:
            chain.append(str(e))
            e = e.__cause__ or e.__context__
        if not any("read-only view of sweep's studies" in c for c in chain):
            fail(f"{what}: unexpected error {chain!r}")
cur.execute("SELECT count(*) FROM studies")
if cur.fetchone()[0] != before:
    fail("a write through the views changed sweep's studies")

if journal:
    from optuna.storages import JournalFileStorage, JournalStorage

    js = optuna.load_study(study_name=name, storage=JournalStorage(JournalFileStorage(journal)))
    jt = js.get_trials(deepcopy=False)
    if len(jt) != len(trials):
        fail(f"journal: {len(jt)} trials, views {len(trials)}")
    local = datetime.datetime.now().astimezone().tzinfo
    for a, b in zip(trials, jt):
        check_trial("journal", b, local)
        if a.distributions != b.distributions or a.params != b.params or a.user_attrs != b.user_attrs:
            fail(f"journal trial {b.number}: {b.params} {b.distributions}, views {a.params} {a.distributions}")
    if js.direction != study.direction or js.best_trial.number != study.best_trial.number:
        fail(f"journal: direction {js.direction}, best trial {js.best_trial.number}")

if problems:
    print("\n".join(problems[:40]))
    sys.exit(1)
print(f"ok {len(trials)} trials", *notes, sep="; ")

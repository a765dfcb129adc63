"""Compares Optuna studies with their copies imported into sweep.

Usage: import_check.py VIEWS_URL SOURCE IMPORTED_NAME [SOURCE IMPORTED_NAME...]

SOURCE is the original Optuna storage (an RDB URL or a journal file) holding
"from-optuna"; IMPORTED_NAME the sweep study it was imported as, read back
through sweep's optuna views at VIEWS_URL. Prints "ok" or the differences.
"""
import datetime
import math
import sys
import warnings
import zoneinfo

import optuna
import sqlalchemy
from optuna.storages import JournalFileStorage, JournalStorage

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
views = sys.argv[1]
engine = sqlalchemy.create_engine(views)
with engine.connect() as c:
    session_tz = zoneinfo.ZoneInfo(c.execute(sqlalchemy.text("SHOW TimeZone")).scalar())
local_tz = datetime.datetime.now().astimezone().tzinfo
problems = []


def instant(dt, tz):
    return None if dt is None else dt.replace(tzinfo=tz)


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


args = sys.argv[2:]
for source, name in zip(args[::2], args[1::2]):
    storage = source if "://" in source else JournalStorage(JournalFileStorage(source))
    src = optuna.load_study(study_name="from-optuna", storage=storage)
    dst = optuna.load_study(study_name=name, storage=views)
    if src.direction != dst.direction or src.user_attrs != dst.user_attrs:
        problems.append(f"{name}: study {dst.direction} {dst.user_attrs}, Optuna {src.direction} {src.user_attrs}")
    a, b = src.get_trials(deepcopy=False), dst.get_trials(deepcopy=False)
    if len(a) != len(b) or not {t.state.name for t in a} >= {"COMPLETE", "PRUNED", "FAIL"}:
        problems.append(f"{name}: {len(b)} trials, Optuna {len(a)} with states {sorted({t.state.name for t in a})}")
    for s, d in zip(a, b):
        n = f"{name} trial {s.number}"
        for field in ["number", "state", "value", "distributions", "user_attrs"]:
            if not same(getattr(s, field), getattr(d, field)) and getattr(s, field) != getattr(d, field):
                problems.append(f"{n}: {field} {getattr(d, field)!r}, Optuna {getattr(s, field)!r}")
        if set(s.params) != set(d.params) or any(not same(v, d.params[k]) for k, v in s.params.items()):
            problems.append(f"{n}: params {d.params}, Optuna {s.params}")
        iv_s, iv_d = s.intermediate_values, d.intermediate_values
        if set(iv_s) != set(iv_d) or any(not same(v, iv_d[k]) for k, v in iv_s.items()):
            problems.append(f"{n}: intermediate values {iv_d}, Optuna {iv_s}")
        for f in ["datetime_start", "datetime_complete"]:
            if instant(getattr(s, f), local_tz) != instant(getattr(d, f), session_tz):
                problems.append(f"{n}: {f} {getattr(d, f)} ({session_tz}), Optuna {getattr(s, f)} (local)")
        if s.system_attrs.get("fail_reason") != d.system_attrs.get("fail_reason"):
            problems.append(f"{n}: fail_reason {d.system_attrs.get('fail_reason')!r}, Optuna {s.system_attrs.get('fail_reason')!r}")
    if src.best_trial.number != dst.best_trial.number:
        problems.append(f"{name}: best trial {dst.best_trial.number}, Optuna {src.best_trial.number}")

if problems:
    print("\n".join(problems[:40]))
    sys.exit(1)
print("ok")

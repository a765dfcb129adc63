"""Runs one Optuna study into an RDB storage and a journal file.

Usage: make_study.py RDB_URL JOURNAL_FILE

The study "from-optuna" (maximize) has a conditional space, log and stepped
params, categorical ints and floats, pruned and failed trials, a NaN
intermediate value, and user attrs; both storages get the same trials.
"""
import math
import sys
import warnings

import optuna
from optuna.storages import JournalFileStorage, JournalStorage

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)


def objective(trial):
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    width = trial.suggest_int("width", 8, 256, log=True)
    dropout = trial.suggest_float("dropout", 0.0, 0.5, step=0.1)
    trial.suggest_categorical("batch_size", [64, 128, 256])
    if trial.suggest_categorical("optimizer", ["sgd", "adam"]) == "sgd":
        trial.suggest_float("momentum", 0.8, 0.99)
    else:
        trial.suggest_categorical("beta2", [0.99, 0.999])
    trial.set_user_attr("test_acc", round(0.5 + dropout / 2, 4))
    trial.set_user_attr("note", f"width {width}")
    if trial.number % 7 == 3:
        raise ValueError("diverged")
    v = 0.0
    for step in range(1, 5):
        v = 1 - abs(math.log10(lr) + 1.5) / 4 - dropout / 10 + step / 100
        trial.report(float("nan") if trial.number == 6 and step == 1 else v, step)
        if trial.number % 5 == 4 and step == 2:
            raise optuna.TrialPruned()
    return v


for storage in [sys.argv[1], JournalStorage(JournalFileStorage(sys.argv[2]))]:
    study = optuna.create_study(study_name="from-optuna", storage=storage, direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=7))
    study.set_user_attr("team", "vision")
    study.optimize(objective, n_trials=15, catch=(ValueError,))
print("ok")

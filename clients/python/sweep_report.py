"""Report to sweep from a training script run by objective `command`.

No dependencies: copy this file next to your script, or put its directory on
PYTHONPATH. Outside sweep (SWEEP_* unset) it still prints, so the script runs
the same by hand.

    import sweep_report as sweep
    p = sweep.params()                       # {"lr": 0.01, ...} from SWEEP_PARAMS
    for epoch in range(1, epochs + 1):
        ...
        sweep.report(epoch, val_acc=acc, train_loss=loss)
        if sweep.should_prune():             # only needed if you handle SIGTERM
            break
    sweep.report(val_acc=best)               # no step: the trial's final value

sweep reads one JSON object per stdout line. A line with "step" is an
intermediate value of the study's metric (SWEEP_METRIC) at that step, which
the pruner judges; other numeric keys are stored as metrics of the step. A
line without "step" sets the final value. When the pruner stops a trial,
sweep writes "prune" into the file SWEEP_CONTROL, then sends SIGTERM to the
program's process group, and SIGKILL after kill_grace.
"""
import json
import os
import sys

__all__ = ["params", "report", "should_prune", "trial_dir"]


def params():
    """The trial's params as a dict (SWEEP_PARAMS), {} outside sweep."""
    return json.loads(os.environ.get("SWEEP_PARAMS") or "{}")


def trial_dir():
    """The trial's own directory for checkpoints and logs ("." outside sweep)."""
    return os.environ.get("SWEEP_TRIAL_DIR", ".")


def report(step=None, **metrics):
    """Print one report line and flush it, so sweep sees it at once.

    step is the epoch (an int >= 0) or None for the final value. Values
    must be numbers; NaN and infinities are sent as such and fail the trial
    when they are the study's metric.
    """
    line = {}
    if step is not None:
        if int(step) != step or step < 0:
            raise ValueError("sweep_report: step must be a whole number >= 0, got %r" % (step,))
        line["step"] = int(step)
    for key, value in metrics.items():
        line[key] = float(value)  # accepts numpy and torch scalars; NaN is written bare
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def should_prune():
    """True once sweep has decided to prune this trial (SIGTERM follows)."""
    path = os.environ.get("SWEEP_CONTROL")
    if not path:
        return False
    try:
        with open(path) as f:
            return f.read().strip() == "prune"
    except OSError:
        return False

#!/usr/bin/env python3
"""A stand-in training script for objective `command` (standard library only).

sweep runs it once per trial as `python3 quadratic.py --x=... --y=... --noise=...`
(each param appended as --name=value) and reads JSON lines from its stdout:
one {"step": N, "loss": ...} per "epoch", which the pruner watches, then a final
line without a step. Its "loss" approaches (x-2)^2 + (y+1)^2 like a training
curve, so a good sampler finds x=2, y=-1.
"""
import argparse
import json
import math
import os
import random
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--x", type=float, required=True)
    ap.add_argument("--y", type=float, required=True)
    ap.add_argument("--noise", default="low", choices=["low", "high"])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--epoch-seconds", type=float, default=0.05)
    args = ap.parse_args()

    # SWEEP_PARAMS holds the same params as JSON; SWEEP_TRIAL seeds the noise.
    params = json.loads(os.environ.get("SWEEP_PARAMS", "{}"))
    trial = int(os.environ.get("SWEEP_TRIAL", "0"))
    rng = random.Random(trial)
    print(f"trial {trial}: params {params}", file=sys.stderr, flush=True)  # stderr is the trial's log

    target = (args.x - 2) ** 2 + (args.y + 1) ** 2
    scale = 0.05 if args.noise == "low" else 0.3
    loss = None
    for epoch in range(1, args.epochs + 1):
        time.sleep(args.epoch_seconds)
        loss = target + 10 / epoch + scale * rng.random()
        print(json.dumps({"step": epoch, "loss": loss, "grad_norm": math.sqrt(loss)}), flush=True)
    # A line without "step" sets the final value (here: the loss without noise).
    print(json.dumps({"loss": target + 10 / args.epochs, "distance": math.hypot(args.x - 2, args.y + 1)}), flush=True)


if __name__ == "__main__":
    main()

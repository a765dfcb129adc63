#!/bin/sh
# article-cpu.sh runs issue 22's article study from start to end and writes
# what docs/article-cpu-report.md quotes (`make article-cpu`):
#   1. the study (examples/article-cpu.yaml: tiny on the 45k/5k split, TPE +
#      ASHA, ~1 hour on 2 cores);
#   2. its reports: markdown, HTML, and the article's optimizer table
#      (--group-by optimizer --show lr);
#   3. the best configuration retrained alone with `sweep train` on seeds
#      1-3 (test accuracy is reported, never used for a choice);
#   4. the top-5 complete trials by validation accuracy evaluated as an
#      ensemble from their final checkpoints.
# Everything goes to $OUT (default runs/article-cpu/); the study's
# checkpoints to runs/cifar10-article-cpu/<trial>/. Run it on a quiet
# machine: the wall times it prints are the study's.
set -eu
BIN=${BIN:-bin/sweep}
SWEEP_DATA=${SWEEP_DATA:-../shared/data/cifar10}
export SWEEP_DATA
OUT=${OUT:-runs/article-cpu}
STUDY=cifar10-article-cpu
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"

stamp() { date -u +%H:%M:%S; }

echo "== study (start $(stamp))"
/usr/bin/time -f 'study wall %e s' "$BIN" start examples/article-cpu.yaml 2>&1 | tee "$OUT/study.log"
echo "== reports ($(stamp))"
"$BIN" report "$STUDY" --format markdown >"$OUT/report.md"
"$BIN" report "$STUDY" --format html --out "$OUT/report.html"
"$BIN" report "$STUDY" --group-by optimizer --show lr --format markdown >"$OUT/optimizers.md"
"$BIN" report "$STUDY" --group-by scheduler --show lr --format markdown >"$OUT/schedulers.md"
"$BIN" report "$STUDY" --group-by optimizer,scheduler --show lr --format markdown >"$OUT/opt-sched.md"
"$BIN" report "$STUDY" --format yaml >"$OUT/best.yaml"

echo "== best configuration, seeds 1-3 ($(stamp))"
for seed in 1 2 3; do
	"$BIN" train "$OUT/best.yaml" --data-dir "$SWEEP_DATA" --set seed=$seed \
		--set checkpoint_dir="$OUT/retrain-$seed" 2>&1 | tee "$OUT/retrain-$seed.log"
done

echo "== top-5 ensemble ($(stamp))"
# The five complete trials with the highest validation accuracy, best first.
top=$("$BIN" trials "$STUDY" --state COMPLETE --format jsonl | "$PY" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
rows.sort(key=lambda r: -r["value"])
print(" ".join(str(r["number"]) for r in rows[:5]))')
echo "top-5 trials: $top"
set --
for n in $top; do
	set -- "$@" --ensemble "runs/$STUDY/$n/final.ckpt"
done
"$BIN" train "$OUT/best.yaml" --data-dir "$SWEEP_DATA" "$@" 2>&1 | tee "$OUT/ensemble.log"
echo "== done ($(stamp))"

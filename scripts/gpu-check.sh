#!/usr/bin/env bash
# gpu-check.sh: one self-contained check of sweep's CUDA backend on a GPU
# machine, in under 8 minutes, with no Go toolchain and no network.
#
# Prepare (on any machine with Go, from the repository root):
#     make gpu-check-build
# which writes bin/sweep and gpu/cuda.test (CGO_ENABLED=0: no cgo, glibc dlopen only). Copy
# bin/, gpu/ and scripts/ (or the whole checkout) to the GPU machine, then:
#     scripts/gpu-check.sh            # results also go to gpu/out/
# The NVIDIA driver must be installed; cuBLAS, NVRTC (and cuDNN, optional)
# are found in SWEEP_CUDA_LIB_PATH, the loader's paths, /usr/local/cuda*
# or pip wheels (site-packages/nvidia/*/lib): see `bin/sweep doctor -v`.
#
# Steps, each under its own time limit (30+150+100+120+70+25 s; later
# steps are skipped when the 8-minute budget is nearly spent):
#   1. sweep doctor: libraries, versions, GPUs (stops here without a GPU).
#   2. gpu/cuda.test: the engine conformance suite on the GPU (cuDNN and
#      im2col paths), memory checks, and every op CPU vs GPU on fresh random
#      inputs with relative-error bounds per dtype (fp32 1e-4, tf32 2e-3,
#      bf16 1e-2; NaN never passes), printed as a table.
#   3. training throughput: the engine-level benchmark in gpu/cuda.test
#      (tiny, resnet18, fastnet × fp32, bf16; batch 256, fixed batch, no data
#      loading), and `sweep bench trainer --device cuda --precision P` for
#      the same models.
#   4. a 2-epoch resnet18 bf16 training run on synthetic data (no CIFAR-10
#      needed), through `sweep train`.
#   5. a 1-epoch tiny fp16 run (dynamic loss scaling on the GPU).
#   6. a summary table.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu/out}
mkdir -p "$OUT"
export SWEEP_CUDA_CACHE=${SWEEP_CUDA_CACHE:-$OUT/kernel-cache}
SWEEP=${SWEEP:-bin/sweep}
TEST=${TEST:-gpu/cuda.test}
START=$(date +%s)
declare -a ROWS

row() { ROWS+=("$(printf '%-34s %-8s %s' "$1" "$2" "$3")"); }
elapsed() { echo $(( $(date +%s) - START )); }

for f in "$SWEEP" "$TEST"; do
  if [ ! -x "$f" ]; then
    echo "gpu-check: $f missing; run 'make gpu-check-build' on a machine with Go first" >&2
    exit 2
  fi
done

echo "== 1. sweep doctor"
timeout -k 5 30 "$SWEEP" doctor --verbose | tee "$OUT/doctor.txt"
if ! grep -qE '^cuda +ok' "$OUT/doctor.txt"; then
  echo "gpu-check: the CUDA backend is unavailable here (see above); nothing on the GPU was run" >&2
  exit 2
fi
row "doctor" "ok" "$(grep -E '^[0-9]+ ' "$OUT/doctor.txt" | head -1 | tr -s ' ')"

echo "== 2. op-by-op GPU tests (conformance, CPU vs GPU)"
timeout -k 5 150 "$TEST" -test.run 'TestGPU' -test.v -test.count=1 -test.timeout 145s 2>&1 | tee "$OUT/gpu-tests.txt"
rc=${PIPESTATUS[0]}
pass=$(grep -c -- '--- PASS: TestGPU' "$OUT/gpu-tests.txt")
fail=$(grep -c -- '--- FAIL: TestGPU' "$OUT/gpu-tests.txt")
skip=$(grep -c -- '--- SKIP: TestGPU' "$OUT/gpu-tests.txt")
# doctor saw a usable GPU, so a skipped GPU test is a failure too.
verdict=FAIL
[ "$rc" = 0 ] && [ "$skip" = 0 ] && [ "$pass" -gt 0 ] && verdict=ok
row "gpu tests (rc $rc)" "$verdict" "$pass passed, $fail failed, $skip skipped"
# The CPU-vs-GPU table rows: "op dtype maxrel bound PASS|FAIL".
grep -E '^ +[^ ].* (fp32|tf32|bf16) +[0-9.e+-]+ +[0-9.e+-]+ +(PASS|FAIL)' "$OUT/gpu-tests.txt" | sed 's/^ *//' > "$OUT/versus.txt" || true

echo "== 3a. engine training benchmark (gpu/cuda.test -test.bench GPU_Train)"
timeout -k 5 100 "$TEST" -test.run '^$' -test.bench 'GPU_Train' -test.benchtime 20x -test.timeout 95s 2>&1 | tee "$OUT/engine-bench.txt"
while read -r name ips; do
  row "engine ${name#BenchmarkGPU_Train/}" "ok" "$ips img/s (batch 256)"
done < <(grep -E '^BenchmarkGPU_Train/.* img/s' "$OUT/engine-bench.txt" | awk '{for(i=1;i<NF;i++) if($(i+1)=="img/s") print $1, $i}')
grep -qE '^BenchmarkGPU_Train/.* img/s' "$OUT/engine-bench.txt" || row "engine bench" "FAIL" "no img/s lines (see $OUT/engine-bench.txt)"

echo "== 3b. sweep bench trainer --device cuda"
for model in tiny resnet18 fastnet; do
  for prec in fp32 bf16; do
    if [ "$(elapsed)" -gt 380 ]; then
      row "bench $model $prec" "skipped" "time budget (8 min) nearly spent"; continue
    fi
    args=(bench trainer --device cuda --model "$model" --precision "$prec" --batch 256 --steps 30 --json)
    if timeout -k 5 20 "$SWEEP" "${args[@]}" >"$OUT/bench-$model-$prec.json" 2>"$OUT/bench-$model-$prec.err"; then
      ips=$(grep -o '"img_per_s": *[0-9.]*' "$OUT/bench-$model-$prec.json" | grep -o '[0-9.]*$')
      row "bench $model $prec" "ok" "${ips:-?} img/s (batch 256)"
    else
      row "bench $model $prec" "FAIL" "$(tail -1 "$OUT/bench-$model-$prec.err")"
    fi
  done
done

echo "== 4. 2-epoch resnet18 training run (synthetic data, bf16)"
# data: synthetic needs no CIFAR-10: 10000 generated, learnable images
# (val_acc near 1 means training works; it says nothing about CIFAR-10).
cfg="$OUT/resnet18-2ep.yaml"
printf 'model: resnet18\nepochs: 2\ndevice: cuda\nprecision: bf16\ndata: synthetic\n' >"$cfg"
if [ "$(elapsed)" -gt 400 ]; then
  row "train resnet18 2 epochs" "skipped" "time budget (8 min) nearly spent"
elif timeout -k 5 70 "$SWEEP" train "$cfg" --json >"$OUT/train.json" 2>"$OUT/train.err"; then
  row "train resnet18 2 epochs" "ok" "$(tr -d '\n' <"$OUT/train.json" | grep -o '"val_acc": *"[0-9.]*"' | tail -1)"
else
  row "train resnet18 2 epochs" "FAIL" "$(tail -1 "$OUT/train.err")"
fi

echo "== 5. 1-epoch tiny fp16 run (dynamic loss scaling)"
cfg16="$OUT/tiny-fp16.yaml"
printf 'model: tiny\nepochs: 1\ndevice: cuda\nprecision: fp16\ndata: synthetic\ntrain_limit: 5000\n' >"$cfg16"
if [ "$(elapsed)" -gt 440 ]; then
  row "train tiny fp16 1 epoch" "skipped" "time budget (8 min) nearly spent"
elif timeout -k 5 25 "$SWEEP" train "$cfg16" --json >"$OUT/train-fp16.json" 2>"$OUT/train-fp16.err"; then
  row "train tiny fp16 1 epoch" "ok" "$(tr -d '\n' <"$OUT/train-fp16.json" | grep -o '"val_acc": *"[0-9.]*"' | tail -1)"
else
  row "train tiny fp16 1 epoch" "FAIL" "$(tail -1 "$OUT/train-fp16.err")"
fi

echo
echo "== summary ($(elapsed) s, results in $OUT/)"
printf '%-34s %-8s %s\n' "check" "result" "detail"
for r in "${ROWS[@]}"; do echo "$r"; done
if [ -s "$OUT/versus.txt" ]; then
  echo
  echo "CPU vs GPU (max |gpu−cpu| / max |cpu|):"
  cat "$OUT/versus.txt"
fi
grep -q 'FAIL' <<<"$(printf '%s\n' "${ROWS[@]}")" && exit 1
exit 0

#!/usr/bin/env bash
# gpu-check.sh: one call on a GPU machine (no Go, no network) that either
# shows the CUDA backend working or says exactly what broke, in under 5
# minutes, leaving device time to rerun it.
#
# Prepare (on a machine with Go, from the repository root):
#     make gpu-check-build        # writes gpu/ (git-ignored, < 64 MiB)
# gpu/ holds the stripped sweep binary, the stripped CUDA test binary and
# CIFAR-10's data_batch_1 (xz). Carry gpu/ with the working tree and run
#     scripts/gpu-check.sh        # summary in $OUT/summary.txt, logs in $OUT/gpu-check-logs.tar.gz
# Everything else it writes goes to a scratch directory. The NVIDIA driver
# must be installed; cuBLAS, cuDNN and NVRTC are found as `sweep doctor`
# finds them (SWEEP_CUDA_LIB_PATH, the loader, /usr/local/cuda*, the pip
# wheels of every python3 on PATH).
#
# Rows, each a separate process with its own time limit, all under one
# budget (GPU_CHECK_BUDGET seconds, default 270; a step that would start
# past it is a SKIP row):
#   device        nvidia-smi (name, driver, memory, compute capability)
#   doctor        sweep doctor: the CUDA backend, one row per library
#                 (version and path; a missing cuDNN is a FAIL), the GPU
#   test ...      every TestGPU test of the CUDA test binary on its own,
#                 TestGPU_Models once per model and precision (tiny,
#                 resnet18, fastnet, fastnet94 = airbench94's options)
#   vs-cpu ...    op-by-op CPU vs GPU (fp32, tf32, bf16; from TestGPU_VersusCPU)
#   img/s ...     BenchmarkGPU_Train: tiny, resnet18, fastnet at fp32, bf16
#   cifar10 ...   fastnet bf16, 10 epochs on data_batch_1 (8000 train, 2000
#                 held out), through `sweep train`: validation accuracy
#   torch ...     the same fastnet step in PyTorch (channels_last, bf16
#                 autocast) and the ratio of our img/s to PyTorch's
# The summary is printed last; each FAIL row carries the first log line
# matching 'panic:|fatal error|SIGxxx: |cuda: |cublas: |cudnn: |nvrtc: ' (or the
# last line), and the last line is "FIRST FAILURE: ..." or "ALL OK".
#
# Dry run without a GPU (what `make gpu-check-dry-run` does): set
# GPU_CHECK_EMULATOR to a directory holding the CPU emulation's libraries;
# the steps then run small (the emulation is a plain-loop CPU stand-in) and
# the nvidia-smi and PyTorch rows say SKIP.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
GPU_DIR=$(cd "${GPU_DIR:-$ROOT/gpu}" 2>/dev/null && pwd || echo "${GPU_DIR:-$ROOT/gpu}")
EMU=${GPU_CHECK_EMULATOR:-}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
LOGS=$SCRATCH/logs
OUT=${OUT:-$SCRATCH/out}
mkdir -p "$LOGS" "$OUT" "$SCRATCH/tmp" "$SCRATCH/cifar"
export TMPDIR=$SCRATCH/tmp SWEEP_CUDA_CACHE=$SCRATCH/kernel-cache
SWEEP=$GPU_DIR/sweep
TEST=$GPU_DIR/cuda.test
FAILPAT='panic:|fatal error|^SIG[A-Z]+: |cuda: |cublas: |cudnn: |nvrtc: ' # SIG...: a C library's abort
SLOW=1 # multiplies every step's time limit
BENCHTIME=20x
if [ -n "$EMU" ]; then
  export SWEEP_CUDA_LIB_PATH=$(cd "$EMU" && pwd)
  SLOW=6
  BENCHTIME=2x
fi
BUDGET=${GPU_CHECK_BUDGET:-$((270 * SLOW))}
START=$(date +%s)
declare -a ROWS
FIRST_FAIL=""
NO_GPU="" # set when the backend cannot start: later GPU steps are SKIP

row() { # row STATUS NAME DETAIL
  ROWS+=("$(printf '%-4s  %-34s %s' "$1" "$2" "$3")")
  if [ "$1" = FAIL ] && [ -z "$FIRST_FAIL" ]; then FIRST_FAIL="$2: $3"; fi
}
elapsed() { echo $(($(date +%s) - START)); }

# why LOG: the first line matching FAILPAT, else the line before the first
# "--- FAIL" (a test's last message, usually its t.Fatal), else the last
# non-empty line.
why() {
  local l
  l=$(grep -m1 -E "$FAILPAT" "$1" 2>/dev/null)
  [ -n "$l" ] || l=$(grep -m1 -B1 -- '--- FAIL' "$1" 2>/dev/null | head -1)
  [ -n "$l" ] || l=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -1)
  echo "$l" | sed 's/^[[:space:]]*//' | cut -c1-300
}

# run NAME LIMIT LOG CMD...: runs CMD with its output in LOG under
# min(LIMIT*SLOW, budget left); returns its exit status (124: timed out,
# 200: not started, the budget is spent).
run() {
  local name=$1 limit=$(($2 * SLOW)) log=$3
  shift 3
  local left=$((BUDGET - $(elapsed)))
  if [ "$left" -lt 10 ]; then
    echo "not started: the ${BUDGET}s budget is spent" >"$log"
    return 200
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name (limit ${limit}s)" >&2
  timeout -k 5 "$limit" "$@" >"$log" 2>&1
  local rc=$?
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && echo "gpu-check: timed out after ${limit}s" >>"$log"
  return "$rc"
}

# gotest NAME RUNREGEX LIMIT: one TestGPU test (or subtest) in its own
# process; PASS needs exit 0 and a PASS line (a SKIP here is a FAIL: the
# doctor row found a GPU).
gotest() {
  local name=$1 re=$2 limit=$3 log=$LOGS/test-${1//\//-}.txt
  if [ -n "$NO_GPU" ]; then row SKIP "test $name" "$NO_GPU"; return; fi
  run "test $name" "$limit" "$log" "$TEST" -test.run "$re" -test.v -test.count=1 -test.timeout $((limit * SLOW))s
  local rc=$?
  if [ "$rc" = 200 ]; then row SKIP "test $name" "time budget spent"
  elif [ "$rc" = 0 ] && grep -q -- '--- PASS' "$log" && ! grep -q -- '--- SKIP' "$log"; then
    row OK "test $name" "$(grep -m1 -oE 'backend cuda/.*' "$log" | cut -c1-90)"
  elif grep -q -- '--- SKIP' "$log"; then row FAIL "test $name" "skipped: $(grep -A1 -m1 -- '--- SKIP' "$log" | tail -1 | sed 's/^ *//')"
  else row FAIL "test $name" "rc $rc: $(why "$log")"
  fi
}

for f in "$SWEEP" "$TEST" "$GPU_DIR/data/data_batch_1.bin.xz" "$GPU_DIR/data/batches.meta.txt"; do
  if [ ! -e "$f" ]; then
    row FAIL "prepared files" "$f missing: run 'make gpu-check-build' where Go is, and carry gpu/"
  fi
done

if [ -z "$FIRST_FAIL" ]; then
  # ── device and libraries ───────────────────────────────────────────────
  if [ -n "$EMU" ]; then
    row SKIP "device (nvidia-smi)" "dry run on the CPU emulation ($SWEEP_CUDA_LIB_PATH)"
  elif command -v nvidia-smi >/dev/null; then
    run "nvidia-smi" 20 "$LOGS/nvidia-smi.txt" nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader
    if [ $? = 0 ]; then row OK "device (nvidia-smi)" "$(head -1 "$LOGS/nvidia-smi.txt")"
    else row FAIL "device (nvidia-smi)" "$(why "$LOGS/nvidia-smi.txt")"; fi
  else
    row SKIP "device (nvidia-smi)" "nvidia-smi not on PATH; see the doctor rows"
  fi
  run "sweep doctor" 30 "$LOGS/doctor.txt" "$SWEEP" doctor --verbose
  d=$LOGS/doctor.txt
  if grep -qE '^cuda +ok' "$d"; then row OK "doctor: cuda backend" "$(grep -E '^cuda +ok' "$d" | tr -s ' ' | cut -d' ' -f3-)"
  else
    row FAIL "doctor: cuda backend" "$(grep -E '^cuda ' "$d" | tr -s ' ' | cut -d' ' -f2- || why "$d")"
    NO_GPU="the CUDA backend is unavailable (doctor row)"
  fi
  for lib in "CUDA driver" cuBLAS cuDNN NVRTC; do
    line=$(grep -E "^$lib  " "$d" | head -1 | sed "s/^$lib *//")
    ver=${line%% *}
    if [ -z "$line" ]; then row FAIL "doctor: $lib" "not in the doctor's output: $(why "$d")"
    elif [ "$ver" = "-" ]; then row FAIL "doctor: $lib" "$(echo "${line#- }" | sed 's/^ *//')"
    else row OK "doctor: $lib" "$line"; fi
  done
  gpuline=$(awk '/^GPU /{g=1; next} g && NF {print; exit}' "$d" | tr -s ' ')
  if [ -n "$gpuline" ] && [ "${gpuline#- }" = "$gpuline" ]; then row OK "doctor: GPU" "$gpuline"
  else row FAIL "doctor: GPU" "${gpuline:-none listed}"; NO_GPU=${NO_GPU:-"no GPU (doctor row)"}; fi

  # ── tests: each TestGPU test on its own, models one process each ───────
  tests=$("$TEST" -test.list '^TestGPU' 2>"$LOGS/test-list.txt")
  [ -n "$tests" ] || row FAIL "test list" "$(why "$LOGS/test-list.txt")"
  for t in $tests; do
    [ "$t" = TestGPU_Models ] && continue
    gotest "$t" "^$t\$" 60
    if [ "$t" = TestGPU_VersusCPU ]; then
      while IFS='|' read -r _ op dt rel bound verdict; do
        if [ "$verdict" = PASS ]; then row OK "vs-cpu $op $dt" "max rel err $rel (bound $bound)"
        else row FAIL "vs-cpu $op $dt" "$verdict: max rel err $rel (bound $bound)"; fi
      done < <(grep -oE 'VERSUS\|.*' "$LOGS/test-TestGPU_VersusCPU.txt")
    fi
  done
  if grep -qx TestGPU_Models <<<"$tests"; then
    for m in tiny resnet18 fastnet fastnet94; do
      for p in float32 bfloat16; do gotest "TestGPU_Models/$m-$p" "^TestGPU_Models\$/^$m-$p\$" 40; done
    done
  fi

  # ── throughput: one benchmark process per model and precision ──────────
  OURS=""
  for m in tiny resnet18 fastnet; do
    for p in float32 bfloat16; do
      name="img/s $m $p"
      log=$LOGS/bench-$m-$p.txt
      if [ -n "$NO_GPU" ]; then row SKIP "$name" "$NO_GPU"; continue; fi
      run "$name" 40 "$log" "$TEST" -test.run '^$' -test.bench "^BenchmarkGPU_Train\$/^$m\$/^$p\$" -test.benchtime "$BENCHTIME"
      rc=$?
      # The result line may be split by a notice on stderr: take img/s anywhere.
      ips=$(awk '{for(i=2;i<=NF;i++) if($i=="img/s") print $(i-1)}' "$log" | tail -1)
      if [ "$rc" = 200 ]; then row SKIP "$name" "time budget spent"
      elif [ "$rc" = 0 ] && [ -n "$ips" ] && [ "$ips" != NaN ]; then
        detail="$ips (batch 256, fixed batch)"
        [ -n "$EMU" ] && detail="$ips (emulation: batch 4, 1/8 width; not a speed)"
        row OK "$name" "$detail"
        [ "$m-$p" = fastnet-bfloat16 ] && OURS=$ips
      else row FAIL "$name" "rc $rc: $(why "$log")"
      fi
    done
  done

  # ── a real CIFAR-10 run ────────────────────────────────────────────────
  name="cifar10 fastnet bf16 val_acc"
  cifar=$SCRATCH/cifar
  if [ -n "$NO_GPU" ]; then row SKIP "$name" "$NO_GPU"
  elif ! { xz -dc "$GPU_DIR/data/data_batch_1.bin.xz" >"$cifar/data_batch_1.bin" 2>"$LOGS/unxz.txt" ||
    python3 -c 'import lzma,sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())' \
      "$GPU_DIR/data/data_batch_1.bin.xz" >"$cifar/data_batch_1.bin" 2>>"$LOGS/unxz.txt"; }; then
    row FAIL "$name" "unpack data_batch_1.bin.xz: $(why "$LOGS/unxz.txt")"
  else
    # The loader wants a test batch: data_batch_1 again (test accuracy is
    # then meaningless and not reported; validation holds out 2000 images).
    cp "$cifar/data_batch_1.bin" "$cifar/test_batch.bin"
    cp "$GPU_DIR/data/batches.meta.txt" "$cifar/"
    cfg=$SCRATCH/fastnet-cifar.yaml
    if [ -n "$EMU" ]; then
      ntrain=600 nval=200 size='width: 0.125\nepochs: 1\ntest_limit: 100\nbatch_size: 100\n'
    else
      ntrain=10000 nval=2000 size='epochs: 10\ntime_budget_s: 80\ntest_limit: 500\nbatch_size: 500\n'
    fi
    size="${size}train_limit: $ntrain\nval_size: $nval\n"
    printf "model: fastnet\ndevice: cuda\nprecision: bf16\n${size}optimizer: sgd\nlr: 2.0\nmomentum: 0.9\nnesterov: true\nweight_decay: 5.0e-4\nscheduler: onecycle\npct_start: 0.25\nsmoothing: 0.2\naug_preset: cheap\nmonitor_every: 0\nseed: 1\n" >"$cfg"
    run "$name" 100 "$LOGS/cifar10.txt" "$SWEEP" train "$cfg" --data-dir "$cifar" --json
    rc=$?
    acc=$(grep -m1 -oE '"value": *[-0-9.eE+a-zA-Z]+' "$LOGS/cifar10.txt" | grep -oE '[^ :]+$')
    ep=$(grep -m1 -oE '"epochs": *"[0-9]+"' "$LOGS/cifar10.txt" | grep -oE '[0-9]+')
    ips=$(grep -m1 -oE '"img_per_s": *"[0-9.]+"' "$LOGS/cifar10.txt" | grep -oE '[0-9.]+')
    floor=0.4
    [ -n "$EMU" ] && floor=0 # one small epoch on the emulation learns nothing
    if [ "$rc" = 200 ]; then row SKIP "$name" "time budget spent"
    elif [ "$rc" != 0 ] || [ -z "$acc" ]; then row FAIL "$name" "rc $rc: $(why "$LOGS/cifar10.txt")"
    elif ! awk -v a="$acc" -v f="$floor" 'BEGIN { exit !(a == a + 0 && a >= f) }'; then
      row FAIL "$name" "$acc after $ep epochs: below $floor (NaN or not learning)"
    else row OK "$name" "$acc after $ep epochs ($((ntrain - nval)) train / $nval held out of data_batch_1), $ips img/s"
    fi
  fi

  # ── PyTorch anchor ─────────────────────────────────────────────────────
  if [ -n "$EMU" ]; then
    row SKIP "torch fastnet bf16 img/s" "dry run: no GPU for PyTorch"
    row SKIP "ours / torch (fastnet bf16)" "dry run"
  else
    run "torch" 60 "$LOGS/torch.txt" python3 "$ROOT/scripts/gpu-check-torch.py" --batch 256 --steps 20
    rc=$?
    tips=$(grep -oE '^torch_img_per_s [0-9.]+' "$LOGS/torch.txt" | cut -d' ' -f2)
    if [ "$rc" = 3 ]; then row SKIP "torch fastnet bf16 img/s" "$(grep -m1 '^SKIP' "$LOGS/torch.txt")"
    elif [ "$rc" = 200 ]; then row SKIP "torch fastnet bf16 img/s" "time budget spent"
    elif [ "$rc" = 0 ] && [ -n "$tips" ]; then row OK "torch fastnet bf16 img/s" "$tips ($(head -1 "$LOGS/torch.txt"))"
    else row FAIL "torch fastnet bf16 img/s" "rc $rc: $(tail -1 "$LOGS/torch.txt")"
    fi
    if [ -n "$tips" ] && [ -n "$OURS" ]; then
      row OK "ours / torch (fastnet bf16)" "$(awk -v a="$OURS" -v b="$tips" 'BEGIN { printf "%.3f (%s / %s img/s, batch 256)", a / b, a, b }')"
    else
      row SKIP "ours / torch (fastnet bf16)" "needs both img/s rows"
    fi
  fi
fi

# ── summary ──────────────────────────────────────────────────────────────
{
  echo "gpu-check summary ($(elapsed) s of ${BUDGET} s budget; $(date -u '+%Y-%m-%d %H:%M UTC'); $(uname -n))"
  [ -n "$EMU" ] && echo "DRY RUN on the CPU emulation: no GPU ran; img/s values are not speeds"
  printf '%-4s  %-34s %s\n' "" "check" "detail"
  for r in "${ROWS[@]}"; do echo "$r"; done
  skips=$(printf '%s\n' "${ROWS[@]}" | grep -c '^SKIP')
  if [ -n "$FIRST_FAIL" ]; then echo "FIRST FAILURE: $FIRST_FAIL"
  else echo "ALL OK ($skips SKIP)"; fi
} >"$SCRATCH/summary.txt"
cp "$SCRATCH/summary.txt" "$LOGS/"
cp "$SCRATCH/summary.txt" "$OUT/summary.txt"
tar -czf "$OUT/gpu-check-logs.tar.gz" -C "$SCRATCH" logs
echo "gpu-check: logs in $OUT/gpu-check-logs.tar.gz, scratch $SCRATCH" >&2
cat "$SCRATCH/summary.txt"
[ -z "$FIRST_FAIL" ]

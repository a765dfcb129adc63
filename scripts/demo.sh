#!/usr/bin/env bash
# demo.sh is what `make demo` runs after building: the private PostgreSQL
# cluster, a 30-trial synthetic study (seconds), then a short real CIFAR-10
# sweep and both reports. Finished studies are resumed, not rerun, so a second
# `make demo` only prints the reports.
#
# CIFAR-10 is looked up in $SWEEP_DATA, then data/cifar10, then the
# development copy ../shared/data/cifar10; when none has it, `sweep data
# fetch` downloads it into data/cifar10 (176 MB, md5-checked).
set -euo pipefail
bin=${BIN:-bin/sweep}
"$bin" db up
"$bin" start examples/synthetic.yaml
"$bin" report demo-synthetic

has_cifar() { [ -f "$1/data_batch_1.bin" ] && [ -f "$1/test_batch.bin" ]; }
if [ -n "${SWEEP_DATA:-}" ] && has_cifar "$SWEEP_DATA"; then
  :
elif has_cifar data/cifar10; then
  export SWEEP_DATA=data/cifar10
elif has_cifar ../shared/data/cifar10; then
  export SWEEP_DATA=../shared/data/cifar10
else
  "$bin" data fetch --data-dir data/cifar10
  export SWEEP_DATA=data/cifar10
fi
echo "demo: CIFAR-10 from $SWEEP_DATA"
"$bin" start examples/cifar10-demo.yaml
"$bin" report demo-cifar10

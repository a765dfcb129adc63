#!/usr/bin/env bash
# deps.sh installs the Debian packages sweep needs at run time and in tests:
# the PostgreSQL server (private cluster), OpenBLAS (fast CPU GEMM) and clang
# (CUDA kernel syntax checks). As root it installs what is missing; otherwise
# it prints the sudo line.
set -euo pipefail
want=(postgresql libopenblas0-pthread clang)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "deps: missing packages: ${missing[*]}"
  echo "deps: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
fi

#!/usr/bin/env bash
# deps.sh installs the Debian packages sweep needs: the PostgreSQL server (the
# private cluster and the tests), OpenBLAS (fast CPU GEMM, loaded at run time)
# and, when no Go toolchain is on PATH, Debian's Go (which fetches the
# version go.mod asks for through the module proxy). With --test it also
# installs clang (syntax checks and CPU emulation of the CUDA kernels), pgbouncer
# (the storage conformance suite also runs through it) and
# Chromium with a font (the report test renders the HTML report headless), and
# Python 3 with optuna, psycopg2 and pandas (the Optuna round-trip test)
# and torch (the command objective's PyTorch example runs one tiny step).
#
# As root it installs what is missing. Otherwise it prints the sudo line and
# fails when a package the command needs is missing. Safe to run repeatedly.
set -euo pipefail
want=(postgresql libopenblas0-pthread)
if [ "${1:-}" = "--test" ]; then
  want+=(clang pgbouncer chromium fonts-dejavu-core python3-optuna python3-psycopg2 python3-pandas python3-torch)
fi
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
  want+=(golang-go)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "deps: missing packages: ${missing[*]}" >&2
echo "deps: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
exit 1

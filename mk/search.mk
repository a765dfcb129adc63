# Search benchmarks (owned by the search area): regret of samplers on test
# functions, pruners on a learning-curve surrogate, suggest latency.
# Writes docs/search-benchmarks.md (keeping its multi-objective section); takes a few minutes on 2 cores, plus
# Optuna's studies (tens of minutes for Optuna 3.1).
#
# Optuna's rows come from search/bench/optuna_bench.py run with $(PYTHON):
# OPTUNA is a comma-separated list of PYTHONPATHs, one Optuna each ("-" =
# whatever $(PYTHON) imports; empty = no Optuna). OPTUNA_CACHE keeps their
# study results between runs. For example, Debian's Optuna and a main-branch
# source tree side by side:
#   make bench-search PYTHON=/usr/bin/python3 OPTUNA=-,/path/to/optuna-src
.PHONY: bench-search test-search

PYTHON ?= python3
OPTUNA ?= -
OPTUNA_CACHE ?=

bench-search:
	$(GO) run ./search/bench/cmd/benchsearch -out docs/search-benchmarks.md \
		-python '$(PYTHON)' -optuna '$(OPTUNA)' -optuna-cache '$(OPTUNA_CACHE)'

test-search:
	$(GO) vet ./search/...
	$(GO) test -count=1 ./search/...

# docs/search-variants.md: sweep's default TPE with one setting changed at a
# time against the newest Optuna on 155 seeds (the evidence for the
# defaults); takes PYTHON, OPTUNA and OPTUNA_CACHE as bench-search does.
.PHONY: bench-search-variants
bench-search-variants:
	$(GO) run ./search/bench/cmd/benchvariants -out docs/search-variants.md \
		-python '$(PYTHON)' -optuna '$(OPTUNA)' -optuna-cache '$(OPTUNA_CACHE)'

# The multi-objective section of docs/search-benchmarks.md (ZDT1, ZDT2,
# DTLZ2 hypervolume), between markers: bench-search-mo replaces only that
# section, and bench-search rewrites the rest and keeps it, so the two run
# in either order.
.PHONY: bench-search-mo
bench-search-mo:
	$(GO) run ./search/bench/cmd/benchmo -out docs/search-benchmarks.md

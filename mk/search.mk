# Search benchmarks (owned by the search area): regret of samplers on test
# functions, pruners on a learning-curve surrogate, suggest latency.
# Writes docs/search-benchmarks.md; takes a few minutes on 2 cores.
.PHONY: bench-search test-search

bench-search:
	$(GO) run ./search/bench/cmd/benchsearch -out docs/search-benchmarks.md

test-search:
	$(GO) vet ./search/...
	$(GO) test -count=1 ./search/...

# The multi-objective section of docs/search-benchmarks.md (ZDT1, ZDT2,
# DTLZ2 hypervolume); run it after bench-search, which rewrites the file.
.PHONY: bench-search-mo
bench-search-mo:
	$(GO) run ./search/bench/cmd/benchmo -out docs/search-benchmarks.md

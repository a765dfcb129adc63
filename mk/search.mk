# Search benchmarks (owned by the search area): regret of samplers on test
# functions, pruners on a learning-curve surrogate, suggest latency.
# Writes docs/search-benchmarks.md; takes a few minutes on 2 cores.
.PHONY: bench-search test-search

bench-search:
	$(GO) run ./search/bench/cmd/benchsearch -out docs/search-benchmarks.md

test-search:
	$(GO) vet ./search/...
	$(GO) test -count=1 ./search/...

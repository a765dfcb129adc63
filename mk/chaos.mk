# Reliability targets (docs/reliability.md).
.PHONY: test-chaos test-reliability fuzz-spec

# test-chaos runs the chaos test verbosely: 32 worker processes (the built
# binary), 1000 synthetic trials, 20% of the workers killed with SIGKILL at
# random moments and one PostgreSQL restart, then prints the report (also
# written to $(CHAOS_REPORT)). SEED=n draws other moments and victims.
# `go test ./...` runs the same test (about 30 s on 2 cores).
CHAOS_REPORT ?= /tmp/sweep-chaos-report.txt
SEED ?= 1
test-chaos:
	SWEEP_CHAOS_SEED=$(SEED) SWEEP_CHAOS_REPORT=$(CHAOS_REPORT) $(GO) test -count=1 -v -timeout 30m -run 'TestChaos' ./sweep/chaos/
	@cat $(CHAOS_REPORT)

# test-reliability runs the buffering, reaping, retry, signal and hostile
# input tests.
test-reliability:
	$(GO) test -count=1 -run 'Buffered|Transient|DatabaseOutage|Reap|Reliability|Hostile|Signals|CIFAR10Space' ./sweep/ ./sweep/chaos/ ./cmd/sweep/

# fuzz-spec fuzzes the spec parser for FUZZTIME (default 60s).
FUZZTIME ?= 60s
fuzz-spec:
	$(GO) test -run '^$$' -fuzz FuzzParseSpec -fuzztime $(FUZZTIME) ./search/

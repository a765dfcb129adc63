# Reliability targets (docs/reliability.md).
.PHONY: test-chaos test-reliability fuzz-spec

# test-chaos runs the chaos tests verbosely: 32 worker processes (the built
# binary), 1000 synthetic trials, 20% of the workers killed with SIGKILL at
# random moments, two frozen with SIGSTOP past the grace period and one
# PostgreSQL restart; then the long outage: PostgreSQL down for
# $(CHAOS_OUTAGE) across the ends of every running trial, two workers killed
# during it and restarted after it (their journaled results replayed). It
# prints both reports (also written to $(CHAOS_REPORT)). SEED=n draws other
# moments and victims. `go test ./...` runs the same tests with an 8 s
# outage.
CHAOS_REPORT ?= /tmp/sweep-chaos-report.txt
CHAOS_OUTAGE ?= 90s
SEED ?= 1
test-chaos:
	SWEEP_CHAOS_SEED=$(SEED) SWEEP_CHAOS_REPORT=$(CHAOS_REPORT) SWEEP_CHAOS_OUTAGE=$(CHAOS_OUTAGE) $(GO) test -count=1 -v -timeout 30m -run 'TestChaos' ./sweep/chaos/
	@cat $(CHAOS_REPORT)

# test-reliability runs the buffering, reaping, retry, signal and hostile
# input tests.
test-reliability:
	$(GO) test -count=1 -run 'Buffered|Transient|DatabaseOutage|Reap|Reliability|Hostile|Signals|CIFAR10Space' ./sweep/ ./sweep/chaos/ ./cmd/sweep/

# fuzz-spec fuzzes the spec parser for FUZZTIME (default 60s).
FUZZTIME ?= 60s
fuzz-spec:
	$(GO) test -run '^$$' -fuzz FuzzParseSpec -fuzztime $(FUZZTIME) ./search/

# Launchers and scale targets (docs/scale.md, docs/kubernetes.md).
.PHONY: test-slurm test-scale

# test-slurm runs a real single-node Slurm (slurm-wlm and munge, installed
# with apt-get when missing; needs root): sweep launch slurm --submit of a
# 4-task array on a 40-trial synthetic study, one task scancel'ed mid-run;
# asserts 40 trials, none RUNNING, no duplicate numbers. About a minute;
# not part of `make test` (it needs root and installs packages).
test-slurm: build
	BIN=$(BIN) scripts/test-slurm.sh

# test-scale runs SCALE_WORKERS (200) worker processes of 1 slot each on a
# SCALE_TRIALS (2000) trial synthetic study through PgBouncer in front of a
# PostgreSQL with max_connections=50, asserts 0 duplicates, 0 lost trials
# and 0 refused connections, and prints trials/s, p50/p99 claim latency and
# the server's CPU time; then runs the same study without the pooler to
# show the limit it removes. CPU-heavy: several minutes on 2 cores.
SCALE_WORKERS ?= 200
SCALE_TRIALS ?= 2000
test-scale: build
	SWEEP_SCALE_BIN=$(CURDIR)/$(BIN) SWEEP_SCALE_WORKERS=$(SCALE_WORKERS) SWEEP_SCALE_TRIALS=$(SCALE_TRIALS) \
		$(GO) test -count=1 -v -timeout 30m -run 'TestScale' ./sweep/scale/

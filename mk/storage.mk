# Storage (PostgreSQL) targets. Tests start a private cluster per test binary
# (internal/pgtest) unless SWEEP_TEST_DB names a server to create databases on.
.PHONY: test-storage bench-storage

# test-storage runs the storage, cluster and harness tests, and the
# conformance suite against postgres.Storage.
test-storage:
	$(GO) test -count=1 ./sweep/postgres/ ./sweep/storagetest/ ./sweep/pgcluster/ ./internal/pgtest/

# bench-storage measures the database cost per trial on a 1000-trial study
# (goal: 10 ms/trial) and GetAllTrials with a warm vs cold trial cache.
bench-storage:
	$(GO) test -run '^$$' -bench 'BenchmarkStorage' -benchmem -count=1 ./sweep/postgres/

# Trainer engine (trainer/engine, trainer/models, trainer/bench).
ENGINE_PKGS := ./trainer/engine/... ./trainer/models/... ./trainer/bench/...

.PHONY: test-engine bench-engine bench-trainer

# Conformance suite, gradient checks, overfit and determinism tests.
test-engine:
	$(GO) vet $(ENGINE_PKGS)
	$(GO) test -count=1 $(ENGINE_PKGS)

# Go benchmarks: training steps (img/s, ratio to SGEMM in the same run,
# allocs/step, peak RSS) and SGEMM; SWEEP_BLAS=go measures the pure-Go path.
bench-engine:
	$(GO) test -run '^$$' -bench . -benchtime 10x ./trainer/bench/

# The issue's report: tiny and resnet18 at batch 128, measured together.
bench-trainer: build
	$(BIN) bench trainer --model tiny --steps 20 --json
	$(BIN) bench trainer --model resnet18 --steps 3 --json

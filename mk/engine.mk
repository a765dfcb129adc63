# Trainer engine (trainer/engine, trainer/models, trainer/bench).
ENGINE_PKGS := ./trainer/engine/... ./trainer/models/... ./trainer/bench/...

.PHONY: test-engine bench-engine bench-trainer bench-gemm

# Conformance suite, gradient checks, overfit and determinism tests.
test-engine:
	$(GO) vet $(ENGINE_PKGS)
	$(GO) test -count=1 $(ENGINE_PKGS)

# Go benchmarks: training steps (img/s, ratio to SGEMM in the same run,
# allocs/step, peak RSS) and SGEMM; SWEEP_BLAS=go measures the pure-Go path.
bench-engine:
	$(GO) test -run '^$$' -bench . -benchtime 10x ./trainer/bench/

# The issue's report: tiny and resnet18 at batch 128, fastnet at batch 256
# in fp32 (SGEMM) and bf16 (the CPU's bf16 GEMM, with its own peak beside
# SGEMM's), measured together.
bench-trainer: build
	$(BIN) bench trainer --model tiny --steps 20 --json
	$(BIN) bench trainer --model resnet18 --steps 3 --json
	$(BIN) bench trainer --model fastnet --batch 256 --steps 4 --precision fp32 --json
	$(BIN) bench trainer --model fastnet --batch 256 --steps 4 --precision bf16 --json

# bf16 GEMM against SGEMM (OpenBLAS) at fastnet's convolution shapes, one
# thread, alternating in one run; the ratio is bf16/sgemm. OpenBLAS's kernel
# follows OPENBLAS_CORETYPE as set in the environment.
bench-gemm:
	$(GO) test -run '^$$' -bench 'BF16' -benchtime 20x ./trainer/engine/cpu/

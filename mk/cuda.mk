# CUDA backend targets (owner: the CUDA backend, issue 8).
#
#   make gpu-check-build   builds bin/sweep and the GPU test binary
#                          gpu/cuda.test (CGO_ENABLED=0, no cgo) for
#                          scripts/gpu-check.sh, which then runs on a GPU
#                          machine with no Go toolchain and no network.
#   make gpu-check         builds, then runs the script here (on a machine
#                          without a GPU it reports that and exits 2).
#   make test-cuda         the CUDA packages' tests (GPU tests skip without
#                          a GPU; kernel syntax checks need clang).
.PHONY: gpu-check-build gpu-check test-cuda

GPU_DIR := gpu

gpu-check-build:
	$(GO) build -o $(BIN) ./cmd/sweep
	@mkdir -p $(GPU_DIR)
	$(GO) test -c -o $(GPU_DIR)/cuda.test ./trainer/engine/cuda
	@echo "gpu-check: copy bin/, $(GPU_DIR)/ and scripts/ to the GPU machine and run scripts/gpu-check.sh"

gpu-check: gpu-check-build
	scripts/gpu-check.sh

test-cuda:
	$(GO) vet ./trainer/engine/cuda/...
	$(GO) test -count=1 ./trainer/engine/cuda/...

# CUDA backend targets (owner: the CUDA backend).
#
#   make gpu-check-build    prepares gpu/ (git-ignored), the one folder a GPU
#                           machine without Go or network needs besides the
#                           checkout: gpu/sweep and gpu/cuda.test (stripped,
#                           CGO_ENABLED=0), gpu/data/data_batch_1.bin.xz and
#                           batches.meta.txt (CIFAR-10 from CIFAR_DIR). It
#                           fails if gpu/ reaches 60 MiB (the device carry
#                           limit is 64 MiB with the working tree). Carry it
#                           (the device tool's carry: ["gpu"]) and run
#                           scripts/gpu-check.sh there.
#   make gpu-check-dry-run  builds gpu/ and the CPU emulation's libraries
#                           (bin/cuda-emu) and runs scripts/gpu-check.sh
#                           against them end to end: it must print its
#                           summary and ALL OK. Several minutes on 2 cores.
#   make gpu-check          builds, then runs the script here (a GPU machine
#                           with Go).
#   make test-cuda          the CUDA packages' tests (GPU tests skip without
#                           a GPU; the emulation and kernel checks need a C++
#                           compiler, clang for the CUDA syntax check).
.PHONY: gpu-check-build gpu-check-dry-run gpu-check test-cuda

GPU_DIR   := gpu
CIFAR_DIR ?= $(or $(SWEEP_DATA),data/cifar10)
GPU_MAX_BYTES := 62914560
STRIP     := -trimpath -ldflags="-s -w"

# The compressed batch is cached in bin/ (xz takes ~30 s of one core).
bin/cifar10-data_batch_1.bin.xz: $(CIFAR_DIR)/data_batch_1.bin
	@mkdir -p bin
	xz -6 -T0 -c $< > $@.tmp && mv $@.tmp $@

gpu-check-build: bin/cifar10-data_batch_1.bin.xz
	rm -rf $(GPU_DIR) && mkdir -p $(GPU_DIR)/data
	$(GO) build $(STRIP) -o $(GPU_DIR)/sweep ./cmd/sweep
	$(GO) test -c $(STRIP) -o $(GPU_DIR)/cuda.test ./trainer/engine/cuda
	cp bin/cifar10-data_batch_1.bin.xz $(GPU_DIR)/data/data_batch_1.bin.xz
	cp $(CIFAR_DIR)/batches.meta.txt $(GPU_DIR)/data/
	@bytes=$$(du -sb $(GPU_DIR) | cut -f1); echo "gpu-check-build: $(GPU_DIR)/ is $$bytes bytes:"; ls -l $(GPU_DIR) $(GPU_DIR)/data; \
	  if [ $$bytes -ge $(GPU_MAX_BYTES) ]; then echo "gpu-check-build: $(GPU_DIR)/ exceeds $(GPU_MAX_BYTES) bytes" >&2; exit 1; fi

gpu-check-dry-run: gpu-check-build
	rm -rf bin/cuda-emu bin/gpu-check-out
	SWEEP_CUDA_EMU_DIR=$(CURDIR)/bin/cuda-emu $(GO) test -count=1 -run '^TestEmulated_Probe$$' ./trainer/engine/cuda
	OUT=$(CURDIR)/bin/gpu-check-out GPU_CHECK_EMULATOR=$(CURDIR)/bin/cuda-emu scripts/gpu-check.sh

gpu-check: gpu-check-build
	scripts/gpu-check.sh

test-cuda:
	$(GO) vet ./trainer/engine/cuda/...
	$(GO) test -count=1 ./trainer/engine/cuda/...

# Data targets (owned by trainer/data). Included by the Makefile.
#   make data              download CIFAR-10 into $(SWEEP_DATA) or data/cifar10
#   make augment-preview   re-render docs/augment-preview.png
#   make bench-data        augmentation and loader throughput (img/s)
PREVIEW_DATA ?= ../shared/data/cifar10

.PHONY: data augment-preview bench-data test-data

data: build
	$(BIN) data fetch

augment-preview: build
	$(BIN) data preview --data-dir $(PREVIEW_DATA) --out docs/augment-preview.png --strength 1 --seed 1

bench-data:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./trainer/data/

test-data:
	$(GO) vet ./trainer/data/
	$(GO) test -count=1 ./trainer/data/

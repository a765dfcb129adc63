# sweep — see README.md. `make demo` and `make test` are the two set-up commands.
GO        ?= go
BIN       := bin/sweep
PKGS      := ./...
export CGO_ENABLED ?= 0

.PHONY: all build test bench lint deps demo clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/sweep

# deps installs the system packages sweep uses when run as root, or prints the
# sudo line otherwise. Safe to run repeatedly.
deps:
	@scripts/deps.sh

test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 14m $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

lint:
	$(GO) vet $(PKGS)
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck $(PKGS); else echo "staticcheck not installed; go vet only"; fi

clean:
	rm -rf bin

# Per-area targets (bench-search, test-chaos, demo recipes...) live in mk/*.mk
# so that each area owns its own file.
-include mk/*.mk

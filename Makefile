# sweep — see README.md. `make demo` and `make test` are the two set-up commands.
GO        ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
BIN       := bin/sweep
PKGS      := ./...
export CGO_ENABLED ?= 0

.PHONY: all build test test-short bench lint deps demo clean

all: build

# BUILDVCS stamps the commit into the binary (sweep --version) where git
# can read the checkout, whatever GOFLAGS says; elsewhere (a tarball, a
# checkout git calls unsafe) the build goes on without it instead of failing.
BUILDVCS := $(shell git status --porcelain >/dev/null 2>&1 && echo auto || echo false)
build:
	$(GO) build -buildvcs=$(BUILDVCS) -o $(BIN) ./cmd/sweep

# deps installs the system packages sweep uses when run as root, or prints the
# sudo line otherwise. Safe to run repeatedly.
deps:
	@scripts/deps.sh

# demo is the one command for a fresh Debian machine: system packages, build,
# the private PostgreSQL cluster, a 30-trial synthetic study, a short real
# CIFAR-10 sweep (downloading the data when it is not found) and their
# reports. Finished studies are resumed, not rerun, the second time.
demo: deps build
	BIN=$(BIN) scripts/demo.sh

# test runs every package's tests, the end-to-end test included; it needs
# PostgreSQL's server binaries (scripts/deps.sh). Keep it under ~15 minutes
# on 2 cores. internal/testsum prints the package lines and failures as
# they come, then how many tests were skipped and why (no GPU, no
# CIFAR-10 files...); its status is the run's.
test:
	$(GO) vet $(PKGS)
	$(GO) build -o bin/testsum ./internal/testsum
	$(GO) test -count=1 -timeout 14m -json $(PKGS) | bin/testsum

# test-short skips the slow tests (the end-to-end test's binary build and
# processes).
test-short:
	$(GO) test -count=1 -short -timeout 14m $(PKGS)

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

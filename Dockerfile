# sweep's worker image: `sweep launch k8s --image` runs it (docs/kubernetes.md).
# Stage 1 builds the static, cgo-free binary; stage 2 is Debian slim with the
# libraries sweep opens at run time (OpenBLAS through purego) and CA
# certificates for TLS connections to the database. CUDA, for GPU workers,
# comes from the node's driver through the NVIDIA container runtime.
#
#   docker build -t sweep:dev .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/sweep ./cmd/sweep

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopenblas0-pthread ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/sweep /usr/local/bin/sweep
# An unprivileged user: the worker needs no root, and its journals go to
# SWEEP_RUN_DIR (an emptyDir in the Job).
RUN useradd --system --create-home --uid 10001 sweep
USER 10001
ENTRYPOINT ["/usr/local/bin/sweep"]
CMD ["--help"]

# The manager image: a static binary on a distroless base, run as a non-root user.
# Override BASE_IMAGE to build from another registry, e.g. docker.io/library/golang:1.26
ARG BASE_IMAGE=golang:1.26
FROM ${BASE_IMAGE} AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download

# The Go sources (.dockerignore keeps everything else out).
COPY . .

# CGO_ENABLED=0: a static binary, which the distroless static image (no libc) needs. GOARCH is left
# empty unless the build platform sets it, so the binary matches the platform it is built for.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o manager ./cmd

# distroless static:nonroot has no shell or package manager and runs as user 65532.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
# Numeric, so that the kubelet can check runAsNonRoot without reading /etc/passwd.
USER 65532:65532

ENTRYPOINT ["/manager"]

# The afimport image the deploy examples (docs/deploy/) run.
#
#   docker build -t registry.example.com/afimport:1.0.0 .
#
# Build: a static binary (CGO_ENABLED=0, -trimpath; .ci/build-static holds the
# exact command, which CI runs too). The timezone database is embedded in it.
FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN sh .ci/build-static /out/afimport

# Run: Alpine for its CA certificates and the /bin/sh the CronJob example
# uses to compute "yesterday"; non-root (65532, as the examples'
# securityContext expects).
FROM alpine:3.21
RUN apk add --no-cache ca-certificates \
 && adduser -D -H -u 65532 -s /sbin/nologin afimport
COPY --from=build /out/afimport /usr/local/bin/afimport
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/afimport"]
CMD ["--help"]

# syntax=docker/dockerfile:1
#
# alipay-gateway container image. How to run it: docs/deploy.md.
#
#   docker build -t alipay-gateway .
#
# Builder: the official Rust image on Debian 13 "trixie" (rustc 1.95, edition 2024). Both images
# are named in full (docker.io/library/...), so podman and buildah, which do not assume Docker
# Hub for a short name, build it as Docker does.
# Runtime: debian:trixie-slim, not distroless. The same Debian release as the builder, so the
# binary's glibc matches; and it has bash, which the HEALTHCHECK uses as its HTTP probe (bash's
# /dev/tcp), so the image needs neither curl nor a probe subcommand in the gateway. About 80 MB
# before the ~15 MB binary, against ~25 MB for gcr.io/distroless/cc-debian13, which has no shell.
#
# Nothing secret is in the image. The only keys in it are the public DEV-ONLY ones under
# /app/config/dev-keys, used only when `serve --config /app/config/dev.toml` asks for them
# explicitly; by default the gateway refuses to start until a signing key is given.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=trixie

# ------------------------------------------------------------------------------------------
FROM docker.io/library/rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /build

# 1. The dependencies alone, in a layer of their own: rebuilt only when Cargo.toml or
#    Cargo.lock change. The manifest is built without its [[test]], [[bench]] and [[example]]
#    targets (their files are not copied yet) and with a stub for every source file it names
#    (src/lib.rs, src/main.rs); the release profile stays as it is, so the compiled
#    dependencies are the ones step 2 links.
COPY Cargo.toml Cargo.lock ./
RUN awk '/^\[\[(test|bench|example)\]\]/ { skip = 1; next } /^\[/ { skip = 0 } !skip' \
        Cargo.toml > Cargo.deps.toml \
 && mv Cargo.deps.toml Cargo.toml \
 && sed -n 's/^path *= *"\(.*\.rs\)".*/\1/p' Cargo.toml | while read -r stub; do \
        mkdir -p "$(dirname "$stub")" && echo 'fn main() {}' > "$stub"; \
    done \
 && cargo build --release --locked \
 && rm -rf src

# 2. The gateway. The touch makes cargo rebuild the crate over the stubs' artifacts even when
#    the copied sources are older than them.
COPY . .
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && install -D -m 0755 target/release/alipay-gateway /out/alipay-gateway

# ------------------------------------------------------------------------------------------
FROM docker.io/library/debian:${DEBIAN_RELEASE}-slim AS runtime

# The runtime user: fixed numeric ids, so a mounted key or volume can be given to it
# (chown 10001) and Kubernetes' runAsNonRoot can check it.
RUN groupadd --gid 10001 gateway \
 && useradd --uid 10001 --gid gateway --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin gateway \
 && mkdir -p /data /etc/alipay-gateway \
 && chown gateway:gateway /data \
 && chmod 0750 /data

# Root certificates for notifications to https:// merchant URLs (rustls reads the system
# store), taken from the builder rather than installing ca-certificates and openssl here.
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /out/alipay-gateway /usr/local/bin/alipay-gateway
# Reference and development configs: default.toml documents every key; dev.toml and its
# public DEV-ONLY keys are for explicit local use only (see the header above).
COPY config/ /app/config/

# The default store URL, sqlite://data/gateway.db, is relative to the working directory: with
# WORKDIR / it is /data/gateway.db, in the volume, and a mounted config file's store.url is
# not overridden by an environment variable of the image.
WORKDIR /
VOLUME ["/data"]

# Listen on every interface of the container (a config file's listen is overridden by this;
# change the port here and in -p together). Logs as text; GATEWAY_LOG_FORMAT_JSON=true for
# JSON lines. Everything else: GATEWAY_<SECTION>__<KEY>, GATEWAY_CONFIG, docs/deploy.md.
ENV GATEWAY_SERVER__LISTEN=0.0.0.0:8080
EXPOSE 8080

USER 10001:10001

# Healthy when GET /readyz answers 200 (the store answers): HTTP over bash's /dev/tcp on the
# port of GATEWAY_SERVER__LISTEN.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "listen=${GATEWAY_SERVER__LISTEN:-:8080}; exec 3<>/dev/tcp/127.0.0.1/${listen##*:} && printf 'GET /readyz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r -t 3 _ status _ <&3 && [[ $status == 200 ]]"]

# SIGTERM (docker stop) drains requests in flight for server.shutdown_grace_ms (10 s by
# default): give docker stop a longer timeout (-t 15).
STOPSIGNAL SIGTERM
ENTRYPOINT ["alipay-gateway"]
CMD ["serve"]

# Ferry in a container. Build:  docker build -t ferry .
# Run:    docker run -v ferry-state:/var/lib/ferry -v $PWD/ferry.yaml:/etc/ferry/ferry.yaml:ro \
#                    --env-file ferry.env ferry run --config /etc/ferry/ferry.yaml
# The build stage runs the same steps as scripts/build.sh.

FROM swift:6.3-bookworm AS build
# Unpinned on purpose: Debian stable only ships security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcurl4-openssl-dev libssl-dev zlib1g-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Benchmarks ./Benchmarks
COPY Tests ./Tests
RUN swift build -c release --product ferry --static-swift-stdlib \
 && install -m 0755 .build/release/ferry /usr/local/bin/ferry

FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcurl4 libssl3 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ferry \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/ferry --shell /usr/sbin/nologin ferry \
 && mkdir -p /var/lib/ferry /etc/ferry \
 && chown ferry:ferry /var/lib/ferry
COPY --from=build /usr/local/bin/ferry /usr/local/bin/ferry
COPY deploy/ferry.example.yaml /etc/ferry/ferry.example.yaml
ENV FERRY_STATE_CHECKPOINT=/var/lib/ferry/checkpoint.json \
    FERRY_STATE_STATUS=/var/lib/ferry/status.json \
    FERRY_STATE_BACKFILL=/var/lib/ferry/backfill.json \
    FERRY_STATE_DEAD_LETTER=/var/lib/ferry/dead-letter.jsonl \
    FERRY_LOG_FORMAT=json
# Metrics over HTTP are off unless FERRY_STATE_METRICS_LISTEN=0.0.0.0:9464
# (state.metrics_listen) is set; 9464 is the port Ferry's docs use.
EXPOSE 9464
USER 10001:10001
WORKDIR /var/lib/ferry
VOLUME ["/var/lib/ferry"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/ferry", "health", "--max-age", "30"]
ENTRYPOINT ["/usr/local/bin/ferry"]
CMD ["run", "--config", "/etc/ferry/ferry.yaml"]

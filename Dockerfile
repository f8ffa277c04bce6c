# anomalyd container image: a Debian 12 (bookworm) build stage and a slim
# runtime stage holding the binary and its shared libraries only.
#
#   docker build -t anomalyd .
#   docker run --rm -p 9464:9464 -e KAFKA_BROKERS=broker:9092 anomalyd
#   docker run --rm -v $PWD/my.yaml:/etc/anomalyd/anomalyd.yaml:ro anomalyd
#
# See docs/operations.md ("Container") and docker-compose.yml.
# tests/it_packaging.sh checks the package lists below against tools/packages.txt.

FROM debian:12 AS build
# The packages of tools/packages.txt above its "# test-only" line, one per
# line and in the same order. The ones below that line (the fuzzer's clang,
# kcat, python3, the packaging checks' tools) serve the tests, which are not
# built here.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential \
      cmake \
      pkg-config \
      libuv1-dev \
      librdkafka-dev \
      libjansson-dev \
      libcurl4-openssl-dev \
      libyaml-dev \
      libhttp-parser-dev \
      liblmdb-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads (no tests, no benchmarks): a host build/ tree or
# .git never enters the image.
COPY CMakeLists.txt LICENSE ./
COPY include/ include/
COPY src/ src/
COPY config/ config/
COPY tools/ tools/
RUN tools/build.sh /build -DAD_BUILD_TESTS=OFF -DAD_BUILD_BENCH=OFF \
      -DCMAKE_INSTALL_PREFIX=/usr/local \
 && DESTDIR=/out cmake --install /build --strip \
 && /out/usr/local/bin/anomalyd --version

FROM debian:12-slim AS runtime
# Runtime counterparts of the build stage's -dev packages (libuv1-dev ->
# libuv1, librdkafka-dev -> librdkafka1, libjansson-dev -> libjansson4,
# libcurl4-openssl-dev -> libcurl4, libyaml-dev -> libyaml-0-2,
# libhttp-parser-dev -> libhttp-parser2.9, liblmdb-dev -> liblmdb0), in the
# same order, and ca-certificates for TLS to Event Hubs and the remote
# detector.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libuv1 \
      librdkafka1 \
      libjansson4 \
      libcurl4 \
      libyaml-0-2 \
      libhttp-parser2.9 \
      liblmdb0 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed non-root account (uid/gid 10001) owning the state and log dirs.
RUN groupadd --system --gid 10001 anomalyd \
 && useradd --system --uid 10001 --gid anomalyd --no-create-home \
      --home-dir /var/lib/anomalyd --shell /usr/sbin/nologin anomalyd \
 && install -d -o anomalyd -g anomalyd -m 0750 /var/lib/anomalyd /var/log/anomalyd \
 && install -d -m 0755 /etc/anomalyd
COPY --from=build /out/usr/local/bin/anomalyd /usr/local/bin/anomalyd
# The default config takes its settings from the environment (KAFKA_BROKERS,
# ANOMALYD_TOPIC, ...; see the file). Mount a file over it to change more.
COPY config/container.yaml /etc/anomalyd/anomalyd.yaml
USER 10001:10001
WORKDIR /var/lib/anomalyd
VOLUME ["/var/lib/anomalyd", "/var/log/anomalyd"]
# /metrics, /healthz, /readyz (http.listen is 0.0.0.0:9464 in container.yaml).
EXPOSE 9464
# SIGTERM drains: the producer is flushed (at most 5 s) and offsets committed;
# give `docker stop` more than that (docker stop -t 15, stop_grace_period).
STOPSIGNAL SIGTERM
# No curl in the image: bash opens the TCP connection itself (/dev/tcp),
# sends GET /healthz, reads the status line, drains the rest of the response
# (the server closes it) and succeeds on status 200 only.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9464 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r -t 4 _ code _ <&3 && while read -r -t 4 _ <&3; do :; done; [ \"$code\" = 200 ]"]
ENTRYPOINT ["anomalyd"]
CMD ["-c", "/etc/anomalyd/anomalyd.yaml"]

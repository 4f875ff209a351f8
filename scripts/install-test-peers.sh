#!/usr/bin/env bash
# Installs the real peers the end-to-end tests talk to, once, into
# $FERROTEL_CACHE (default ~/.cache/ferrotel), so later runs and CI's fresh
# clones reuse them:
#   - the OpenTelemetry Python SDK and py_zipkin (pinned in tests/clients/requirements.txt)
#   - Jaeger's Python clients, in a venv of their own (tests/clients/jaeger-requirements.txt)
#   - the OpenTelemetry JS SDK and jaeger-client (pinned in tests/clients/package.json)
#   - the Go OpenTelemetry Collector, built with its builder, as the oracle
#   - the openssl command line, when missing, for the TLS tests
#   - an Apache Kafka broker's jars (pinned in tests/kafka/pom.xml), with
#     Maven, for scripts/test-services.sh to run
#   - chdb, the ClickHouse engine as a Python package (pinned in
#     tests/clickhouse/requirements.txt; about 900 MB), for the same
# Each step is skipped when its pinned inputs have not changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="${FERROTEL_CACHE:-$HOME/.cache/ferrotel}"
mkdir -p "$cache"

# The TLS tests make certificates with the openssl command line.
if ! command -v openssl >/dev/null; then
  echo "installing openssl" >&2
  apt-get update -qq >&2 && apt-get install -y -qq openssl >&2
fi

stamp_ok() { [[ -f "$1" && "$(cat "$1")" == "$(sha256sum "$2" | cut -d' ' -f1)" ]]; }
stamp() { sha256sum "$2" | cut -d' ' -f1 > "$1"; }

req="$root/tests/clients/requirements.txt"
if ! stamp_ok "$cache/venv.sha" "$req" || [[ ! -x "$cache/venv/bin/python" ]]; then
  echo "installing the OpenTelemetry Python SDK into $cache/venv" >&2
  rm -rf "$cache/venv"
  python3 -m venv "$cache/venv"
  "$cache/venv/bin/python" -m pip install --quiet --cache-dir "$cache/pip" -r "$req"
  stamp "$cache/venv.sha" "$req"
fi

jreq="$root/tests/clients/jaeger-requirements.txt"
if ! stamp_ok "$cache/jaeger-venv.sha" "$jreq" || [[ ! -x "$cache/jaeger-venv/bin/python" ]]; then
  echo "installing the Jaeger Python clients into $cache/jaeger-venv" >&2
  rm -rf "$cache/jaeger-venv"
  python3 -m venv "$cache/jaeger-venv"
  "$cache/jaeger-venv/bin/python" -m pip install --quiet --cache-dir "$cache/pip" -r "$jreq"
  stamp "$cache/jaeger-venv.sha" "$jreq"
fi

pkg="$root/tests/clients/package.json"
if ! stamp_ok "$cache/node.sha" "$pkg" || [[ ! -d "$cache/node/node_modules/@opentelemetry/sdk-trace-base" ]]; then
  echo "installing the OpenTelemetry JS SDK into $cache/node" >&2
  mkdir -p "$cache/node"
  cp "$pkg" "$cache/node/package.json"
  (cd "$cache/node" && npm install --no-audit --no-fund --loglevel=error --cache "$cache/npm" >&2)
  stamp "$cache/node.sha" "$pkg"
fi

pom="$root/tests/kafka/pom.xml"
if ! stamp_ok "$cache/kafka.sha" "$pom" || [[ ! -d "$cache/kafka/libs" ]]; then
  echo "resolving the Apache Kafka broker into $cache/kafka" >&2
  command -v mvn >/dev/null || { apt-get update -qq >&2 && apt-get install -y -qq maven >&2; }
  rm -rf "$cache/kafka/libs"
  mvn -q -B -f "$pom" -Dmaven.repo.local="$cache/m2" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$cache/kafka/libs" >&2
  stamp "$cache/kafka.sha" "$pom"
fi

chreq="$root/tests/clickhouse/requirements.txt"
if ! stamp_ok "$cache/chdb.sha" "$chreq" || [[ ! -x "$cache/chdb/bin/python" ]]; then
  echo "installing chdb (the ClickHouse engine) into $cache/chdb" >&2
  rm -rf "$cache/chdb"
  python3 -m venv "$cache/chdb"
  "$cache/chdb/bin/python" -m pip install --quiet --cache-dir "$cache/pip" -r "$chreq"
  stamp "$cache/chdb.sha" "$chreq"
fi

echo "building the Go collector oracle (cached)" >&2
FERROTEL_CACHE="$cache" bash "$root/tests/go-oracle/build.sh" >/dev/null

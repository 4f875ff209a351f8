#!/usr/bin/env bash
# Logs or spans into Kafka: ferrotel-loadgen -> ferrotel (pinned to core 1:
# otlp -> batch -> kafka exporter) -> a real Apache Kafka broker started by
# scripts/test-services.sh (pinned to core 0 with the load generator).
# Prints what the load generator saw, then the collector's CPU over the run
# and its exporter's sent count and rate, and CPU seconds per million
# records.
# Usage: scripts/bench-kafka.sh [seconds] [encoding: otlp_proto|otlp_json|raw]
#   [compression: none|lz4|zstd|gzip|snappy] [signal: logs|traces] [required_acks: 1|-1|0]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15} encoding=${2:-otlp_proto} compression=${3:-none} signal=${4:-logs} acks=${5:-1}
case "$signal" in
  logs) items=log_records ;;
  traces) items=spans ;;
  *) echo "signal must be logs or traces" >&2; exit 2 ;;
esac
cargo build -q --release -p ferrotel -p ferrotel-loadgen
bin=target/release/ferrotel
dir=$(mktemp -d)
services=$(bash scripts/test-services.sh start)
eval "$services"
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; bash scripts/test-services.sh stop; rm -rf "$dir"' EXIT
taskset -pc 0 "$(cat "$FERROTEL_SERVICES_DIR/kafka.pid")" > /dev/null
cat > "$dir/under-test.yaml" <<YAML
receivers: {otlp: {protocols: {grpc: {endpoint: '127.0.0.1:26317'}}}}
processors: {batch: }
exporters:
  kafka:
    brokers: ['$FERROTEL_KAFKA_BROKERS']
    $signal: {topic: bench-$signal, encoding: $encoding}
    producer: {compression: $compression, required_acks: $acks}
service:
  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: '127.0.0.1', port: 26888}}}}]}}
  pipelines:
    $signal: {receivers: [otlp], processors: [batch], exporters: [kafka]}
YAML
taskset -c 1 "$bin" --config="$dir/under-test.yaml" 2>"$dir/under-test.log" &
pid=$!
for _ in $(seq 100); do grep -q "Everything is ready" "$dir/under-test.log" 2>/dev/null && break; sleep 0.1; done
sleep 0.5
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
metric() { curl -s 127.0.0.1:26888/metrics | awk -v m="$1" 'index($1, m "{") == 1 {print $2}'; }
sent() { metric "otelcol_exporter_sent_${items}"; }
before=$(ticks)
taskset -c 0 target/release/ferrotel-loadgen --endpoint 127.0.0.1:26317 --signal "$signal" --duration "$seconds"
# What was accepted is still being delivered: wait for the exporter.
accepted=$(metric "otelcol_receiver_accepted_${items}")
for _ in $(seq 100); do [[ "$(sent)" == "$accepted" ]] && break; sleep 0.2; done
after=$(ticks)
done_sent=$(sent)
cpu_s=$(awk -v t=$((after - before)) 'BEGIN {printf "%.2f", t / 100}')
echo "collector: cpu_seconds=${cpu_s} accepted=${accepted} kafka_sent=${done_sent} cpu_s_per_million=$(awk -v c="$cpu_s" -v n="$done_sent" 'BEGIN {printf "%.2f", c / (n / 1e6)}')"

#!/usr/bin/env bash
# Logs out of Kafka: a topic is filled first (ferrotel-loadgen -> ferrotel
# -> kafka exporter, otlp_proto, 1000 records per message), then the
# collector under test, pinned to core 1 (kafka receiver -> nop exporter,
# offsets committed after each message's acknowledgement), reads it from
# the earliest offset; the broker runs on core 0. Prints the records read,
# the seconds it took, records/s, and the collector's CPU seconds per
# million records.
# Usage: scripts/bench-kafka-receiver.sh [seconds of load to fill the topic]
set -euo pipefail
cd "$(dirname "$0")/.."
fill=${1:-10}
cargo build -q --release -p ferrotel -p ferrotel-loadgen
bin=target/release/ferrotel
dir=$(mktemp -d)
services=$(bash scripts/test-services.sh start)
eval "$services"
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; bash scripts/test-services.sh stop; rm -rf "$dir"' EXIT
taskset -pc 0 "$(cat "$FERROTEL_SERVICES_DIR/kafka.pid")" > /dev/null
metric() { curl -s "127.0.0.1:$1/metrics" | awk -v m="$2" 'index($1, m "{") == 1 {print $2}'; }
cat > "$dir/fill.yaml" <<YAML
receivers: {otlp: {protocols: {grpc: {endpoint: '127.0.0.1:26317'}}}}
exporters:
  kafka: {brokers: ['$FERROTEL_KAFKA_BROKERS'], logs: {topic: bench-in}}
service:
  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: '127.0.0.1', port: 26889}}}}]}}
  pipelines: {logs: {receivers: [otlp], exporters: [kafka]}}
YAML
"$bin" --config="$dir/fill.yaml" 2>"$dir/fill.log" &
fill_pid=$!
for _ in $(seq 100); do grep -q "Everything is ready" "$dir/fill.log" 2>/dev/null && break; sleep 0.1; done
target/release/ferrotel-loadgen --endpoint 127.0.0.1:26317 --signal logs --duration "$fill" > /dev/null
accepted=$(metric 26889 otelcol_receiver_accepted_log_records)
for _ in $(seq 300); do [[ "$(metric 26889 otelcol_exporter_sent_log_records)" == "$accepted" ]] && break; sleep 0.2; done
kill "$fill_pid"; wait "$fill_pid" 2>/dev/null || true
cat > "$dir/under-test.yaml" <<YAML
receivers:
  kafka: {brokers: ['$FERROTEL_KAFKA_BROKERS'], group_id: bench, initial_offset: earliest, logs: {topics: [bench-in]}}
exporters: {nop: }
service:
  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: '127.0.0.1', port: 26888}}}}]}}
  pipelines: {logs: {receivers: [kafka], exporters: [nop]}}
YAML
start=$(date +%s.%N)
taskset -c 1 "$bin" --config="$dir/under-test.yaml" 2>"$dir/under-test.log" &
pid=$!
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
for _ in $(seq 100); do grep -q "Everything is ready" "$dir/under-test.log" 2>/dev/null && break; sleep 0.1; done
before=$(ticks)
for _ in $(seq 1200); do [[ "$(metric 26888 otelcol_receiver_accepted_log_records)" == "$accepted" ]] && break; sleep 0.1; done
end=$(date +%s.%N)
after=$(ticks)
read_n=$(metric 26888 otelcol_receiver_accepted_log_records)
cpu_s=$(awk -v t=$((after - before)) 'BEGIN {printf "%.2f", t / 100}')
secs=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')
echo "kafka receiver: records_in_topic=${accepted} read=${read_n} seconds=${secs} records_per_s=$(awk -v n="$read_n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}') cpu_seconds=${cpu_s} cpu_s_per_million=$(awk -v c="$cpu_s" -v n="$read_n" 'BEGIN {printf "%.2f", c / (n / 1e6)}')"

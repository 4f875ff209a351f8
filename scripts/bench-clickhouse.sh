#!/usr/bin/env bash
# Logs or spans into ClickHouse: ferrotel-loadgen -> ferrotel (pinned to
# core 1: otlp -> batch -> clickhouse exporter) -> chdb (ClickHouse 26.9)
# behind tests/clickhouse/chdb_http.py, started by scripts/test-services.sh
# and pinned to core 0 with the load generator. The load generator sends
# at a fixed rate the engine keeps up with; the figure of interest is the
# collector's CPU per million rows. Prints the rows that reached the table,
# the collector's CPU time and CPU seconds per million rows.
# Usage: scripts/bench-clickhouse.sh [seconds] [signal: logs|traces] [rate per second] [compress: lz4|zstd|gzip|none]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20} signal=${2:-logs} rate=${3:-100000} compress=${4:-lz4}
case "$signal" in
  logs) items=log_records table=otel_logs ;;
  traces) items=spans table=otel_traces ;;
  *) echo "signal must be logs or traces" >&2; exit 2 ;;
esac
cargo build -q --release -p ferrotel -p ferrotel-loadgen
bin=target/release/ferrotel
dir=$(mktemp -d)
services=$(bash scripts/test-services.sh start)
eval "$services"
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; bash scripts/test-services.sh stop; rm -rf "$dir"' EXIT
taskset -pc 0 "$(cat "$FERROTEL_SERVICES_DIR/clickhouse.pid")" > /dev/null
taskset -pc 0 "$(cat "$FERROTEL_SERVICES_DIR/kafka.pid")" > /dev/null
cat > "$dir/under-test.yaml" <<YAML
receivers: {otlp: {protocols: {grpc: {endpoint: '127.0.0.1:26317'}}}}
processors: {batch: {send_batch_size: 50000, send_batch_max_size: 50000, timeout: 1s}}
exporters:
  clickhouse:
    endpoint: $FERROTEL_CLICKHOUSE
    password: ferrotel
    database: bench
    compress: $compress
    timeout: 60s
    sending_queue: {num_consumers: 2}
service:
  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: '127.0.0.1', port: 26888}}}}]}}
  pipelines:
    $signal: {receivers: [otlp], processors: [batch], exporters: [clickhouse]}
YAML
${PERF:-} taskset -c 1 "$bin" --config="$dir/under-test.yaml" 2>"$dir/under-test.log" &
pid=$!
for _ in $(seq 100); do grep -q "Everything is ready" "$dir/under-test.log" 2>/dev/null && break; sleep 0.1; done
sleep 0.5
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
metric() { curl -s 127.0.0.1:26888/metrics | awk -v m="$1" 'index($1, m "{") == 1 {print $2}'; }
rows() { curl -s -H 'X-ClickHouse-Key: ferrotel' "$FERROTEL_CLICKHOUSE/?query=SELECT+count()+FROM+bench.$table" 2>/dev/null || echo 0; }
before=$(ticks)
start=$(date +%s.%N)
taskset -c 0 target/release/ferrotel-loadgen --endpoint 127.0.0.1:26317 --signal "$signal" \
  --duration "$seconds" --rate "$rate" --concurrency 4
accepted=$(metric "otelcol_receiver_accepted_${items}")
for _ in $(seq 600); do [[ "$(metric "otelcol_exporter_sent_${items}")" == "$accepted" ]] && break; sleep 0.2; done
end=$(date +%s.%N)
after=$(ticks)
sent=$(metric "otelcol_exporter_sent_${items}")
failed=$(metric "otelcol_exporter_send_failed_${items}")
in_table=$(rows)
cpu_s=$(awk -v t=$((after - before)) 'BEGIN {printf "%.2f", t / 100}')
echo "collector: accepted=${accepted} sent=${sent} send_failed=${failed:-0} rows_in_table=${in_table} wall_s=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}') cpu_seconds=${cpu_s} cpu_s_per_million=$(awk -v c="$cpu_s" -v n="$sent" 'BEGIN {printf "%.2f", c / (n / 1e6)}')"

#!/usr/bin/env bash
# Whole-process OTLP throughput: loadgen -> ferrotel under test (pinned to
# one core) -> otlp_grpc exporter -> a second ferrotel with the nop
# exporter. Prints what the load generator saw plus the CPU time and peak
# RSS of the collector under test.
#
# Usage: scripts/bench-otlp.sh [traces|logs] [rate items/s, 0 = flat out] [seconds] [grpc|http] [gzip|none|nop]
# The last argument is the otlp_grpc exporter's compression, or `nop` to
# replace that exporter with the nop exporter (receive -> batch -> drop).
set -euo pipefail
cd "$(dirname "$0")/.."
signal=${1:-traces} rate=${2:-0} seconds=${3:-10} protocol=${4:-grpc} compression=${5:-gzip}
cargo build -q --release -p ferrotel -p ferrotel-loadgen
bin=target/release/ferrotel
# BENCH_QUEUE=persistent gives the otlp_grpc exporter a persistent sending
# queue (file_storage in a scratch directory) instead of the memory queue.
queue=${BENCH_QUEUE:-memory}
# BENCH_BATCH=queue batches in the exporter's sending queue instead of the
# batch processor (what a persistent queue wants: requests are written as
# they come and merged when read back).
batching=${BENCH_BATCH:-processor}
# BENCH_COLLECTOR runs another binary as the collector under test (the Go
# collector built by tests/go-oracle/build.sh takes the same config).
under_test=${BENCH_COLLECTOR:-$bin}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT

cat > "$dir/sink.yaml" <<YAML
receivers: {otlp: {protocols: {grpc: {endpoint: '127.0.0.1:25317', max_recv_msg_size_mib: 64}}}}
exporters: {nop: }
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [nop]}
    logs: {receivers: [otlp], exporters: [nop]}
YAML
storage_ext="" storage_queue="" service_ext=""
if [[ $queue == persistent ]]; then
  mkdir -p "$dir/storage"
  storage_ext="extensions: {file_storage: {directory: '$dir/storage'}}"
  storage_queue=", sending_queue: {storage: file_storage}"
  service_ext="extensions: [file_storage]"
fi
processors="[batch]"
if [[ $batching == queue ]]; then
  processors="[]"
  storage=""
  if [[ $queue == persistent ]]; then storage="storage: file_storage, "; fi
  storage_queue=", sending_queue: {${storage}batch: {}}"
fi
cat > "$dir/under-test.yaml" <<YAML
$storage_ext
receivers:
  otlp:
    protocols:
      grpc: {endpoint: '127.0.0.1:24317'}
      http: {endpoint: '127.0.0.1:24318'}
processors: {batch: }
exporters:
  otlp_grpc: {endpoint: '127.0.0.1:25317', tls: {insecure: true}, compression: $([[ $compression == nop ]] && echo none || echo "$compression")$storage_queue}
  nop:
service:
  $service_ext
  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: '127.0.0.1', port: 28888}}}}]}}
  pipelines:
    traces: {receivers: [otlp], processors: $processors, exporters: [$([[ $compression == nop ]] && echo nop || echo otlp_grpc)]}
    logs: {receivers: [otlp], processors: $processors, exporters: [$([[ $compression == nop ]] && echo nop || echo otlp_grpc)]}
YAML
taskset -c 0 "$bin" --config="$dir/sink.yaml" 2>"$dir/sink.log" &
taskset -c 1 "$under_test" --config="$dir/under-test.yaml" 2>"$dir/under-test.log" &
pid=$!
for _ in $(seq 100); do grep -q "Everything is ready" "$dir/under-test.log" 2>/dev/null && break; sleep 0.1; done
sleep 0.5
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(ticks)
endpoint=127.0.0.1:24317; [[ $protocol == http ]] && endpoint=127.0.0.1:24318
peak=0
( while kill -0 $pid 2>/dev/null; do r=$(awk '/VmRSS/ {print $2}' /proc/$pid/status); echo "$r"; sleep 0.2; done ) > "$dir/rss" &
sampler=$!
taskset -c 0 target/release/ferrotel-loadgen --endpoint "$endpoint" --protocol "$protocol" --signal "$signal" --rate "$rate" --duration "$seconds"
after=$(ticks)
kill $sampler 2>/dev/null || true
peak=$(sort -n "$dir/rss" | tail -1)
cpu=$(awk -v t=$((after - before)) -v s="$seconds" 'BEGIN {printf "%.1f", t / 100 / s * 100}')
sent=$(curl -s 127.0.0.1:28888/metrics | awk -v m="otelcol_exporter_sent_$([[ $signal == traces ]] && echo spans || echo log_records)" '$1 ~ "^"m"\\{" {print $2}')
batched=$(curl -s 127.0.0.1:28888/metrics | awk '$1 ~ /^otelcol_processor_outgoing_items\{/ {s += $2} END {printf "%d", s}')
echo "collector under test: cpu=${cpu}% of one core, peak_rss=${peak} KiB, batch_outgoing_items=${batched}, otlp_grpc_exporter_sent=${sent:-n/a}"

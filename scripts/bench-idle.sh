#!/usr/bin/env bash
# Start-up time (to "Everything is ready") and idle RSS two seconds later,
# three runs, for the embedded default shape (OTLP gRPC+HTTP -> batch ->
# debug, self-metrics on) on loopback ports.
# Usage: scripts/bench-idle.sh [binary] (default: the release ferrotel)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/ferrotel}
[[ $# -gt 0 ]] || cargo build -q --release -p ferrotel
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/idle.yaml" <<'YAML'
receivers: {otlp: {protocols: {grpc: {endpoint: '127.0.0.1:44317'}, http: {endpoint: '127.0.0.1:44318'}}}}
processors: {batch: }
exporters: {debug: }
service:
  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: '127.0.0.1', port: 48888}}}}]}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [debug]}
    metrics: {receivers: [otlp], processors: [batch], exporters: [debug]}
    logs: {receivers: [otlp], processors: [batch], exporters: [debug]}
YAML
for _ in 1 2 3; do
  start=$(date +%s%N)
  "$bin" --config="$dir/idle.yaml" > "$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 2000); do grep -q "Everything is ready" "$dir/log" && break; sleep 0.001; done
  ready=$(date +%s%N)
  sleep 2
  echo "startup_ms=$(( (ready - start) / 1000000 )) idle_rss_kib=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)"
  kill $pid; wait $pid 2>/dev/null || true
done

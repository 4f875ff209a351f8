#!/usr/bin/env bash
# file_log throughput: the collector, pinned to one core, reads a file of
# pre-written entries from the page cache (start_at: beginning) into
# batch -> nop (or -> file with OUTPUT=file). Prints MB/s and lines/s from
# the moment the collector is ready to the moment its accepted-records
# counter reaches the number written, plus CPU seconds and peak RSS.
# Usage: scripts/bench-filelog.sh FORMAT MB [OPERATORS_YAML]
#   FORMAT: nginx | json | java | cri | docker (ferrotel-logwriter formats)
#   OPERATORS_YAML: an `operators:` list in flow style, e.g.
#     '[{type: json_parser}]'; MULTILINE='^\d{4}-' adds a line_start_pattern.
# Env: BENCH_COLLECTOR (default target/release/ferrotel), CORE (default 0),
#      OUTPUT=nop|file.
set -euo pipefail
cd "$(dirname "$0")/.."
format=${1:-nginx}; mb=${2:-1024}; operators=${3:-[]}
bin=${BENCH_COLLECTOR:-target/release/ferrotel}
core=${CORE:-0}; output=${OUTPUT:-nop}
[[ -n "${BENCH_COLLECTOR:-}" ]] || cargo build -q --release -p ferrotel -p ferrotel-logwriter
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
pid=
# Entries of about 512 bytes for nginx; the writer reports the real count.
per_entry=$(target/release/ferrotel-logwriter --path "$dir/probe.log" --format "$format" --entries 1000 | sed -E 's/.*bytes=([0-9]+).*/\1/')
entries=$(( mb * 1000000 / (per_entry / 1000) ))
target/release/ferrotel-logwriter --path "$dir/app.log" --format "$format" --entries "$entries" >/dev/null
bytes=$(stat -c %s "$dir/app.log")
cat "$dir/app.log" > /dev/null  # into the page cache
multiline=""
[[ -n "${MULTILINE:-}" ]] && multiline="multiline: {line_start_pattern: '${MULTILINE}'}
    force_flush_period: 20ms"
exporter="nop: "
[[ "$output" == file ]] && exporter="file: {path: '$dir/out.json'}"
cat > "$dir/c.yaml" <<YAML
receivers:
  file_log:
    include: ['$dir/app.log']
    start_at: beginning
    $multiline
    operators: $operators
processors: {batch: }
exporters: {$exporter}
service:
  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: '127.0.0.1', port: 48889}}}}]}}
  pipelines:
    logs: {receivers: [file_log], processors: [batch], exporters: [${output}]}
YAML
${PERF:-} taskset -c "$core" "$bin" --config="$dir/c.yaml" > "$dir/log" 2>&1 &
pid=$!
until grep -q "Everything is ready" "$dir/log"; do sleep 0.01; kill -0 $pid || { cat "$dir/log"; exit 1; }; done
start=$(date +%s%N)
records() { curl -s 127.0.0.1:48889/metrics | awk '/^otelcol_receiver_accepted_log_records/ {print $2}'; }
expected=$entries
[[ "$format" == cri ]] && expected=$entries  # partial lines are merged only with the container operator
while :; do
  got=$(records); got=${got:-0}
  [[ "${got%.*}" -ge "$expected" ]] && break
  kill -0 $pid || { cat "$dir/log"; exit 1; }
  sleep 0.02
done
end=$(date +%s%N)
secs=$(awk -v s=$start -v e=$end 'BEGIN {print (e-s)/1e9}')
cpu=$(awk '{print ($14+$15)/100}' /proc/$pid/stat)
rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
awk -v b=$bytes -v n=$expected -v s=$secs -v c=$cpu -v r=$rss -v f=$format \
  'BEGIN {printf "format=%s bytes=%d records=%d seconds=%.3f MB_per_s=%.0f records_per_s=%.0f cpu_s=%.2f peak_rss_mib=%.1f\n", f, b, n, s, b/s/1e6, n/s, c, r/1024}'

#!/usr/bin/env bash
# file_log under a steady load: the collector's share of a core and its
# peak RSS over a fixed window, collector on core 0, writers on core 1.
# Usage: scripts/bench-filelog-steady.sh rate [MB_PER_S] [SECONDS]
#          one file written at MB_PER_S (default 10) with 512-byte lines,
#          rotated by rename every 4 MiB
#        scripts/bench-filelog-steady.sh files [FILES] [SECONDS]
#          FILES files (default 1000); 50 of them get one line a second
# Env: BENCH_COLLECTOR (default target/release/ferrotel).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-rate}; amount=${2:-}; secs=${3:-20}
bin=${BENCH_COLLECTOR:-target/release/ferrotel}
[[ -n "${BENCH_COLLECTOR:-}" ]] || cargo build -q --release -p ferrotel -p ferrotel-logwriter
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir "$dir/logs"
cat > "$dir/c.yaml" <<YAML
receivers:
  file_log:
    include: ['$dir/logs/*.log']
    start_at: beginning
processors: {batch: }
exporters: {nop: }
service:
  pipelines:
    logs: {receivers: [file_log], processors: [batch], exporters: [nop]}
YAML
if [[ "$mode" == files ]]; then
  files=${amount:-1000}
  for i in $(seq "$files"); do echo "file $i starts" > "$dir/logs/f$i.log"; done
fi
taskset -c 0 "$bin" --config="$dir/c.yaml" > "$dir/log" 2>&1 &
pid=$!; pids+=($pid)
until grep -q "Everything is ready" "$dir/log"; do sleep 0.01; kill -0 $pid || { cat "$dir/log"; exit 1; }; done
if [[ "$mode" == files ]]; then
  (
    n=0
    while :; do
      for i in $(seq 1 $(( files / 50 )) "$files"); do
        echo "$(date +%T.%N) line $n of file $i with some padding to look like a log line" >> "$dir/logs/f$i.log"
      done
      n=$((n + 1)); sleep 1
    done
  ) &
  pids+=($!)
  taskset -pc 1 $! > /dev/null
  label="files=$files active=50"
else
  rate=${amount:-10}
  taskset -c 1 target/release/ferrotel-logwriter --path "$dir/logs/app.log" --rate "$rate" \
    --entries 100000000 --rotate rename --rotate-bytes 4194304 --keep 3 > /dev/null &
  pids+=($!)
  label="rate_mb_s=$rate"
fi
sleep 2  # past start-up and the first walk
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks); s0=$(date +%s%N)
sleep "$secs"
t1=$(ticks); s1=$(date +%s%N)
hz=$(getconf CLK_TCK)
cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v ns=$((s1 - s0)) 'BEGIN {printf "%.1f", 100 * t / hz / (ns / 1e9)}')
rss=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
echo "$label seconds=$secs cpu_pct=$cpu peak_rss_mib=$rss"

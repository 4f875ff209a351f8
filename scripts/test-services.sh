#!/usr/bin/env bash
# Starts and stops the services the end-to-end tests talk to, bound to
# 127.0.0.1, with their state in a fresh temporary directory:
#   - an Apache Kafka broker (KRaft, one node) from $FERROTEL_CACHE/kafka
#   - a ClickHouse engine (chdb, in $FERROTEL_CACHE/chdb) behind the HTTP
#     front end tests/clickhouse/chdb_http.py, with user `default` and
#     password `ferrotel`
# Usage: eval "$(scripts/test-services.sh start)"   # prints exports
#        scripts/test-services.sh stop
#        scripts/test-services.sh kafka-stop | kafka-start  # the broker
#          alone, keeping its data (for tests of broker outages)
# `start` prints FERROTEL_KAFKA_BROKERS, FERROTEL_CLICKHOUSE (its HTTP
# endpoint) and FERROTEL_SERVICES_DIR for the tests and for `stop`. Run
# scripts/install-test-peers.sh first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="${FERROTEL_CACHE:-$HOME/.cache/ferrotel}"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until a TCP port accepts, for at most $2 seconds.
wait_port() {
  local deadline=$(( $(date +%s) + $2 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [[ $(date +%s) -lt $deadline ]] || return 1
    sleep 0.2
  done
}

# Starts the broker configured in $1/kafka.properties; returns once it
# listens on port $2.
run_kafka() {
  local dir=$1 port=$2
  # The heap is small: the broker holds test data only.
  nohup java -Xms128m -Xmx512m -cp "$cache/kafka/libs/*" kafka.Kafka "$dir/kafka.properties" >> "$dir/kafka.log" 2>&1 &
  echo $! > "$dir/kafka.pid"
  echo "$port" > "$dir/kafka.port"
  if ! wait_port "$port" 60; then
    echo "the Kafka broker did not start; its log:" >&2
    cat "$dir/kafka.log" >&2
    exit 1
  fi
}

# Starts the ClickHouse front end on port $2 with its data in $1/clickhouse.
run_clickhouse() {
  local dir=$1 port=$2
  CHDB_HTTP_PASSWORD=ferrotel nohup "$cache/chdb/bin/python" "$root/tests/clickhouse/chdb_http.py" \
    "$port" "$dir/clickhouse" >> "$dir/clickhouse.log" 2>&1 &
  echo $! > "$dir/clickhouse.pid"
  if ! wait_port "$port" 60; then
    echo "the ClickHouse front end did not start; its log:" >&2
    cat "$dir/clickhouse.log" >&2
    exit 1
  fi
}

start() {
  local dir; dir=$(mktemp -d -t ferrotel-services.XXXXXX)
  local ch_port; ch_port=$(free_port)
  run_clickhouse "$dir" "$ch_port"
  local port controller; port=$(free_port); controller=$(free_port)
  local libs="$cache/kafka/libs/*"
  sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$controller|g" -e "s|@DATA@|$dir/kafka-data|g" \
    "$root/tests/kafka/server.properties" > "$dir/kafka.properties"
  local id; id=$(java -cp "$libs" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  java -cp "$libs" kafka.tools.StorageTool format -t "$id" -c "$dir/kafka.properties" > "$dir/kafka-format.log" 2>&1
  run_kafka "$dir" "$port"
  echo "export FERROTEL_KAFKA_BROKERS=127.0.0.1:$port FERROTEL_CLICKHOUSE=http://127.0.0.1:$ch_port FERROTEL_SERVICES_DIR=$dir"
}

kafka_stop() {
  local dir="${FERROTEL_SERVICES_DIR:?start prints it}"
  [[ -f "$dir/kafka.pid" ]] || return 0
  kill "$(cat "$dir/kafka.pid")" 2>/dev/null || true
  # Up to 10 s for a clean exit, then SIGKILL.
  for _ in $(seq 50); do kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$(cat "$dir/kafka.pid")" 2>/dev/null || true
  rm -f "$dir/kafka.pid"
}

stop() {
  local dir="${FERROTEL_SERVICES_DIR:?start prints it}"
  kafka_stop
  if [[ -f "$dir/clickhouse.pid" ]]; then
    kill "$(cat "$dir/clickhouse.pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kafka-stop) kafka_stop ;;
  kafka-start) run_kafka "${FERROTEL_SERVICES_DIR:?}" "$(cat "$FERROTEL_SERVICES_DIR/kafka.port")" ;;
  *) echo "usage: $0 start|stop|kafka-stop|kafka-start" >&2; exit 2 ;;
esac

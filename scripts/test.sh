#!/usr/bin/env bash
# Every test ferrotel has: installs the peers the end-to-end tests need
# (cached), starts the services they talk to (stopped on exit), checks
# formatting and lints, builds the binaries, runs the tests, and closes
# with one summary line over all test binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
export FERROTEL_CACHE="${FERROTEL_CACHE:-$HOME/.cache/ferrotel}"
bash scripts/install-test-peers.sh
# The services the end-to-end tests talk to (a Kafka broker, ClickHouse), stopped on exit.
# (Assigned first: a failed start then stops the script under `set -e`.)
services=$(bash scripts/test-services.sh start)
eval "$services"
trap 'bash scripts/test-services.sh stop' EXIT
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --locked -p ferrotel -p ferrotel-otlp -p ferrotel-k8s -p ferrotel-logwriter -p ferrotel-builder
log=$(mktemp)
trap 'rm -f "$log"; bash scripts/test-services.sh stop' EXIT
status=0
cargo test --workspace --locked 2>&1 | tee "$log" || status=$?
passed=$(grep -Eo '^test result: .* ([0-9]+) passed' "$log" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s+=$1} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"

#!/usr/bin/env bash
# Every test ferrotel has: installs the peers the end-to-end tests need
# (cached), checks formatting and lints, builds the binary, runs the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export FERROTEL_CACHE="${FERROTEL_CACHE:-$HOME/.cache/ferrotel}"
bash scripts/install-test-peers.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --locked -p ferrotel
cargo test --workspace --locked

#!/usr/bin/env bash
# A seconds-long run of the benchmark (docs/PERFORMANCE.md) on debug binaries: every scenario
# runs end to end against a fresh cluster (the load, the pgbench ceiling, the checks that no
# acknowledged event was lost and that counts converge). No thresholds: the figures of a debug
# build on a shared machine mean little; a failure here is the benchmark itself breaking.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p cairn
cargo build --locked -p cairn-loadgen
exec target/debug/cairn-loadgen --smoke --cairn target/debug/cairn

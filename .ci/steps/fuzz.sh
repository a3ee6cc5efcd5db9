#!/usr/bin/env bash
# CI step: build every cargo-fuzz target and run each briefly from its seed corpus; a crash, a
# failed assertion or a hang (one input over FUZZ_TIMEOUT seconds) fails the step.
# How to run them for longer, and what each covers: docs/FUZZING.md.
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"

CARGO_FUZZ_VERSION=0.13.2
SECONDS_PER_TARGET="${FUZZ_SECONDS:-15}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-10}"

# Installed once per machine (cargo's bin dir is the cache); the pinned version is reused.
if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# cargo-fuzz passes nightly-only flags to rustc; the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1
# No sanitizer: cairn forbids unsafe code, and an uninstrumented build is much quicker to build
# and to run. Line tables only, so a crash still has a readable backtrace.
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
FUZZ_FLAGS=(--sanitizer none)

start=$SECONDS
cargo fuzz build "${FUZZ_FLAGS[@]}"
echo "fuzz: built in $((SECONDS - start)) s"

# New inputs go to a scratch corpus (first directory); the committed seeds are only read.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in $(cargo fuzz list); do
  mkdir -p "$scratch/$target"
  echo "== fuzz: $target (${SECONDS_PER_TARGET} s)"
  log="$scratch/$target.log"
  status=0
  cargo fuzz run "${FUZZ_FLAGS[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 80 "$log"
    echo "fuzz: $target failed (exit $status); the input is in fuzz/artifacts/$target/;" \
      "reproduce with: cargo fuzz run ${FUZZ_FLAGS[*]} $target <that file>" >&2
    exit "$status"
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
done
echo "fuzz: all targets passed in $((SECONDS - start)) s"
